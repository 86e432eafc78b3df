/* SPDX-License-Identifier: GPL-2.0-only */
/* Messages by level, in one place. Every module says what it has to say through these;
 * -q keeps warnings and errors, -v adds debug (libbpf's own messages, one level down).
 * On a terminal or a plain file each line reads "tunflow: ...". When stderr is the
 * journal (systemd sets JOURNAL_STREAM to it), each line starts with its syslog
 * priority ("<4>"), which journald reads as the message's level. Nothing in these lines
 * is colour or cursor control. */
#ifndef TUNFLOW_LOG_H
#define TUNFLOW_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERR = 3, /* syslog priorities */
	LOG_LVL_WARN = 4,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Show messages at this level and more severe ones (default LOG_LVL_INFO). */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Route libbpf's messages here (warnings as debug), and decide the line format. */
void log_init(void);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

/* While a full-screen view owns the terminal: every message that would be shown goes to
 * fn instead of stderr (from any thread), as text without the "tunflow: " prefix. NULL
 * restores stderr. Set and cleared while no other thread logs. */
typedef void (*log_hook_fn)(enum log_level lvl, const char *text, void *arg);
void log_set_hook(log_hook_fn fn, void *arg);

#define pr_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif

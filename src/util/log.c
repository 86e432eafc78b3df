// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include "util/log.h"

static enum log_level level = LOG_LVL_INFO;
static int journal = -1; /* -1: not decided yet */

static log_hook_fn hook;
static void *hook_arg;

void log_set_level(enum log_level lvl) { level = lvl; }

void log_set_hook(log_hook_fn fn, void *arg)
{
	hook = fn;
	hook_arg = arg;
}

enum log_level log_get_level(void) { return level; }

/* Whether stderr is the journal's stream: JOURNAL_STREAM is "DEV:INODE" of it. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char *end;

	if (!js)
		return 0;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (errno || end == js || *end != ':')
		return 0;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (errno || end == js || *end || fstat(STDERR_FILENO, &st))
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[1024];
	int n, p;

	if (lvl > level)
		return;
	if (hook) {
		vsnprintf(line, sizeof(line), fmt, ap);
		hook(lvl, line, hook_arg);
		return;
	}
	if (journal < 0)
		journal = stderr_is_journal();
	p = journal ? snprintf(line, sizeof(line), "<%d>tunflow: ", lvl)
	            : snprintf(line, sizeof(line), "tunflow: ");
	n = vsnprintf(line + p, sizeof(line) - p - 1, fmt, ap);
	if (n < 0)
		return;
	/* A line longer than the buffer is cut: a message quotes outside input at most
	 * this long. One write per line, so the lines of two threads never mix. */
	n = p + ((size_t)n < sizeof(line) - p - 1 ? n : (int)sizeof(line) - p - 2);
	while (n > p && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere left to say it */
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}

/* libbpf's messages, one level down: even its warnings (the verifier log among them)
 * are tunflow's debug, shown with -v only, as libbpf wrote them. */
static int libbpf_print(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	(void)l;
	if (level < LOG_LVL_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void log_init(void) { libbpf_set_print(libbpf_print); }

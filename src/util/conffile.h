/* SPDX-License-Identifier: GPL-2.0-only */
/* The config file's syntax, and nothing of its meaning: one "key = value" a line;
 * blank lines and lines whose first non-blank character is '#' are skipped (a '#'
 * later in a line is part of the value); blanks around key and value are dropped, and
 * one pair of matching quotes ("..." or '...') around the value. A line is at most
 * CONFFILE_LINE_MAX bytes; a NUL byte is refused (not a text file). */
#ifndef TUNFLOW_CONFFILE_H
#define TUNFLOW_CONFFILE_H

#include <stddef.h>

#define CONFFILE_LINE_MAX 4095 /* bytes in a line, without its newline */

/* One key and its value (both NUL-terminated, value writable; both gone after the call:
 * copy what is kept). 0, or -EINVAL with a one-line message in err. */
typedef int (*conffile_cb)(void *arg, const char *key, char *value, size_t line, char *err,
                           size_t errlen);

/* Every line of buf (len bytes; need not be NUL-terminated) through cb, stopping at the
 * first error. 0, or -EINVAL with the message (without "FILE:LINE: ") in err and the
 * line number (from 1) in *errline. */
int conffile_parse(const char *buf, size_t len, conffile_cb cb, void *arg, size_t *errline,
                   char *err, size_t errlen);

#endif

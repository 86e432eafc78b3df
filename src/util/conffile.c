// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "util/conffile.h"
#include "util/text.h"

#define QUOTE_MAX 80 /* bytes of a bad line quoted in a message */

static bool blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; }

/* s without blanks at either end (in place). */
static char *trim(char *s)
{
	size_t n;

	while (blank(*s))
		s++;
	n = strlen(s);
	while (n && blank(s[n - 1]))
		s[--n] = 0;
	return s;
}

static int one_line(char *line, conffile_cb cb, void *arg, size_t lineno, char *err, size_t errlen)
{
	char *eq, *key, *value, *q;
	size_t n;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		q = text_clean(line, strlen(line), QUOTE_MAX);
		snprintf(err, errlen,
		         "'%s' is not 'key = value': write KEY = VALUE, or '#' first "
		         "for a comment",
		         q);
		g_free(q);
		return -EINVAL;
	}
	*eq = 0;
	key = trim(line);
	value = trim(eq + 1);
	if (!*key) {
		snprintf(err, errlen, "no key before '=': write KEY = VALUE");
		return -EINVAL;
	}
	n = strlen(value);
	if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
		value[n - 1] = 0;
		value++;
	}
	return cb(arg, key, value, lineno, err, errlen);
}

int conffile_parse(const char *buf, size_t len, conffile_cb cb, void *arg, size_t *errline,
                   char *err, size_t errlen)
{
	char line[CONFFILE_LINE_MAX + 1];
	size_t lineno = 0;

	for (size_t at = 0; at < len;) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (buf + at)) : len - at;
		int ret;

		lineno++;
		*errline = lineno;
		if (n > CONFFILE_LINE_MAX) {
			snprintf(err, errlen, "line longer than %d bytes: shorten it",
			         CONFFILE_LINE_MAX);
			return -EINVAL;
		}
		if (memchr(buf + at, 0, n)) {
			snprintf(err, errlen, "a NUL byte: this is not a text file");
			return -EINVAL;
		}
		memcpy(line, buf + at, n);
		line[n] = 0;
		ret = one_line(line, cb, arg, lineno, err, errlen);
		if (ret)
			return ret;
		at += n + 1;
	}
	return 0;
}

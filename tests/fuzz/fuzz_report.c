// SPDX-License-Identifier: GPL-2.0-only
/* `tunflow report`'s parsers and its row printing, on any bytes. The first byte picks:
 *   0: --since/--until (report_parse_time): an accepted date is whole seconds after 1970,
 *      the same twice; an age is before now;
 *   1: who's target (report_parse_target): a prefix's first address is not after its
 *      last and both agree outside the prefix length; a name is lower case, of the
 *      characters a name has;
 *   2: text cells from a store (NUL-separated) as JSON and CSV rows: one line a row, no
 *      raw control character, valid UTF-8 (a store is outside input). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "history/backend.h"

#define NOW 1795737600000000000LL /* 2026-11-27T00:00Z */

static void times(const char *s)
{
	__s64 a = 0, b = 0;

	if (report_parse_time(s, NOW, &a))
		return;
	if (report_parse_time(s, NOW, &b) || a != b)
		abort();
	if (s[0] >= '0' && s[0] <= '9' && strlen(s) >= 10 && s[4] == '-') {
		if (a < 0 || a % 1000000000LL)
			abort();
	} else if (a > NOW) {
		abort();
	}
}

static void target(const char *s)
{
	struct report_target t;

	if (report_parse_target(s, &t))
		return;
	if (t.kind == TARGET_PREFIX) {
		if (memcmp(t.lo, t.hi, 16) > 0 || (t.ip_version != 4 && t.ip_version != 6))
			abort();
	} else if (t.kind == TARGET_NAME) {
		for (const char *p = t.name; *p; p++)
			if ((*p >= 'A' && *p <= 'Z') || !strchr("abcdefghijklmnopqrstuvwxyz"
			                                        "0123456789-_.",
			                                        *p))
				abort();
		g_free((char *)t.name);
	} else {
		abort();
	}
}

static void rows(const char *data, size_t size)
{
	static const struct column cols[] = {{"user", COL_TEXT}, {"bytes_in", COL_BYTES},
	                                     {"name", COL_TEXT}};
	struct rows r;
	const char *p = data, *end = data + size;
	size_t nrows = 0;

	rows_init(&r, cols, 3);
	while (p < end && nrows < 64) {
		const char *a = p, *b = memchr(p, 0, end - p);
		struct cell c[3] = {{.s = a}, {.i = (__s64)size * 1000003}, {.s = NULL}};

		if (!b)
			break;
		p = b + 1;
		b = memchr(p, 0, end - p);
		if (b) {
			c[2].s = p;
			p = b + 1;
		}
		rows_add(&r, c);
		nrows++;
	}
	for (int fmt = FMT_JSON; fmt <= FMT_CSV; fmt++) {
		char *buf = NULL;
		size_t len = 0, lines = 0;
		FILE *f = open_memstream(&buf, &len);

		rows_print(f, &r, fmt);
		fclose(f);
		if (!g_utf8_validate(buf, (gssize)len, NULL))
			abort();
		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '\n')
				lines++;
			else if ((unsigned char)buf[i] < 0x20)
				abort();
		}
		if (lines != nrows + (fmt == FMT_CSV))
			abort();
		free(buf);
	}
	rows_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 4096)
		return 0;
	s = g_strndup((const char *)data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		times(s);
		break;
	case 1:
		target(s);
		break;
	default:
		rows((const char *)data + 1, size - 1);
		break;
	}
	g_free(s);
	return 0;
}

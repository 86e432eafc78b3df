// SPDX-License-Identifier: GPL-2.0-only
/* The sanitising and escaping functions: text_clean(), json_str(), csv_str().
 * Input: one byte giving text_clean()'s max, then the string.
 * Checked against an independent reference built on GLib's UTF-8 decoder:
 *  - text_clean: valid UTF-8, no unsafe character, at most max bytes, idempotent, equal
 *    to the reference when unbounded, a prefix of it plus "..." when cut, the input
 *    itself when that was clean and fits;
 *  - json_str: valid UTF-8 with no raw control, a JSON string that a strict decoder
 *    reads back as the reference (so a clean input comes back as itself);
 *  - csv_str: an RFC 4180 cell with no line break that reads back as the reference,
 *    with a "'" put first when the input started as a formula. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "util/fmt.h"
#include "util/text.h"

/* Not text_unsafe(): a copy of the list, so that a change to one shows. */
static bool unsafe(gunichar c)
{
	return c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0x2028 || c == 0x2029 ||
	       c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

static void hexbyte(GString *o, unsigned char b)
{
	g_string_append_printf(o, "\\x%02x", b);
}

/* Reference: every bad byte as "\xHH"; unsafe characters as "\xHH" per byte when
 * esc_unsafe, else kept (what text_clean() makes without a bound, when esc_unsafe). */
static GString *reference(const char *s, size_t n, bool esc_unsafe)
{
	GString *o = g_string_new(NULL);

	for (size_t i = 0; i < n;) {
		gunichar c = g_utf8_get_char_validated(s + i, n - i);
		size_t len;

		if (c == (gunichar)-1 || c == (gunichar)-2) { /* -2 also for NUL */
			hexbyte(o, s[i]);
			i++;
			continue;
		}
		len = g_utf8_skip[(unsigned char)s[i]];
		if (esc_unsafe && unsafe(c))
			for (size_t k = 0; k < len; k++)
				hexbyte(o, s[i + k]);
		else
			g_string_append_len(o, s + i, len);
		i += len;
	}
	return o;
}

static bool all_safe(const char *s)
{
	if (!g_utf8_validate(s, -1, NULL))
		return false;
	for (; *s; s = g_utf8_next_char(s))
		if (unsafe(g_utf8_get_char(s)))
			return false;
	return true;
}

static char *written(void (*fn)(FILE *, const char *), const char *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	fn(f, s);
	fclose(f);
	return buf;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
		: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A strict JSON string decoder (RFC 8259): NULL when j is not exactly one string. */
static GString *json_decode(const char *j, size_t n)
{
	GString *o = g_string_new(NULL);
	size_t i = 1;

	if (n < 2 || j[0] != '"' || j[n - 1] != '"')
		goto bad;
	while (i < n - 1) {
		unsigned char c = j[i];

		if (c < 0x20 || c == '"')
			goto bad;
		if (c != '\\') {
			g_string_append_c(o, c);
			i++;
			continue;
		}
		if (i + 1 >= n - 1)
			goto bad;
		switch (j[i + 1]) {
		case '"': g_string_append_c(o, '"'); break;
		case '\\': g_string_append_c(o, '\\'); break;
		case '/': g_string_append_c(o, '/'); break;
		case 'b': g_string_append_c(o, '\b'); break;
		case 'f': g_string_append_c(o, '\f'); break;
		case 'n': g_string_append_c(o, '\n'); break;
		case 'r': g_string_append_c(o, '\r'); break;
		case 't': g_string_append_c(o, '\t'); break;
		case 'u': {
			gunichar u = 0;

			if (i + 6 > n - 1)
				goto bad;
			for (int k = 2; k < 6; k++) {
				int h = hexval(j[i + k]);

				if (h < 0)
					goto bad;
				u = u << 4 | h;
			}
			if (u >= 0xd800 && u < 0xe000) /* json_str never needs a pair */
				goto bad;
			g_string_append_unichar(o, u);
			i += 6;
			continue;
		}
		default:
			goto bad;
		}
		i += 2;
	}
	return o;
bad:
	g_string_free(o, TRUE);
	return NULL;
}

/* An RFC 4180 cell: NULL when c is not one, or holds a line break. */
static GString *csv_decode(const char *c, size_t n)
{
	GString *o = g_string_new(NULL);

	if (memchr(c, '\n', n) || memchr(c, '\r', n))
		goto bad;
	if (n == 0 || c[0] != '"') {
		if (memchr(c, '"', n) || memchr(c, ',', n))
			goto bad;
		g_string_append_len(o, c, n);
		return o;
	}
	if (n < 2 || c[n - 1] != '"')
		goto bad;
	for (size_t i = 1; i < n - 1; i++) {
		if (c[i] == '"') {
			if (i + 1 >= n - 1 || c[i + 1] != '"')
				goto bad;
			i++;
		}
		g_string_append_c(o, c[i]);
	}
	return o;
bad:
	g_string_free(o, TRUE);
	return NULL;
}

/* s: the n bytes; z: the same up to the first NUL, NUL-terminated */
static void check_clean(const char *s, size_t n, const char *z, size_t max)
{
	char *full = text_clean(s, n, (size_t)-1);
	char *out = text_clean(s, n, max);
	size_t olen = strlen(out);
	GString *ref = reference(s, n, true);
	char *again;

	if (strcmp(full, ref->str))
		abort(); /* unbounded: exactly the reference */
	if (olen > max || !all_safe(out))
		abort();
	if (strcmp(out, full)) {
		/* cut: a prefix of the whole, then "..." (shortened when max < 3) */
		if (strlen(full) <= max)
			abort(); /* cut though it fits */
		if (max >= 3 && (olen < 3 || strcmp(out + olen - 3, "...") ||
				 strncmp(out, full, olen - 3) || olen + TEXT_ESC_MAX <= max))
			abort();
	}
	again = text_clean(out, olen, max);
	if (strcmp(again, out))
		abort(); /* not idempotent */
	if (text_is_clean(out) != true)
		abort();
	if (text_is_clean(z) != all_safe(z))
		abort();
	if (strlen(z) == n && text_is_clean(z) && n <= max && strcmp(out, z))
		abort(); /* clean and fits: unchanged */
	g_free(again);
	g_string_free(ref, TRUE);
	g_free(out);
	g_free(full);
}

static void check_json(const char *s)
{
	size_t len;
	char *j = written(json_str, s, &len);
	GString *d, *ref = reference(s, strlen(s), true);

	if (strlen(j) != len || !all_safe(j))
		abort(); /* valid UTF-8, no raw control or unsafe character */
	d = json_decode(j, len);
	if (!d || strcmp(d->str, ref->str))
		abort();
	if (all_safe(s) && strcmp(d->str, s))
		abort(); /* a clean string comes back as it was */
	g_string_free(d, TRUE);
	g_string_free(ref, TRUE);
	free(j);
}

static void check_csv(const char *s)
{
	size_t len;
	char *c = written(csv_str, s, &len);
	GString *d, *ref = reference(s, strlen(s), true);

	if (strlen(c) != len || !all_safe(c))
		abort();
	d = csv_decode(c, len);
	if (!d)
		abort();
	if (s[0] && strchr("=+-@\t\r", s[0]))
		g_string_prepend_c(ref, '\'');
	if (strcmp(d->str, ref->str) || (d->str[0] && strchr("=+-@\t\r", d->str[0])))
		abort();
	g_string_free(d, TRUE);
	g_string_free(ref, TRUE);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 1024) /* names are short: keep the corpus small */
		return 0;
	s = g_strndup((const char *)data + 1, size - 1); /* up to the first NUL */
	check_clean((const char *)data + 1, size - 1, s, data[0]);
	check_clean((const char *)data + 1, size - 1, s, TEXT_NAME_MAX);
	check_json(s);
	check_csv(s);
	g_free(s);
	return 0;
}

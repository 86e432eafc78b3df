// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "util/text.h"

long utf8_next(const char *s, size_t n, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t more;
	long cp;

	if (c < 0x80) {
		*len = 1;
		return c;
	}
	if (c < 0xc2 || c > 0xf4) /* a continuation byte, an overlong lead, beyond U+10FFFF */
		return -1;
	if (c < 0xe0) {
		more = 1;
		cp = c & 0x1f;
	} else if (c < 0xf0) {
		more = 2;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else {
		more = 3;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	}
	if (n <= more)
		return -1;
	for (size_t i = 1; i <= more; i++) {
		unsigned char b = p[i];

		if (b < lo || b > hi)
			return -1;
		lo = 0x80;
		hi = 0xbf;
		cp = cp << 6 | (b & 0x3f);
	}
	*len = more + 1;
	return cp;
}

bool text_unsafe(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

size_t text_piece(const char *s, size_t n, size_t *used, char esc[TEXT_ESC_MAX], const char **piece)
{
	static const char hex[] = "0123456789abcdef";
	size_t len, out = 0;
	long cp = utf8_next(s, n, &len);

	if (cp >= 0 && !text_unsafe(cp)) {
		*used = len;
		*piece = s;
		return len;
	}
	if (cp < 0)
		len = 1; /* one bad byte; what follows it gets its own look */
	for (size_t i = 0; i < len; i++) {
		unsigned char b = s[i];

		esc[out++] = '\\';
		esc[out++] = 'x';
		esc[out++] = hex[b >> 4];
		esc[out++] = hex[b & 15];
	}
	*used = len;
	*piece = esc;
	return out;
}

char *text_clean(const char *s, size_t len, size_t max)
{
	GString *out = g_string_sized_new((len < max ? len : max) + 1);
	size_t cut = 0; /* the longest output so far that leaves room for "..." */

	for (size_t i = 0, used; i < len; i += used) {
		char esc[TEXT_ESC_MAX];
		const char *piece;
		size_t plen = text_piece(s + i, len - i, &used, esc, &piece);

		if (out->len + plen > max) {
			g_string_truncate(out, cut);
			g_string_append(out, "...");
			if (out->len > max) /* max < 3 */
				g_string_truncate(out, max);
			break;
		}
		g_string_append_len(out, piece, plen);
		if (out->len + 3 <= max)
			cut = out->len;
	}
	return g_string_free(out, FALSE);
}

bool text_is_clean(const char *s)
{
	size_t n = strlen(s), len;

	for (size_t i = 0; i < n; i += len) {
		long cp = utf8_next(s + i, n - i, &len);

		if (cp < 0 || text_unsafe(cp))
			return false;
	}
	return true;
}

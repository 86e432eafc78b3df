// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "util/text.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	gunichar c = g_utf8_get_char_validated((const char *)s, n);
	size_t len;

	if (c == (gunichar)-1 || c == (gunichar)-2)
		return 0;
	len = g_unichar_to_utf8(c, NULL);
	return len <= n ? len : 0;
}

static bool is_control(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
}

char *text_clean(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	GString *out = g_string_sized_new(len < max ? len + 1 : max + 1);

	for (size_t i = 0; i < len;) {
		size_t n = p[i] ? utf8_len(p + i, len - i) : 0;
		char esc[12];
		const char *piece;
		size_t plen;

		if (n && !is_control(g_utf8_get_char((const char *)p + i))) {
			piece = (const char *)p + i;
			plen = n;
		} else {
			n = n ? n : 1;
			/* the first byte stands for a control character or a bad byte */
			plen = snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			if (n > 1) /* a C1 control, two bytes in UTF-8 */
				plen += snprintf(esc + plen, sizeof(esc) - plen, "\\x%02x", p[i + 1]);
			piece = esc;
		}
		if (out->len + plen > max - 3) {
			g_string_append(out, "...");
			break;
		}
		g_string_append_len(out, piece, plen);
		i += n;
	}
	return g_string_free(out, FALSE);
}

bool text_is_clean(const char *s)
{
	const char *end;

	if (!g_utf8_validate(s, -1, &end))
		return false;
	for (const char *p = s; *p; p = g_utf8_next_char(p))
		if (is_control(g_utf8_get_char(p)))
			return false;
	return true;
}

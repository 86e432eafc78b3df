// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "names/name.h"

/* A port after the last ':' (digits only, maybe empty as RFC 3986 allows), cut off. */
static size_t strip_port(const char *in, size_t len, int *bad)
{
	const char *colon = memchr(in, ':', len);

	*bad = 0;
	if (!colon)
		return len;
	for (const char *p = colon + 1; p < in + len; p++)
		if (*p < '0' || *p > '9' || p - colon > 5)
			*bad = 1; /* a second ':' (an IPv6 literal), letters, > 5 digits */
	return colon - in;
}

int name_clean(const char *in, size_t len, char out[NAME_BUF])
{
	size_t n, label = 0, o = 0;
	int bad;
	bool digits_only = true; /* the last label so far */

	out[0] = 0;
	n = strip_port(in, len, &bad);
	if (bad)
		goto bad;
	if (n && in[n - 1] == '.')
		n--; /* the root's dot of a fully qualified name */
	if (n == 0 || n > NAME_MAX_LEN)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c >= 'A' && c <= 'Z')
			c = c - 'A' + 'a';
		if (c == '.') {
			if (label == 0)
				goto bad; /* an empty label: "a..b", ".a" */
			label = 0;
			digits_only = true;
		} else if ((c >= 'a' && c <= 'z') || c == '-' || c == '_') {
			label++;
			digits_only = false;
		} else if (c >= '0' && c <= '9') {
			label++;
		} else {
			goto bad;
		}
		if (label > 63)
			goto bad; /* RFC 1035 2.3.4 */
		out[o++] = c;
	}
	out[o] = 0;
	/* an all-numeric top label is an address ("192.0.2.1"), not a name (RFC 3696 2) */
	if (digits_only)
		goto bad;
	return 0;
bad:
	out[0] = 0;
	return -EBADMSG;
}

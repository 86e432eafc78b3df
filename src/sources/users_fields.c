// SPDX-License-Identifier: GPL-2.0-only
/* What every parser of a users source shares: user names cleaned and interned, addresses
 * and prefixes parsed, address tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <glib.h>
#include "util/hash.h"
#include "util/text.h"
#include "sources/users_priv.h"

const char *users_intern(struct users *u, const char *s, size_t len)
{
	char *clean = text_clean(s, len, TEXT_NAME_MAX);
	const char *i = g_hash_table_lookup(u->interned, clean);

	if (!i) {
		i = g_string_chunk_insert(u->strings, clean);
		g_hash_table_add(u->interned, (gpointer)i);
	}
	g_free(clean);
	return i;
}

GHashTable *users_addr_table(void)
{
	return g_hash_table_new_full(addr16_hash, addr16_equal, g_free, NULL);
}

bool users_parse_addr(const char *s, __u8 out[16], int *plen)
{
	char buf[64];
	char *slash;
	long len = -1;
	struct in_addr a4;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return false;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		/* decimal digits only: no sign, no spaces, no "0x" */
		if (!*slash || strlen(slash) > 3 || strspn(slash, "0123456789") != strlen(slash))
			return false;
		len = strtol(slash, NULL, 10);
	}
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (len > 32)
			return false;
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		*plen = len < 0 ? 128 : 96 + (int)len;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out) == 1 && len <= 128) {
		*plen = len < 0 ? 128 : (int)len;
		return true;
	}
	return false;
}

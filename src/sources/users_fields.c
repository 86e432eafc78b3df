// SPDX-License-Identifier: GPL-2.0-only
/* What every parser of a users source shares: user names cleaned and interned, addresses
 * tables. */
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

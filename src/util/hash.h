/* SPDX-License-Identifier: GPL-2.0-only */
/* One hash for the keys tunflow's tables use: the flow key and 16-byte addresses. Both
 * are zero-padded, so every byte is meaningful and equality is memcmp. GHashTable
 * signatures. */
#ifndef TUNFLOW_HASH_H
#define TUNFLOW_HASH_H

#include <stddef.h>
#include <glib.h>

/* nwords 32-bit words at p (any alignment): multiply-xorshift per word, then the
 * murmur3 finaliser. */
guint hash_words(const void *p, size_t nwords);

/* struct flow_key */
guint flow_key_hash(gconstpointer key);
gboolean flow_key_equal(gconstpointer a, gconstpointer b);

/* an address as struct flow_key holds it: 16 bytes, IPv4 mapped */
guint addr16_hash(gconstpointer addr);
gboolean addr16_equal(gconstpointer a, gconstpointer b);

#endif

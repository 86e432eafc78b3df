// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include "flow.h"
#include "util/hash.h"

guint hash_words(const void *p, size_t nwords)
{
	const unsigned char *b = p;
	guint32 h = 0x9e3779b9u;

	for (size_t i = 0; i < nwords; i++) {
		guint32 w;

		memcpy(&w, b + 4 * i, 4);
		h ^= w * 0xcc9e2d51u;
		h = (h << 13 | h >> 19) * 5 + 0xe6546b64u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

_Static_assert(sizeof(struct flow_key) % 4 == 0, "flow_key is whole 32-bit words");

guint flow_key_hash(gconstpointer key) { return hash_words(key, sizeof(struct flow_key) / 4); }

gboolean flow_key_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct flow_key));
}

guint addr16_hash(gconstpointer addr) { return hash_words(addr, 4); }

gboolean addr16_equal(gconstpointer a, gconstpointer b) { return !memcmp(a, b, 16); }

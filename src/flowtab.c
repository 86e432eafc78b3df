// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "flowtab.h"

struct flowtab {
	GHashTable *h;
	__u64 gen;
	struct flow **sorted;
	size_t cap;
};

static guint key_hash(gconstpointer p)
{
	/* FNV-1a over the whole key: it is zero-padded, so every byte is meaningful */
	const unsigned char *b = p;
	guint32 h = 2166136261u;

	for (size_t i = 0; i < sizeof(struct flow_key); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct flow_key));
}

struct flowtab *flowtab_new(void)
{
	struct flowtab *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	/* the key lives inside the flow: one allocation per flow, freed with the value */
	ft->h = g_hash_table_new_full(key_hash, key_equal, NULL, free);
	return ft;
}

void flowtab_free(struct flowtab *ft)
{
	if (!ft)
		return;
	g_hash_table_destroy(ft->h);
	free(ft->sorted);
	free(ft);
}

__u64 flowtab_begin(struct flowtab *ft)
{
	return ++ft->gen;
}

int flowtab_add(struct flowtab *ft, const struct flow_key *key, const struct flow_stats *st)
{
	struct flow *f = g_hash_table_lookup(ft->h, key);

	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return -ENOMEM;
		f->key = *key;
		f->first_ns = st->first_ns;
		g_hash_table_insert(ft->h, &f->key, f);
	}
	if (f->gen != ft->gen) {
		f->gen = ft->gen;
		f->d_packets = f->d_bytes = 0;
		f->d_tcp_flags = 0;
		f->d_first_ns = st->first_ns;
	}
	f->packets += st->packets;
	f->bytes += st->bytes;
	f->d_packets += st->packets;
	f->d_bytes += st->bytes;
	f->tcp_flags |= st->tcp_flags;
	f->d_tcp_flags |= st->tcp_flags;
	if (st->first_ns < f->first_ns)
		f->first_ns = st->first_ns;
	if (st->first_ns < f->d_first_ns)
		f->d_first_ns = st->first_ns;
	if (st->last_ns > f->last_ns)
		f->last_ns = st->last_ns;
	return 0;
}

static gboolean idle(gpointer key, gpointer value, gpointer before)
{
	(void)key;
	return ((struct flow *)value)->last_ns < *(__u64 *)before;
}

size_t flowtab_expire(struct flowtab *ft, __u64 before_ns)
{
	return g_hash_table_foreach_remove(ft->h, idle, &before_ns);
}

size_t flowtab_size(const struct flowtab *ft)
{
	return g_hash_table_size(ft->h);
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key)); /* stable order for equal flows */
}

struct flow **flowtab_sorted(struct flowtab *ft, size_t *n)
{
	GHashTableIter it;
	gpointer k, v;
	size_t i = 0, size = g_hash_table_size(ft->h);

	if (size > ft->cap) {
		struct flow **s = realloc(ft->sorted, size * sizeof(*s));

		if (!s) {
			*n = 0;
			return ft->sorted;
		}
		ft->sorted = s;
		ft->cap = size;
	}
	g_hash_table_iter_init(&it, ft->h);
	while (g_hash_table_iter_next(&it, &k, &v))
		ft->sorted[i++] = v;
	qsort(ft->sorted, i, sizeof(*ft->sorted), by_bytes_desc);
	*n = i;
	return ft->sorted;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "core/flowtab.h"

/* Flows come from chunks of FLOWS_PER_CHUNK and go back to a free list: no malloc
 * header per flow, and one allocation per thousand flows on the harvest path. */
#define FLOWS_PER_CHUNK 1024

struct chunk {
	struct chunk *next;
	struct flow flows[FLOWS_PER_CHUNK];
};

struct flowtab {
	GHashTable *h;
	__u64 gen;
	struct flow **list;
	size_t cap;
	struct chunk *chunks;
	struct flow *free; /* a free flow's first bytes hold the next free flow */
	__u64 expire_before;
};

static struct flow *flow_get(struct flowtab *ft)
{
	struct flow *f;

	if (!ft->free) {
		struct chunk *c = malloc(sizeof(*c));

		if (!c)
			return NULL;
		c->next = ft->chunks;
		ft->chunks = c;
		for (int i = FLOWS_PER_CHUNK - 1; i >= 0; i--) {
			memcpy(&c->flows[i], &ft->free, sizeof(ft->free));
			ft->free = &c->flows[i];
		}
	}
	f = ft->free;
	memcpy(&ft->free, f, sizeof(ft->free));
	memset(f, 0, sizeof(*f));
	return f;
}

static void flow_put(struct flowtab *ft, struct flow *f)
{
	memcpy(f, &ft->free, sizeof(ft->free));
	ft->free = f;
}

static guint key_hash(gconstpointer p)
{
	/* the key is zero-padded, so every byte is meaningful: mix its eleven 32-bit words
	 * (multiply-xorshift per word, then a murmur3 finaliser) */
	const struct flow_key *k = p;
	guint32 w[sizeof(*k) / 4], h = 0x9e3779b9u;

	memcpy(w, k, sizeof(w));
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		h ^= w[i] * 0xcc9e2d51u;
		h = (h << 13 | h >> 19) * 5 + 0xe6546b64u;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
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
	/* the key lives inside the flow, which the table's pool owns */
	ft->h = g_hash_table_new(key_hash, key_equal);
	return ft;
}

void flowtab_free(struct flowtab *ft)
{
	if (!ft)
		return;
	g_hash_table_destroy(ft->h);
	while (ft->chunks) {
		struct chunk *c = ft->chunks;

		ft->chunks = c->next;
		free(c);
	}
	free(ft->list);
	free(ft);
}

__u64 flowtab_begin(struct flowtab *ft)
{
	return ++ft->gen;
}

const char *const end_names[END_MAX] = {
	[END_NONE] = "",
	[END_IFACE_GONE] = "interface gone",
	[END_IDLE] = "idle timeout",
	[END_ACTIVE] = "active timeout",
	[END_TCP] = "tcp end",
	[END_EXIT] = "tunflow exit",
};

struct flow *flowtab_add(struct flowtab *ft, const struct flow_key *key,
			 const struct flow_stats *st)
{
	struct flow *f = g_hash_table_lookup(ft->h, key);

	if (!f) {
		f = flow_get(ft);
		if (!f)
			return NULL;
		f->key = *key;
		f->first_ns = st->first_ns;
		g_hash_table_insert(ft->h, &f->key, f);
	}
	if (f->gen != ft->gen) {
		f->gen = ft->gen;
		f->d_packets = f->d_bytes = 0;
		f->d_tcp_flags = 0;
	}
	f->packets += st->packets;
	f->bytes += st->bytes;
	f->d_packets += st->packets;
	f->d_bytes += st->bytes;
	f->tcp_flags |= st->tcp_flags;
	f->d_tcp_flags |= st->tcp_flags;
	if (st->first_ns < f->first_ns)
		f->first_ns = st->first_ns;
	if (st->last_ns > f->last_ns)
		f->last_ns = st->last_ns;
	return f;
}

static gboolean idle(gpointer key, gpointer value, gpointer data)
{
	struct flowtab *ft = data;
	struct flow *f = value;

	(void)key;
	if (f->last_ns >= ft->expire_before)
		return FALSE;
	flow_put(ft, f); /* the table drops its pointers to f right after this returns */
	return TRUE;
}

size_t flowtab_expire(struct flowtab *ft, __u64 before_ns)
{
	ft->expire_before = before_ns;
	return g_hash_table_foreach_remove(ft->h, idle, ft);
}

size_t flowtab_end_ifaces(struct flowtab *ft, const int *ifindexes, size_t n,
			  enum end_reason why)
{
	GHashTableIter it;
	gpointer k, v;
	size_t ended = 0;

	if (!n)
		return 0;
	g_hash_table_iter_init(&it, ft->h);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct flow *f = v;

		for (size_t i = 0; i < n && !f->end; i++)
			if (f->key.ifindex == (__u32)ifindexes[i]) {
				f->end = why;
				ended++;
			}
	}
	return ended;
}

static gboolean ended(gpointer key, gpointer value, gpointer data)
{
	struct flow *f = value;

	(void)key;
	if (!f->end)
		return FALSE;
	flow_put(data, f);
	return TRUE;
}

size_t flowtab_drop_ended(struct flowtab *ft)
{
	return g_hash_table_foreach_remove(ft->h, ended, ft);
}

int flow_cmp_bytes(const void *a, const void *b)
{
	const struct flow *x = *(struct flow *const *)a, *y = *(struct flow *const *)b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key)); /* stable order for equal flows */
}

struct flow **flowtab_list(struct flowtab *ft, size_t *n)
{
	GHashTableIter it;
	gpointer k, v;
	size_t i = 0, size = g_hash_table_size(ft->h);

	if (size > ft->cap) {
		struct flow **s = realloc(ft->list, size * sizeof(*s));

		if (!s) {
			*n = 0;
			return ft->list;
		}
		ft->list = s;
		ft->cap = size;
	}
	g_hash_table_iter_init(&it, ft->h);
	while (g_hash_table_iter_next(&it, &k, &v))
		ft->list[i++] = v;
	*n = i;
	return ft->list;
}

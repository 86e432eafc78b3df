// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "core/flowtab.h"
#include "util/hash.h"

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
	struct lru live; /* flows not ended, least recently harvested first */
	size_t max;      /* live flows at most; 0: no bound */
	__u64 evicted;
	struct flow **changed; /* added, updated or ended in generation gen */
	size_t nchanged, changed_cap;
	struct flow **forgot; /* forgotten by the last expiry, freed by the next */
	size_t nforgot, forgot_cap;
};

/* Append f to a growing array; false when out of memory. */
static bool push(struct flow ***v, size_t *n, size_t *cap, struct flow *f)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct flow **nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return false;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = f;
	return true;
}

/* Put f on this generation's changed list, once. */
static void mark_changed(struct flowtab *ft, struct flow *f)
{
	if (f->listed == ft->gen)
		return;
	if (push(&ft->changed, &ft->nchanged, &ft->changed_cap, f))
		f->listed = ft->gen;
}

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
			memcpy((void *)&c->flows[i], &ft->free, sizeof(ft->free));
			ft->free = &c->flows[i];
		}
	}
	f = ft->free;
	memcpy(&ft->free, (void *)f, sizeof(ft->free));
	memset(f, 0, sizeof(*f));
	return f;
}

static void flow_put(struct flowtab *ft, struct flow *f)
{
	memcpy((void *)f, &ft->free, sizeof(ft->free));
	ft->free = f;
}

/* Idle longest: the earliest last packet. */
static __u64 flow_last(const struct lru_node *x) { return lru_entry(x, struct flow, lru)->last_ns; }

struct flowtab *flowtab_new(size_t max_flows)
{
	struct flowtab *ft = calloc(1, sizeof(*ft));

	if (!ft)
		return NULL;
	/* the key lives inside the flow, which the table's pool owns */
	ft->h = g_hash_table_new(flow_key_hash, flow_key_equal);
	ft->max = max_flows;
	lru_init(&ft->live);
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
	free(ft->changed);
	free(ft->forgot);
	free(ft);
}

__u64 flowtab_begin(struct flowtab *ft)
{
	lru_next_epoch(&ft->live);
	ft->nchanged = 0;
	return ++ft->gen;
}

const char *const name_source_names[NAME_SRC_MAX] = {
    [NAME_NONE] = "",   [NAME_DNS] = "dns",   [NAME_HTTP] = "http",
    [NAME_TLS] = "tls", [NAME_QUIC] = "quic",
};

const char *const end_names[END_MAX] = {
    [END_NONE] = "",
    [END_IFACE_GONE] = "interface gone",
    [END_IDLE] = "idle timeout",
    [END_ACTIVE] = "active timeout",
    [END_TCP] = "tcp end",
    [END_EXIT] = "tunflow exit",
    [END_EVICTED] = "evicted",
};

static void end_flow(struct flowtab *ft, struct flow *f, enum end_reason why)
{
	f->end = why;
	lru_remove(&ft->live, &f->lru);
	mark_changed(ft, f);
}

/* Make room for one more live flow. */
static void evict_oldest(struct flowtab *ft)
{
	struct lru_node *x = lru_oldest(&ft->live, flow_last);

	if (!x)
		return;
	end_flow(ft, lru_entry(x, struct flow, lru), END_EVICTED);
	ft->evicted++;
}

__u64 flowtab_evicted(const struct flowtab *ft) { return ft->evicted; }

struct flow *flowtab_add(struct flowtab *ft, const struct flow_key *key,
                         const struct flow_stats *st)
{
	struct flow *f = g_hash_table_lookup(ft->h, key);

	if (!f) {
		if (ft->max && ft->live.n >= ft->max)
			evict_oldest(ft);
		f = flow_get(ft);
		if (!f)
			return NULL;
		f->key = *key;
		f->first_ns = st->first_ns;
		g_hash_table_insert(ft->h, &f->key, f);
	}
	mark_changed(ft, f);
	if (f->gen != ft->gen && !f->held) {
		f->d_packets = f->d_bytes = 0;
		f->d_tcp_flags = 0;
	}
	f->gen = ft->gen;
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
	if (!f->end)
		lru_touch(&ft->live, &f->lru);
	return f;
}

/* Forget f: out of the table and the live list, kept readable until the next expiry. */
static bool forget(struct flowtab *ft, struct flow *f)
{
	if (!push(&ft->forgot, &ft->nforgot, &ft->forgot_cap, f))
		return false;
	lru_remove(&ft->live, &f->lru);
	g_hash_table_remove(ft->h, &f->key);
	return true;
}

size_t flowtab_expire(struct flowtab *ft, __u64 before_ns)
{
	struct lru_node *x, *prev;
	size_t listed = 0;

	for (size_t i = 0; i < ft->nforgot; i++)
		flow_put(ft, ft->forgot[i]);
	ft->nforgot = 0;
	/* earlier harvests: each one's run sorted by last packet when it reaches the idle
	 * end, so the walk stops at the first flow recent enough */
	while ((x = lru_oldest(&ft->live, flow_last)) && x->epoch < ft->live.epoch) {
		struct flow *f = lru_entry(x, struct flow, lru);

		if (f->last_ns >= before_ns || f->held || !forget(ft, f))
			break;
	}
	/* the latest harvest's run, in the order it found them */
	for (x = ft->live.head.prev; x != &ft->live.head && x->epoch == ft->live.epoch; x = prev) {
		struct flow *f = lru_entry(x, struct flow, lru);

		prev = x->prev;
		if (f->last_ns < before_ns && !f->held && forget(ft, f))
			listed += f->listed == ft->gen;
	}
	for (size_t i = 0; i < ft->nforgot; i++)
		ft->forgot[i]->listed = 0;
	if (listed) { /* out of the changed list too */
		size_t k = 0;

		for (size_t i = 0; i < ft->nchanged; i++)
			if (ft->changed[i]->listed == ft->gen)
				ft->changed[k++] = ft->changed[i];
		ft->nchanged = k;
	}
	return ft->nforgot;
}

struct flow **flowtab_forgotten(struct flowtab *ft, size_t *n)
{
	*n = ft->nforgot;
	return ft->forgot;
}

size_t flowtab_end_ifaces(struct flowtab *ft, const int *ifindexes, size_t n, enum end_reason why)
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
				end_flow(ft, f, why);
				ended++;
			}
	}
	return ended;
}

size_t flowtab_drop_ended(struct flowtab *ft)
{
	size_t k = 0, dropped = 0;

	/* every flow that ended since flowtab_begin() is on the changed list */
	for (size_t i = 0; i < ft->nchanged; i++) {
		struct flow *f = ft->changed[i];

		if (!f->end) {
			ft->changed[k++] = f;
			continue;
		}
		g_hash_table_remove(ft->h, &f->key);
		flow_put(ft, f); /* an ended flow is out of the live list already */
		dropped++;
	}
	ft->nchanged = k;
	return dropped;
}

struct flow **flowtab_changed(struct flowtab *ft, size_t *n)
{
	*n = ft->nchanged;
	return ft->changed;
}

size_t flowtab_count(const struct flowtab *ft) { return g_hash_table_size(ft->h); }

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

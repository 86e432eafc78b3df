// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include <netinet/in.h>
#include "core/records.h"
#include "util/hash.h"
#include "util/lru.h"

#define TCP_FIN 0x01
#define TCP_RST 0x04

/* records_emit() finds what is due without looking at every open record: the evicted
 * from their list, idle timeouts from the idle end of the open list, TCP ends from the
 * list of records that saw FIN both ways or RST, active timeouts from the oldest end of
 * the list in start order (a record with no packet since its last report waits off that
 * list until it has one), and all of them only at exit or when interfaces went. */
struct records {
	struct record_cfg cfg;
	GHashTable *h;       /* canonical key (owned by the entry) -> struct entry */
	struct lru open;     /* entries not ended, least recently added to first */
	struct lru by_start; /* entries not ended with packets to report, oldest start first */
	GPtrArray *ev;       /* entries evicted, out at the next emit */
	GPtrArray *tcp;      /* entries not ended whose TCP connection closed */
	GPtrArray *waked;    /* entries past their active timeout that got packets since */
	GPtrArray *done;     /* entries that ended in this emit, freed at its end */
	__u64 evicted;
	__u64 run, seq; /* record ids: this run's start, the last sequence number given */
};

struct entry {
	struct flow_key canon;
	struct record r;
	bool emitted;  /* a record of this flow went out: roles are fixed */
	bool waiting;  /* past its active timeout without packets: off by_start */
	bool done;     /* ended in this emit */
	size_t tcp_at; /* its place in tcp, plus one; 0: not there */
	struct lru_node lru;
	struct lru_node start;
};

/* Idle longest: the earliest last packet either way. */
static __u64 entry_last(const struct lru_node *x)
{
	return lru_entry(x, struct entry, lru)->r.last_ns;
}

/* The active timeout counts from the flow's start. */
static __u64 entry_start(const struct lru_node *x)
{
	return lru_entry(x, struct entry, start)->r.flow_start_ns;
}

static void tcp_remove(struct records *rt, struct entry *e)
{
	struct entry *last;

	if (!e->tcp_at)
		return;
	last = g_ptr_array_index(rt->tcp, rt->tcp->len - 1);
	rt->tcp->pdata[e->tcp_at - 1] = last;
	last->tcp_at = e->tcp_at;
	g_ptr_array_set_size(rt->tcp, rt->tcp->len - 1);
	e->tcp_at = 0;
}

/* ICMP echo request are one flow: name both by the request's type. */
static __u16 icmp_pair_type(__u8 proto, __u16 type)
{
	if (proto == IPPROTO_ICMP && type == 0)
		return 8;
	if (proto == IPPROTO_ICMPV6 && type == 129)
		return 128;
	return type;
}

void flow_key_canonical(const struct flow_key *k, bool uniflow, struct flow_key *c)
{
	bool icmp = k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6;
	int cmp;

	*c = *k;
	if (uniflow)
		return;
	c->dir = 0;
	if (icmp)
		c->sport = icmp_pair_type(k->proto, k->sport);
	cmp = memcmp(k->src, k->dst, 16);
	if (cmp > 0 || (cmp == 0 && !icmp && k->sport > k->dport)) {
		memcpy(c->src, k->dst, 16);
		memcpy(c->dst, k->src, 16);
		if (!icmp) {
			c->sport = k->dport;
			c->dport = k->sport;
		}
	}
}

__u64 records_run_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int record_id(const char *gateway, const struct record *r, char *buf, size_t len)
{
	return snprintf(buf, len, "%s:%llu:%llu", gateway, (unsigned long long)r->run,
	                (unsigned long long)r->seq);
}

struct records *records_new(const struct record_cfg *cfg)
{
	struct records *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->cfg = *cfg;
	rt->run = cfg->run ? cfg->run : records_run_now();
	rt->h = g_hash_table_new_full(flow_key_hash, flow_key_equal, NULL, g_free);
	lru_init(&rt->open);
	lru_init(&rt->by_start);
	rt->ev = g_ptr_array_new();
	rt->tcp = g_ptr_array_new();
	rt->waked = g_ptr_array_new();
	rt->done = g_ptr_array_new_with_free_func(g_free);
	return rt;
}

void records_free(struct records *rt)
{
	if (!rt)
		return;
	g_hash_table_destroy(rt->h);
	g_ptr_array_free(rt->ev, TRUE);
	g_ptr_array_free(rt->tcp, TRUE);
	g_ptr_array_free(rt->waked, TRUE);
	g_ptr_array_free(rt->done, TRUE);
	free(rt);
}

static void swap_roles(struct record *r, const struct flow_key *k)
{
	__u64 p = r->packets, b = r->bytes;
	__u8 f = r->tcp_flags;
	bool fin = r->fin_fwd;

	r->key = *k;
	r->packets = r->rev_packets;
	r->bytes = r->rev_bytes;
	r->tcp_flags = r->rev_tcp_flags;
	r->fin_fwd = r->fin_rev;
	r->rev_packets = p;
	r->rev_bytes = b;
	r->rev_tcp_flags = f;
	r->fin_rev = fin;
}

/* Make room for one more open record. */
static void evict_oldest(struct records *rt)
{
	struct lru_node *x = lru_oldest(&rt->open, entry_last);
	struct entry *e;

	if (!x)
		return;
	e = lru_entry(x, struct entry, lru);
	lru_remove(&rt->open, x);
	lru_remove(&rt->by_start, &e->start);
	tcp_remove(rt, e);
	e->waiting = false;
	e->r.end = END_EVICTED;
	g_ptr_array_add(rt->ev, e);
	rt->evicted++;
}

__u64 records_evicted(const struct records *rt) { return rt->evicted; }

int records_add(struct records *rt, const struct flow_key *k, const struct flow_stats *st,
                const struct flow *f)
{
	struct flow_key c;
	struct entry *e;
	struct record *r;
	bool fwd;

	flow_key_canonical(k, rt->cfg.uniflow, &c);
	e = g_hash_table_lookup(rt->h, &c);
	if (!e) {
		if (rt->cfg.max && rt->open.n >= rt->cfg.max)
			evict_oldest(rt);
		e = g_try_new0(struct entry, 1);
		if (!e)
			return -ENOMEM;
		e->canon = c;
		e->r.key = *k;
		e->r.flow_start_ns = st->first_ns;
		g_hash_table_insert(rt->h, &e->canon, e);
		lru_touch(&rt->by_start, &e->start);
	}
	r = &e->r;
	fwd = k->dir == r->key.dir && !memcmp(k->src, r->key.src, 16) &&
	      (k->sport == r->key.sport || k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6);
	/* the initiator is whoever sent first, as long as no record went out yet */
	if (!fwd && !e->emitted && r->packets && st->first_ns < r->start_ns) {
		swap_roles(r, k);
		fwd = true;
	}
	if (!r->start_ns || st->first_ns < r->start_ns)
		r->start_ns = st->first_ns;
	if (st->last_ns > r->end_ns)
		r->end_ns = st->last_ns;
	if (st->last_ns > r->last_ns)
		r->last_ns = st->last_ns;
	if (fwd) {
		r->packets += st->packets;
		r->bytes += st->bytes;
		r->tcp_flags |= st->tcp_flags;
		r->fin_fwd |= !!(st->tcp_flags & TCP_FIN);
	} else {
		r->rev_packets += st->packets;
		r->rev_bytes += st->bytes;
		r->rev_tcp_flags |= st->tcp_flags;
		r->fin_rev |= !!(st->tcp_flags & TCP_FIN);
	}
	r->rst |= !!(st->tcp_flags & TCP_RST);
	if (f && f->user && !r->user)
		r->user = f->user;
	if (f && f->peer && !r->peer) {
		r->peer = f->peer;
		r->endpoint = f->endpoint;
	}
	if (f && (f->dest.name_src > r->dest.name_src || (f->dest.asn && !r->dest.asn) ||
	          (f->dest.country[0] && !r->dest.country[0])))
		r->dest = f->dest;
	if (r->end != END_EVICTED) {
		lru_touch(&rt->open, &e->lru);
		if (!e->tcp_at && r->key.proto == IPPROTO_TCP &&
		    (r->rst || (r->fin_fwd && r->fin_rev))) {
			g_ptr_array_add(rt->tcp, e);
			e->tcp_at = rt->tcp->len;
		}
		if (e->waiting) {
			e->waiting = false;
			g_ptr_array_add(rt->waked, e);
		}
	}
	return 0;
}

static bool has_ifindex(const int *v, size_t n, __u32 x)
{
	for (size_t i = 0; i < n; i++)
		if ((__u32)v[i] == x)
			return true;
	return false;
}

struct emit_ctx {
	struct records *rt;
	__u64 now;
	const int *gone;
	size_t ngone;
	bool final;
	record_fn fn;
	void *ctx;
	size_t n;
};

/* Emit e if it is due, for the first reason that holds. An entry that ends leaves
 * every list (it is freed at the end of the emit); one past its active timeout goes on
 * in a new record, at the young end of the start list. */
static void consider(struct emit_ctx *x, struct entry *e)
{
	struct records *rt = x->rt;
	struct record *r = &e->r;
	const struct record_cfg *cfg = &rt->cfg;
	__u64 quiet = x->now > r->last_ns ? x->now - r->last_ns : 0;
	bool has = r->packets || r->rev_packets;
	bool tcp_done = r->key.proto == IPPROTO_TCP && (r->rst || (r->fin_fwd && r->fin_rev));

	if (e->done)
		return;
	if (r->end == END_EVICTED)
		; /* ended when the table was full, whatever happened since */
	else if (x->final)
		r->end = END_EXIT;
	else if (has_ifindex(x->gone, x->ngone, r->key.ifindex))
		r->end = END_IFACE_GONE;
	else if (tcp_done && (quiet >= cfg->tcp_linger_s * 1e9 || quiet >= cfg->idle_s * 1e9))
		r->end = END_TCP; /* closed: the idle timer does not get to name it */
	else if (quiet >= cfg->idle_s * 1e9)
		r->end = END_IDLE;
	else if (has && x->now - r->flow_start_ns >= cfg->active_s * 1e9)
		r->end = END_ACTIVE;
	else
		return;
	if (has) {
		r->run = x->rt->run;
		r->seq = ++x->rt->seq;
		x->fn(r, x->ctx);
		x->n++;
	}
	if (r->end != END_ACTIVE) {
		e->done = true;
		lru_remove(&rt->open, &e->lru);
		lru_remove(&rt->by_start, &e->start);
		tcp_remove(rt, e);
		g_hash_table_steal(rt->h, &e->canon);
		g_ptr_array_add(rt->done, e);
		return; /* the entry goes */
	}
	/* goes on in a new record */
	e->emitted = true;
	r->packets = r->bytes = r->rev_packets = r->rev_bytes = 0;
	r->tcp_flags = r->rev_tcp_flags = 0;
	r->start_ns = r->end_ns = 0;
	r->flow_start_ns = x->now;
	r->end = END_NONE;
	e->waiting = false;
	lru_touch(&rt->by_start, &e->start);
}

size_t records_emit(struct records *rt, __u64 now_ns, const int *gone, size_t ngone, bool final,
                    record_fn fn, void *ctx)
{
	struct emit_ctx x = {rt, now_ns, gone, ngone, final, fn, ctx, 0};
	__u64 idle = rt->cfg.idle_s * 1e9, active = rt->cfg.active_s * 1e9;
	struct lru_node *n, *prev;

	for (guint i = 0; i < rt->ev->len; i++)
		consider(&x, rt->ev->pdata[i]);
	g_ptr_array_set_size(rt->ev, 0);
	if (final || ngone) { /* every open record has to be looked at */
		GHashTableIter it;
		gpointer k, v;
		GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(rt->h));

		g_hash_table_iter_init(&it, rt->h);
		while (g_hash_table_iter_next(&it, &k, &v))
			g_ptr_array_add(all, v);
		for (guint i = 0; i < all->len; i++)
			consider(&x, all->pdata[i]);
		g_ptr_array_free(all, TRUE);
	}
	/* past their active timeout, with packets since */
	for (guint i = 0; i < rt->waked->len; i++) {
		struct entry *e = rt->waked->pdata[i];

		consider(&x, e);
		if (!e->done && !lru_linked(&e->start) && e->r.end != END_EVICTED)
			e->waiting = true; /* not due after all: waits on */
	}
	g_ptr_array_set_size(rt->waked, 0);
	/* TCP closed: the linger (or the idle timeout) decides */
	for (guint i = rt->tcp->len; i-- > 0;) {
		struct entry *e = rt->tcp->pdata[i];
		__u64 quiet = now_ns > e->r.last_ns ? now_ns - e->r.last_ns : 0;

		if (quiet >= rt->cfg.tcp_linger_s * 1e9 || quiet >= idle)
			consider(&x, e);
	}
	/* idle: from the idle end while the timeout holds (each earlier harvest's run sorted
	 * by last packet as it gets there), then this harvest's run */
	while ((n = lru_oldest(&rt->open, entry_last)) && n->epoch < rt->open.epoch &&
	       now_ns >= idle + lru_entry(n, struct entry, lru)->r.last_ns) {
		consider(&x, lru_entry(n, struct entry, lru));
		if (lru_linked(n))
			break;
	}
	for (n = rt->open.head.prev; n != &rt->open.head && n->epoch == rt->open.epoch; n = prev) {
		prev = n->prev;
		if (now_ns >= idle + lru_entry(n, struct entry, lru)->r.last_ns)
			consider(&x, lru_entry(n, struct entry, lru));
	}
	/* active: from the oldest start; a record without packets since it was last reported
	 * waits off the list */
	for (size_t left = rt->by_start.n; left-- && (n = lru_oldest(&rt->by_start, entry_start)) &&
	                                   n->epoch < rt->by_start.epoch &&
	                                   now_ns >= active + entry_start(n);) {
		struct entry *e = lru_entry(n, struct entry, start);

		if (e->r.packets || e->r.rev_packets) {
			consider(&x, e);
		} else {
			lru_remove(&rt->by_start, n);
			e->waiting = true;
		}
		if (rt->by_start.head.next == n)
			break;
	}
	for (n = rt->by_start.head.prev; n != &rt->by_start.head && n->epoch == rt->by_start.epoch;
	     n = prev) {
		struct entry *e = lru_entry(n, struct entry, start);

		prev = n->prev;
		if (now_ns >= active + entry_start(n) && (e->r.packets || e->r.rev_packets))
			consider(&x, e);
	}
	g_ptr_array_set_size(rt->done, 0); /* frees them */
	lru_next_epoch(&rt->open);
	lru_next_epoch(&rt->by_start);
	return x.n;
}

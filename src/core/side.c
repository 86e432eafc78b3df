/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-interface side table (core/side.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "core/side.h"

struct side_if {
	int ifindex;
	bool session;
	bool forwarded; /* carried a flow with none of its own addresses (rule 3) */
	bool client;    /* carried one from an own address to outside its prefix (rule 4) */
	__u8 nown, npeer;
	__u8 own[SIDE_MAX_OWN][16];
	__u8 own_plen[SIDE_MAX_OWN];
	__u8 peer[SIDE_MAX_PEER][16];
};

struct side_tab {
	size_t n;
	unsigned retired_epoch;
	struct side_if ifs[]; /* by ifindex, ascending */
};

static _Atomic(enum side_mode) mode = SIDE_AUTO;
static _Atomic(struct side_tab *) cur;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *master; /* ifindex -> struct side_if, under lock */
static GPtrArray *retired; /* struct side_tab, under lock */
static unsigned epoch;
static bool dirty; /* master changed since the snapshot: side_commit() publishes */

void side_set_mode(enum side_mode m) { atomic_store(&mode, m); }
enum side_mode side_mode(void) { return atomic_load(&mode); }

static int by_ifindex(const void *a, const void *b)
{
	const struct side_if *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/* Under lock: a new snapshot from master. */
static void publish(void)
{
	size_t n = g_hash_table_size(master), i = 0;
	struct side_tab *t = NULL, *old;
	GHashTableIter it;
	gpointer k, v;

	if (n) {
		t = malloc(sizeof(*t) + n * sizeof(t->ifs[0]));
		if (!t)
			return; /* keep the previous one */
		g_hash_table_iter_init(&it, master);
		while (g_hash_table_iter_next(&it, &k, &v))
			t->ifs[i++] = *(struct side_if *)v;
		t->n = n;
		qsort(t->ifs, n, sizeof(t->ifs[0]), by_ifindex);
	}
	old = atomic_exchange(&cur, t);
	if (old) {
		old->retired_epoch = epoch;
		g_ptr_array_add(retired, old);
	}
}

static struct side_if *entry(int ifindex)
{
	struct side_if *e;

	if (!master) {
		master = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		retired = g_ptr_array_new_with_free_func(free);
	}
	e = g_hash_table_lookup(master, GINT_TO_POINTER(ifindex));
	if (!e) {
		e = g_new0(struct side_if, 1);
		e->ifindex = ifindex;
		g_hash_table_insert(master, GINT_TO_POINTER(ifindex), e);
	}
	return e;
}

void side_set_addrs(int ifindex, const __u8 (*own)[16], const __u8 *own_plen, size_t nown,
                    const __u8 (*peer)[16], size_t npeer)
{
	struct side_if *e, was;

	pthread_mutex_lock(&lock);
	if (!nown && !npeer &&
	    (!master || !g_hash_table_lookup(master, GINT_TO_POINTER(ifindex)))) {
		pthread_mutex_unlock(&lock);
		return; /* nothing to say of it */
	}
	e = entry(ifindex);
	was = *e;
	e->nown = nown < SIDE_MAX_OWN ? nown : SIDE_MAX_OWN;
	e->npeer = npeer < SIDE_MAX_PEER ? npeer : SIDE_MAX_PEER;
	memset(e->own, 0, sizeof(e->own));
	memset(e->own_plen, 0, sizeof(e->own_plen));
	memcpy(e->own_plen, own_plen, e->nown);
	memset(e->peer, 0, sizeof(e->peer));
	memcpy(e->own, own, e->nown * 16u);
	memcpy(e->peer, peer, e->npeer * 16u);
	if (memcmp(&was, e, sizeof(was)) != 0)
		dirty = true;
	pthread_mutex_unlock(&lock);
}

void side_set_session(int ifindex)
{
	struct side_if *e;

	pthread_mutex_lock(&lock);
	e = entry(ifindex);
	if (!e->session) {
		e->session = true;
		dirty = true;
	}
	pthread_mutex_unlock(&lock);
}

void side_forget(int ifindex)
{
	pthread_mutex_lock(&lock);
	if (master && g_hash_table_remove(master, GINT_TO_POINTER(ifindex)))
		dirty = true;
	pthread_mutex_unlock(&lock);
}

void side_commit(void)
{
	pthread_mutex_lock(&lock);
	if (dirty)
		publish();
	dirty = false;
	pthread_mutex_unlock(&lock);
}

static gboolean old_enough(gpointer p, gpointer data)
{
	(void)data;
	return ((struct side_tab *)p)->retired_epoch + 2 <= epoch;
}

void side_release(void)
{
	pthread_mutex_lock(&lock);
	if (dirty)
		publish();
	dirty = false;
	epoch++;
	if (retired)
		for (guint i = retired->len; i-- > 0;)
			if (old_enough(g_ptr_array_index(retired, i), NULL))
				g_ptr_array_remove_index_fast(retired, i);
	pthread_mutex_unlock(&lock);
}

void side_reset(void)
{
	pthread_mutex_lock(&lock);
	free(atomic_exchange(&cur, NULL));
	if (master)
		g_hash_table_destroy(master);
	if (retired)
		g_ptr_array_free(retired, TRUE);
	master = NULL;
	retired = NULL;
	dirty = false;
	pthread_mutex_unlock(&lock);
	atomic_store(&mode, SIDE_AUTO);
}

static const struct side_if *find(const struct side_tab *t, int ifindex)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (t->ifs[mid].ifindex == ifindex)
			return &t->ifs[mid];
		if (t->ifs[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The index of a in set, or -1. */
static int in(const __u8 (*set)[16], size_t n, const __u8 *a)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(set[i], a, 16))
			return (int)i;
	return -1;
}

static bool same_prefix(const __u8 *a, const __u8 *b, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (plen > 128)
		return false;
	if (memcmp(a, b, bytes) != 0)
		return false;
	return !bits || !((a[bytes] ^ b[bytes]) & (0xff00 >> bits));
}

/* What flow k says of its interface e: 1 forwarded, 2 client, 0 nothing. */
static int evidence(const struct side_if *e, const struct flow_key *k)
{
	int s = in(e->own, e->nown, k->src), d = in(e->own, e->nown, k->dst);

	if (!e->nown || in(e->peer, e->npeer, k->src) >= 0 || in(e->peer, e->npeer, k->dst) >= 0)
		return 0;
	if (s < 0 && d < 0)
		return 1;
	if ((s < 0) == (d < 0))
		return 0; /* own to own */
	if (s >= 0)
		return !same_prefix(k->src, k->dst, e->own_plen[s]) ? 2 : 0;
	return !same_prefix(k->src, k->dst, e->own_plen[d]) ? 2 : 0;
}

void side_learn(const struct flow_key *k)
{
	const struct side_tab *t = atomic_load_explicit(&cur, memory_order_acquire);
	const struct side_if *e = t ? find(t, (int)k->ifindex) : NULL;
	int ev;
	struct side_if *m;

	if (!e || e->forwarded || (ev = evidence(e, k)) == 0 || (ev == 2 && e->client))
		return;
	pthread_mutex_lock(&lock);
	m = master ? g_hash_table_lookup(master, GINT_TO_POINTER((int)k->ifindex)) : NULL;
	if (m && ev == 1 && !m->forwarded)
		dirty = m->forwarded = true;
	else if (m && ev == 2 && !m->client)
		dirty = m->client = true;
	pthread_mutex_unlock(&lock);
}

bool side_is_session(int ifindex)
{
	const struct side_tab *t = atomic_load_explicit(&cur, memory_order_acquire);
	const struct side_if *e = t ? find(t, (int)ifindex) : NULL;

	return e && e->session;
}

bool side_near_is_src(const struct flow_key *k)
{
	enum side_mode m = atomic_load_explicit(&mode, memory_order_relaxed);
	bool server = k->dir == DIR_INGRESS;
	const struct side_tab *t;
	const struct side_if *e;
	bool s, d;
	int si, di;

	if (m == SIDE_SERVER)
		return server;
	t = atomic_load_explicit(&cur, memory_order_acquire);
	e = t ? find(t, (int)k->ifindex) : NULL;
	if (!e)
		return m == SIDE_CLIENT ? !server : server;
	if (m == SIDE_AUTO) {
		if (e->session || e->forwarded)
			return server;
		s = in(e->peer, e->npeer, k->src) >= 0;
		d = in(e->peer, e->npeer, k->dst) >= 0;
		if (s != d)
			return s;
	}
	si = in(e->own, e->nown, k->src);
	di = in(e->own, e->nown, k->dst);
	if ((si < 0) == (di < 0))
		return m == SIDE_CLIENT ? !server : server;
	if (m == SIDE_CLIENT || e->client)
		return si >= 0;
	/* an own address and another outside its prefix: this host is the user */
	if (!same_prefix(k->src, k->dst, e->own_plen[si >= 0 ? si : di]))
		return si >= 0;
	return server;
}

// SPDX-License-Identifier: GPL-2.0-only
/* --group-by user: a report's flows summed per user, with each user's top destinations:
 * the name the flows reached the far side of the tunnel by (destination on ingress,
 * source on egress), all its addresses together, or the address where they have no
 * name; and per-user totals since tunflow started, from each report's deltas, which do
 * not fall when flows are forgotten. */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "sinks/sink.h"
#include "util/hash.h"
#include "util/topk.h"

struct acc {
	struct user_total t;
	GHashTable *remote; /* struct remote -> itself: one per name, or per address */
};

/* A destination: a name (addr then that of its flow with most bytes), or an address
 * without one. */
struct remote {
	const char *name;
	__u8 addr[16];
	int ip_version;
	__u8 name_src; /* that of the flow with most bytes */
	__u64 bytes, best;
};

static guint remote_hash(gconstpointer p)
{
	const struct remote *r = p;

	return r->name ? g_str_hash(r->name) : addr16_hash(r->addr);
}

static gboolean remote_equal(gconstpointer a, gconstpointer b)
{
	const struct remote *x = a, *y = b;

	if (x->name || y->name)
		return x->name && y->name && !strcmp(x->name, y->name);
	return !memcmp(x->addr, y->addr, 16);
}

static int cmp_total(const void *a, const void *b)
{
	const struct user_total *x = a, *y = b;
	__u64 bx = x->bytes[0] + x->bytes[1], by = y->bytes[0] + y->bytes[1];

	if (bx != by)
		return bx < by ? 1 : -1;
	if (!x->user || !y->user)
		return !x->user - !y->user; /* the unattributed last among equals */
	return strcmp(x->user, y->user);
}

typedef __typeof__(((struct user_total *)0)->top[0]) top_dest;

/* More bytes first, then names (in order) before addresses (the lower first). */
static int dest_cmp(const void *a, const void *b)
{
	const top_dest *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	if (x->name || y->name)
		return !x->name ? 1 : !y->name ? -1 : strcmp(x->name, y->name);
	return memcmp(x->addr, y->addr, 16);
}

/* Keep the USER_TOP_DESTS destinations with most bytes. */
static void keep_top_remotes(struct acc *a)
{
	struct topk top;
	GHashTableIter it;
	gpointer k, v;

	topk_init(&top, a->t.top, sizeof(a->t.top[0]), USER_TOP_DESTS, dest_cmp);
	g_hash_table_iter_init(&it, a->remote);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct remote *r = v;
		top_dest d = {.name = r->name,
		              .ip_version = r->ip_version,
		              .name_src = r->name ? r->name_src : NAME_NONE,
		              .bytes = r->bytes};

		memcpy(d.addr, r->addr, 16);
		topk_offer(&top, &d);
	}
	a->t.ntop = top.n;
}

struct user_total *group_by_user(struct flow *const *flows, size_t nflows, size_t *n)
{
	GHashTable *by = g_hash_table_new(g_direct_hash, g_direct_equal);
	struct acc *accs = NULL;
	struct user_total *out = NULL;
	size_t nacc = 0, cap = 0;

	*n = 0;
	for (size_t i = 0; i < nflows; i++) {
		const struct flow *f = flows[i];
		const __u8 *far = flow_far(&f->key);
		gpointer slot;
		struct acc *a;
		struct remote rk = {0}, *r;

		/* the unattributed share the NULL key, which GHashTable cannot hold: use the
		 * table itself as that key */
		gpointer key = f->user ? (gpointer)f->user : (gpointer)by;

		if (!g_hash_table_lookup_extended(by, key, NULL, &slot)) {
			if (nacc == cap) {
				struct acc *na =
				    realloc(accs, (cap = cap ? cap * 2 : 16) * sizeof(*na));

				if (!na)
					goto out;
				accs = na;
			}
			memset(&accs[nacc], 0, sizeof(accs[nacc]));
			accs[nacc].t.user = f->user;
			accs[nacc].remote =
			    g_hash_table_new_full(remote_hash, remote_equal, NULL, g_free);
			slot = GSIZE_TO_POINTER(nacc);
			g_hash_table_insert(by, key, slot);
			nacc++;
		}
		a = &accs[GPOINTER_TO_SIZE(slot)];
		a->t.flows++;
		a->t.packets[!flow_user_sent(&f->key)] += f->packets;
		a->t.bytes[!flow_user_sent(&f->key)] += f->bytes;
		a->t.rate_bps += f->rate_bps;
		memcpy(rk.addr, far, 16);
		rk.name = f->dest.name;
		if (!(r = g_hash_table_lookup(a->remote, &rk))) {
			r = g_memdup2(&rk, sizeof(rk));
			r->ip_version = f->key.ip_version;
			r->name_src = f->dest.name_src;
			g_hash_table_insert(a->remote, r, r);
		}
		r->bytes += f->bytes;
		/* a name's address: that of its biggest flow (the lower one among equals) */
		if (f->bytes > r->best || (f->bytes == r->best && memcmp(far, r->addr, 16) < 0)) {
			r->best = f->bytes;
			memcpy(r->addr, far, 16);
			r->ip_version = f->key.ip_version;
			r->name_src = f->dest.name_src;
		}
	}
	out = malloc((nacc ? nacc : 1) * sizeof(*out));
	if (!out)
		goto out;
	for (size_t i = 0; i < nacc; i++) {
		keep_top_remotes(&accs[i]);
		out[i] = accs[i].t;
	}
	qsort(out, nacc, sizeof(*out), cmp_total);
	*n = nacc;
out:
	for (size_t i = 0; i < nacc; i++)
		g_hash_table_destroy(accs[i].remote);
	free(accs);
	g_hash_table_destroy(by);
	return out;
}

/* The totals since start of one user. */
struct since {
	const char *user;
	__u64 packets[2], bytes[2];
};

struct user_totals {
	GHashTable *by; /* user (or the table itself for none) -> struct since */
};

struct user_totals *user_totals_new(void)
{
	struct user_totals *ut = calloc(1, sizeof(*ut));

	if (ut)
		ut->by = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	return ut;
}

void user_totals_free(struct user_totals *ut)
{
	if (!ut)
		return;
	g_hash_table_destroy(ut->by);
	free(ut);
}

struct user_total *user_totals_update(struct user_totals *ut, struct flow *const *flows,
                                      size_t nflows, __u64 gen, size_t *n)
{
	struct user_total *t, *out;
	GHashTableIter it;
	gpointer k, v;
	size_t nt, m = 0;

	for (size_t i = 0; i < nflows; i++) {
		const struct flow *f = flows[i];
		gpointer key = f->user ? (gpointer)f->user : (gpointer)ut->by;
		struct since *s;

		if (f->gen != gen)
			continue;
		if (!(s = g_hash_table_lookup(ut->by, key))) {
			s = g_new0(struct since, 1);
			s->user = f->user;
			g_hash_table_insert(ut->by, key, s);
		}
		s->packets[!flow_user_sent(&f->key)] += f->d_packets;
		s->bytes[!flow_user_sent(&f->key)] += f->d_bytes;
	}
	t = group_by_user(flows, nflows, &nt);
	out = calloc(g_hash_table_size(ut->by) + nt + 1, sizeof(*out));
	if (!t || !out) {
		free(t);
		free(out);
		*n = 0;
		return NULL;
	}
	/* every user seen since start: with the flows in memory when it has some */
	g_hash_table_iter_init(&it, ut->by);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct since *s = v;
		size_t j;

		for (j = 0; j < nt && t[j].user != s->user; j++)
			;
		if (j < nt)
			out[m] = t[j];
		else
			out[m].user = s->user;
		memcpy(out[m].packets, s->packets, sizeof(s->packets));
		memcpy(out[m].bytes, s->bytes, sizeof(s->bytes));
		m++;
	}
	free(t);
	qsort(out, m, sizeof(*out), cmp_total);
	*n = m;
	return out;
}

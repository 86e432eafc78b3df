// SPDX-License-Identifier: GPL-2.0-only
/* --group-by user: a report's flows summed per user, with each user's top remote
 * addresses (the far side of the tunnel: destination on ingress, source on egress). */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "sinks/sink.h"
#include "util/hash.h"
#include "util/topk.h"

struct acc {
	struct user_total t;
	GHashTable *remote; /* 16-byte address (in the flow) -> __u64 bytes, ip_version */
};

struct remote {
	__u64 bytes;
	int ip_version;
};

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

/* More bytes first, then the lower address. */
static int dest_cmp(const void *a, const void *b)
{
	const top_dest *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

/* Keep the USER_TOP_DESTS remote addresses with most bytes. */
static void keep_top_remotes(struct acc *a)
{
	struct topk top;
	GHashTableIter it;
	gpointer k, v;

	topk_init(&top, a->t.top, sizeof(a->t.top[0]), USER_TOP_DESTS, dest_cmp);
	g_hash_table_iter_init(&it, a->remote);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct remote *r = v;
		top_dest d = {.ip_version = r->ip_version, .bytes = r->bytes};

		memcpy(d.addr, k, 16);
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
		struct remote *r;

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
			    g_hash_table_new_full(addr16_hash, addr16_equal, NULL, g_free);
			slot = GSIZE_TO_POINTER(nacc);
			g_hash_table_insert(by, key, slot);
			nacc++;
		}
		a = &accs[GPOINTER_TO_SIZE(slot)];
		a->t.flows++;
		a->t.packets[f->key.dir] += f->packets;
		a->t.bytes[f->key.dir] += f->bytes;
		a->t.rate_bps += f->rate_bps;
		r = g_hash_table_lookup(a->remote, far);
		if (!r) {
			r = g_new0(struct remote, 1);
			r->ip_version = f->key.ip_version;
			g_hash_table_insert(a->remote, (gpointer)far, r);
		}
		r->bytes += f->bytes;
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

// SPDX-License-Identifier: GPL-2.0-only
/* --group-by user: a report's flows summed per user, with each user's top remote
 * addresses (the far side of the tunnel: destination on ingress, source on egress). */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "sinks/sink.h"

struct acc {
	struct user_total t;
	GHashTable *remote; /* 16-byte address (in the flow) -> __u64 bytes, ip_version */
};

struct remote {
	__u64 bytes;
	int ip_version;
};

static guint addr_hash(gconstpointer p)
{
	guint32 w[4];

	memcpy(w, p, 16);
	return (w[0] ^ w[1] * 31) ^ (w[2] * 0x9e3779b1u ^ w[3] * 0x85ebca6bu);
}

static gboolean addr_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, 16);
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

/* Whether (bytes, addr) ranks above an entry: more bytes, then lower address. */
static bool above(__u64 bytes, const void *addr, const struct user_total *t, int j)
{
	return bytes > t->top[j].bytes ||
	       (bytes == t->top[j].bytes && memcmp(addr, t->top[j].addr, 16) < 0);
}

/* Keep the USER_TOP_DESTS remote addresses with most bytes. */
static void pick_top(struct acc *a)
{
	struct user_total *t = &a->t;
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, a->remote);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct remote *r = v;
		int j = t->ntop;

		if (j == USER_TOP_DESTS) {
			if (!above(r->bytes, k, t, j - 1))
				continue;
			j--;
		} else {
			t->ntop++;
		}
		for (; j > 0 && above(r->bytes, k, t, j - 1); j--)
			t->top[j] = t->top[j - 1];
		memcpy(t->top[j].addr, k, 16);
		t->top[j].bytes = r->bytes;
		t->top[j].ip_version = r->ip_version;
	}
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
		const __u8 *far = f->key.dir == DIR_INGRESS ? f->key.dst : f->key.src;
		gpointer slot;
		struct acc *a;
		struct remote *r;

		/* the unattributed share the NULL key, which GHashTable cannot hold: use the
		 * table itself as that key */
		gpointer key = f->user ? (gpointer)f->user : (gpointer)by;

		if (!g_hash_table_lookup_extended(by, key, NULL, &slot)) {
			if (nacc == cap) {
				struct acc *na = realloc(accs, (cap = cap ? cap * 2 : 16) * sizeof(*na));

				if (!na)
					goto out;
				accs = na;
			}
			memset(&accs[nacc], 0, sizeof(accs[nacc]));
			accs[nacc].t.user = f->user;
			accs[nacc].remote = g_hash_table_new_full(addr_hash, addr_equal, NULL, g_free);
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
		pick_top(&accs[i]);
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

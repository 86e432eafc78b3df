// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <glib.h>
#include "core/peers.h"

const char *const session_end_names[SESSION_END_MAX] = {
    [SESSION_EXPIRED] = "handshake expired",
    [SESSION_REMOVED] = "peer removed",
    [SESSION_EXIT] = "tunflow exit",
};

struct peers {
	GStringChunk *strings;
	GHashTable *interned; /* text -> the same text in strings */
	GHashTable *open;     /* interned peer key -> struct peer_session (owned) */
	GArray *closed;       /* struct peer_session */
};

struct peers *peers_new(void)
{
	struct peers *ps = g_new0(struct peers, 1);

	ps->strings = g_string_chunk_new(1024);
	ps->interned = g_hash_table_new(g_str_hash, g_str_equal);
	ps->open = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	ps->closed = g_array_new(FALSE, FALSE, sizeof(struct peer_session));
	return ps;
}

void peers_free(struct peers *ps)
{
	if (!ps)
		return;
	g_array_free(ps->closed, TRUE);
	g_hash_table_destroy(ps->open);
	g_hash_table_destroy(ps->interned);
	g_string_chunk_free(ps->strings);
	g_free(ps);
}

const char *peers_intern(struct peers *ps, const char *s)
{
	char *v = g_hash_table_lookup(ps->interned, s);

	if (!v) {
		v = g_string_chunk_insert(ps->strings, s);
		g_hash_table_insert(ps->interned, v, v);
	}
	return v;
}

void peers_open(struct peers *ps, const char *ifname, const char *peer, const char *user,
                const char *endpoint, __u64 start_ns)
{
	struct peer_session *s;

	if (g_hash_table_contains(ps->open, peer))
		return;
	s = g_new0(struct peer_session, 1);
	g_strlcpy(s->ifname, ifname, sizeof(s->ifname));
	s->peer = peer;
	s->user = user;
	s->endpoint = endpoint;
	s->start_ns = start_ns;
	g_hash_table_insert(ps->open, (gpointer)peer, s);
}

void peers_add(struct peers *ps, const char *peer, enum flow_dir dir, __u64 packets, __u64 bytes)
{
	struct peer_session *s = g_hash_table_lookup(ps->open, peer);

	if (!s || dir > DIR_EGRESS)
		return;
	s->packets[dir] += packets;
	s->bytes[dir] += bytes;
}

void peers_close(struct peers *ps, const char *peer, __u64 end_ns, enum session_end why)
{
	struct peer_session *s = g_hash_table_lookup(ps->open, peer);

	if (!s)
		return;
	s->end_ns = end_ns;
	s->end = why;
	g_array_append_val(ps->closed, *s);
	g_hash_table_remove(ps->open, peer);
}

static gint by_start(gconstpointer a, gconstpointer b)
{
	const struct peer_session *x = a, *y = b;

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	return strcmp(x->peer, y->peer);
}

void peers_close_all(struct peers *ps, __u64 end_ns)
{
	GHashTableIter it;
	gpointer v;
	guint first = ps->closed->len;

	g_hash_table_iter_init(&it, ps->open);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct peer_session *s = v;

		s->end_ns = end_ns;
		s->end = SESSION_EXIT;
		g_array_append_val(ps->closed, *s);
		g_hash_table_iter_remove(&it);
	}
	/* in the order they started, not the hash table's */
	if (ps->closed->len > first)
		qsort(&g_array_index(ps->closed, struct peer_session, first),
		      ps->closed->len - first, sizeof(struct peer_session), by_start);
}

size_t peers_open_count(const struct peers *ps) { return g_hash_table_size(ps->open); }

struct peer_session *peers_take_closed(struct peers *ps, size_t *n)
{
	struct peer_session *v;

	*n = ps->closed->len;
	if (!*n)
		return NULL;
	v = g_memdup2(ps->closed->data, *n * sizeof(*v));
	g_array_set_size(ps->closed, 0);
	return v;
}

// SPDX-License-Identifier: GPL-2.0-only
/* WireGuard peers as users: which interfaces are WireGuard (--wireguard, or a UAPI
 * socket by the interface's name), their peers re-read at a bounded rate, named from
 * --wireguard-names or by their short key, and their sessions followed by handshake. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>
#include "core/clock.h"
#include "util/log.h"
#include "sources/users_priv.h"

#define WG_IFACES_MAX 4096 /* names remembered (most: not WireGuard); then those are forgotten */
#define WG_EVENTS_MAX 4096 /* session events waiting to be taken */

struct wg_state {
	bool connected;
	__u64 start_ns; /* CLOCK_REALTIME */
};

static void wg_if_free(gpointer p)
{
	struct wg_if *w = p;

	wg_dev_clear(&w->dev);
	g_hash_table_destroy(w->state);
	g_string_free(w->digest, TRUE);
	g_free(w);
}

static struct wg_if *wg_if_new(struct users *u, const char *ifname)
{
	struct wg_if *w = g_new0(struct wg_if, 1);

	snprintf(w->dev.ifname, sizeof(w->dev.ifname), "%s", ifname);
	w->state = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	w->digest = g_string_new(NULL);
	g_hash_table_insert(u->wg, w->dev.ifname, w);
	return w;
}

static void event(struct users *u, const struct wg_if *w, const struct wg_peer *p, bool connected,
                  __u64 at)
{
	struct wg_event e = {.connected = connected, .peer = *p, .at_ns = at};

	if (u->wg_events->len >= WG_EVENTS_MAX) {
		u->wg_events_lost++;
		return;
	}
	memcpy(e.ifname, w->dev.ifname, sizeof(e.ifname));
	e.peer.allowed = NULL;
	e.peer.nallowed = 0;
	g_array_append_val(u->wg_events, e);
}

static const char *peer_name(struct users *u, const char *key)
{
	const char *n = g_hash_table_lookup(u->wg_names, key);

	return n ? n : users_intern(u, key, WG_SHORT_KEY);
}

/* Names, connections and session events for a new read of w, which replaces the last. */
static void apply(struct users *u, struct wg_if *w, struct wg_dev *nd, __u64 real)
{
	GHashTable *state = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GString *digest = g_string_new(NULL);
	GHashTableIter it;
	gpointer k, v;

	for (int i = 0; i < nd->npeers; i++) {
		struct wg_peer *p = &nd->peers[i];
		struct wg_state *old = g_hash_table_lookup(w->state, p->key);
		struct wg_state *st = g_new0(struct wg_state, 1);
		__u64 hs = p->handshake_sec * 1000000000ull + p->handshake_nsec;

		p->name = peer_name(u, p->key);
		p->connected = hs && real < hs + WG_REJECT_AFTER_S * 1000000000ull;
		if (p->connected) {
			st->connected = true;
			st->start_ns = old && old->connected ? old->start_ns : hs;
			p->session_start_ns = st->start_ns;
			if (!old || !old->connected)
				event(u, w, p, true, hs);
		} else if (old && old->connected) {
			event(u, w, p, false, hs ? hs + WG_REJECT_AFTER_S * 1000000000ull : real);
		}
		g_hash_table_insert(state, g_strdup(p->key), st);
		/* the endpoint too: flows follow a peer that connects from elsewhere */
		g_string_append_printf(digest, "%s %s %s", p->key, p->name, p->endpoint);
		for (int j = 0; j < p->nallowed; j++) {
			g_string_append_c(digest, ' ');
			g_string_append_len(digest, (const char *)p->allowed[j].addr, 16);
			g_string_append_printf(digest, "/%d", p->allowed[j].plen);
		}
		g_string_append_c(digest, '\n');
	}
	/* a connected peer that is no longer there: removed, its session ends now */
	g_hash_table_iter_init(&it, w->state);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (!((struct wg_state *)v)->connected || g_hash_table_contains(state, k))
			continue;
		for (int i = 0; i < w->dev.npeers; i++)
			if (!strcmp(w->dev.peers[i].key, k)) {
				struct wg_peer gone = w->dev.peers[i];

				gone.connected = false;
				event(u, w, &gone, false, real);
			}
	}
	if (digest->len != w->digest->len || memcmp(digest->str, w->digest->str, digest->len) != 0)
		u->gen++;
	g_string_free(w->digest, TRUE);
	w->digest = digest;
	g_hash_table_destroy(w->state);
	w->state = state;
	wg_dev_clear(&w->dev);
	memcpy(nd->ifname, w->dev.ifname, sizeof(nd->ifname));
	w->dev = *nd;
}

/* Whether the kernel says ifname is its WireGuard (DEVTYPE=wireguard in its uevent). */
static bool kernel_wg(const char *ifname)
{
	char path[96], buf[512];
	FILE *f;
	bool yes = false;

	snprintf(path, sizeof(path), "/sys/class/net/%s/uevent", ifname);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!yes && fgets(buf, sizeof(buf), f))
		yes = !strcmp(buf, "DEVTYPE=wireguard\n");
	fclose(f);
	return yes;
}

static void wg_read(struct users *u, struct wg_if *w, __u64 now)
{
	struct wg_dev nd = {0};
	char why[512];
	int err;

	w->read_ns = now ? now : 1;
	memcpy(nd.ifname, w->dev.ifname, sizeof(nd.ifname));
	if (!w->kernel && w->configured && kernel_wg(w->dev.ifname))
		w->kernel = true;
	if (w->kernel) {
		err = wg_nl_get(w->dev.ifname, &nd, why, sizeof(why));
		if (err == -ENOENT || err == -ENODEV)
			err = -ENOENT; /* gone: as a missing socket */
	} else {
		err = wg_uapi_get(u->wg_sockdir, w->dev.ifname, &nd, why, sizeof(why));
	}
	if (!err) {
		if (w->said)
			pr_info("wireguard %s: its peers are read again", w->dev.ifname);
		w->said = 0;
		apply(u, w, &nd, now_ns(CLOCK_REALTIME));
		return;
	}
	if (w->said != err) {
		if (w->kernel)
			pr_warn("wireguard %s: %s", w->dev.ifname, why);
		else if (err == -ENOENT || err == -ECONNREFUSED)
			pr_warn("wireguard %s: %s: is wireguard-go running for it?", w->dev.ifname,
			        why);
		else
			pr_warn("wireguard %s: %s: its peers as read before are kept",
			        w->dev.ifname, why);
		w->said = err;
	}
	if (err == -ENOENT || err == -ECONNREFUSED) {
		/* no WireGuard behind the name any more: its peers and sessions go */
		apply(u, w, &nd, now_ns(CLOCK_REALTIME));
		if (!w->configured)
			w->present = false;
		w->kernel = false;
	}
}

static gboolean not_wg(gpointer k, gpointer v, gpointer ctx)
{
	const struct wg_if *w = v;

	(void)k, (void)ctx;
	return !w->present && !w->configured;
}

static struct wg_if *wg_if_of(struct users *u, const char *ifname)
{
	struct wg_if *w;
	__u64 now;

	if (!ifname || !*ifname || strlen(ifname) >= sizeof(w->dev.ifname))
		return NULL;
	w = g_hash_table_lookup(u->wg, ifname);
	if (w && (w->present || w->configured))
		return w;
	now = now_ns(CLOCK_MONOTONIC);
	if (!w) {
		if (g_hash_table_size(u->wg) >= WG_IFACES_MAX)
			g_hash_table_foreach_remove(u->wg, not_wg, NULL); /* the names seen */
		w = wg_if_new(u, ifname);
	} else if (w->probe_ns && now - w->probe_ns < WG_REREAD_NS) {
		return NULL;
	}
	w->probe_ns = now ? now : 1;
	{
		char path[256];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s.sock", u->wg_sockdir, ifname);
		if (stat(path, &st) || !S_ISSOCK(st.st_mode)) {
			if (!kernel_wg(ifname))
				return NULL;
			w->kernel = true;
		}
	}
	w->present = true;
	w->said = 0;
	if (w->kernel)
		pr_info("wireguard %s: peers from the kernel (generic netlink)", ifname);
	else
		pr_info("wireguard %s: peers from its UAPI socket in %s", ifname, u->wg_sockdir);
	wg_read(u, w, now);
	return w->present ? w : NULL;
}

void users_wg_init(struct users *u)
{
	const char *dir = getenv("TUNFLOW_WG_SOCKDIR");

	u->wg = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, wg_if_free);
	u->wg_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	u->wg_events = g_array_new(FALSE, FALSE, sizeof(struct wg_event));
	u->wg_sockdir = dir && *dir ? dir : WG_SOCKDIR;
	for (guint i = 0; u->cfg.wireguard && i < u->cfg.wireguard->len; i++) {
		const char *name = u->cfg.wireguard->pdata[i];
		struct wg_if *w;

		if (!*name || strlen(name) >= sizeof(w->dev.ifname) ||
		    g_hash_table_contains(u->wg, name))
			continue;
		w = wg_if_new(u, name);
		w->configured = w->present = true;
	}
}

void users_wg_free(struct users *u)
{
	if (u->wg)
		g_hash_table_destroy(u->wg);
	if (u->wg_names)
		g_hash_table_destroy(u->wg_names);
	if (u->wg_events)
		g_array_free(u->wg_events, TRUE);
}

bool users_wg_enabled(const struct users *u)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, u->wg);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct wg_if *)v)->present)
			return true;
	return false;
}

void users_wg_refresh(struct users *u)
{
	__u64 now = now_ns(CLOCK_MONOTONIC);
	GHashTableIter it;
	gpointer v;
	struct stat st;

	/* a changed names file is read again (a bad one: said, and the names kept) */
	if (u->cfg.wireguard_names && now - u->wg_names_ns >= WG_REREAD_NS) {
		u->wg_names_ns = now;
		if (!stat(u->cfg.wireguard_names, &st) &&
		    (st.st_ino != u->wg_names_st.st_ino || st.st_size != u->wg_names_st.st_size ||
		     st.st_mtim.tv_sec != u->wg_names_st.st_mtim.tv_sec ||
		     st.st_mtim.tv_nsec != u->wg_names_st.st_mtim.tv_nsec)) {
			if (users_wg_load_names(u))
				u->wg_names_st = st; /* said once, until it changes again */
		}
	}

	g_hash_table_iter_init(&it, u->wg);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct wg_if *w = v;

		if (w->present && (!w->read_ns || now - w->read_ns >= WG_REREAD_NS))
			wg_read(u, w, now);
	}
}

struct names_ctx {
	struct users *u;
	GHashTable *t;
};

static void add_name(const char *key, const char *name, size_t len, void *ctx)
{
	struct names_ctx *x = ctx;

	g_hash_table_insert(x->t, g_strdup(key), (gpointer)users_intern(x->u, name, len));
}

int users_wg_load_names(struct users *u)
{
	const char *path = u->cfg.wireguard_names;
	struct names_ctx x = {u, NULL};
	char why[512], *buf = NULL;
	struct stat st;
	size_t len;
	int err;
	GHashTableIter it;
	gpointer v;

	if (!path)
		return 0;
	err = input_load("the WireGuard names file", path, &u->trust, &st, &buf, &len, why,
	                 sizeof(why));
	if (err) {
		pr_err("%s", why);
		return err;
	}
	u->wg_names_st = st;
	x.t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	err = wg_names_parse(buf, len, add_name, &x, why, sizeof(why));
	g_free(buf);
	if (err) {
		pr_err("--wireguard-names %s: %s: write it as a WireGuard config file, with "
		       "\"# Name = USER\" above [Peer]",
		       path, why);
		g_hash_table_destroy(x.t);
		return err;
	}
	g_hash_table_destroy(u->wg_names);
	u->wg_names = x.t;
	/* the peers as read keep their names only until the next read: rename them now */
	g_hash_table_iter_init(&it, u->wg);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		struct wg_if *w = v;

		for (int i = 0; i < w->dev.npeers; i++)
			w->dev.peers[i].name = peer_name(u, w->dev.peers[i].key);
		g_string_truncate(w->digest, 0);
	}
	u->gen++;
	return 0;
}

const struct wg_peer *users_wg_peer(struct users *u, const struct flow_key *k, const char *ifname)
{
	struct wg_if *w = u ? wg_if_of(u, ifname) : NULL;

	if (!w)
		return NULL;
	return wg_dev_peer_of(&w->dev, k->dir == DIR_INGRESS ? k->src : k->dst);
}

const struct wg_dev *users_wg_dev(struct users *u, const char *ifname)
{
	struct wg_if *w = u ? wg_if_of(u, ifname) : NULL;

	return w ? &w->dev : NULL;
}

void users_wg_foreach(struct users *u, void (*fn)(const struct wg_dev *dev, void *ctx), void *ctx)
{
	GHashTableIter it;
	gpointer v;

	if (!u)
		return;
	g_hash_table_iter_init(&it, u->wg);
	while (g_hash_table_iter_next(&it, NULL, &v))
		if (((struct wg_if *)v)->present)
			fn(&((struct wg_if *)v)->dev, ctx);
}

size_t users_wg_take_events(struct users *u, struct wg_event **ev)
{
	size_t n = u ? u->wg_events->len : 0;

	*ev = NULL;
	if (!n)
		return 0;
	*ev = g_memdup2(u->wg_events->data, n * sizeof(struct wg_event));
	g_array_set_size(u->wg_events, 0);
	return n;
}

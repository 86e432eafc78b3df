// SPDX-License-Identifier: GPL-2.0-only
/* Who is behind a flow: the lookups over the four sources, and their shared state. The
 * sources themselves are parsed in sessions.c, users_wg.c (with wireguard.c), openvpn.c
 * and usermap.c. */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <glib.h>
#include "core/clock.h"
#include "core/flowtab.h"
#include "util/log.h"
#include "util/text.h"
#include "sources/users_priv.h"

static bool prefix_has(const struct prefix_rule *r, const __u8 a[16])
{
	int full = r->plen / 8, rest = r->plen % 8;

	if (memcmp(r->addr, a, full) != 0)
		return false;
	return !rest || ((r->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

static void session_free(gpointer p)
{
	struct session *s = p;

	g_free(s->id);
	g_free(s);
}

static __u64 netns_ino(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (__u64)st.st_ino;
}

static int set_writer(struct users *u, const char *name)
{
	struct passwd *pw;

	if (!name)
		return 0;
	errno = 0;
	pw = getpwnam(name);
	if (!pw) {
		pr_err("--trusted-writer: no user '%s' (%s): name an existing user", name,
		       errno ? strerror(errno) : "not in the password database");
		return -EINVAL;
	}
	u->trust =
	    (struct input_trust){.set = true, .uid = pw->pw_uid, .gid = pw->pw_gid, .name = name};
	return 0;
}

struct users *users_new(const struct users_cfg *cfg)
{
	struct users *u = g_new0(struct users, 1);

	u->cfg = *cfg;
	u->strings = g_string_chunk_new(4096);
	u->interned = g_hash_table_new(g_str_hash, g_str_equal);
	u->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
	u->by_ifindex = g_hash_table_new(g_direct_hash, g_direct_equal);
	u->by_addr = users_addr_table();
	u->ovpn = users_addr_table();
	g_queue_init(&u->ended);
	u->ev.partial = g_string_new(NULL);
	u->netns = netns_ino();
	u->gen = 1;
	users_wg_init(u);
	if (set_writer(u, cfg->trusted_writer))
		goto fail;
	if (users_wg_load_names(u))
		goto fail;
	if (cfg->openvpn_status) {
		struct stat st;
		char why[512];
		int fd = input_open("the OpenVPN status file", cfg->openvpn_status, &u->trust, &st,
		                    why, sizeof(why));

		if (fd < 0) {
			pr_err("%s%s", why,
			       fd == -ENOENT ? " (set 'status FILE' in the server's config)" : "");
			goto fail;
		}
		close(fd);
	}
	if (users_reload_map(u))
		goto fail;
	users_refresh(u);
	return u;
fail:
	users_free(u);
	return NULL;
}

void users_free(struct users *u)
{
	if (!u)
		return;
	sessions_clear(u);
	g_hash_table_destroy(u->by_ifindex);
	g_hash_table_destroy(u->by_addr);
	g_hash_table_destroy(u->sessions);
	g_hash_table_destroy(u->ovpn);
	g_hash_table_destroy(u->interned);
	g_string_chunk_free(u->strings);
	g_string_free(u->ev.partial, TRUE);
	usermap_free_rules(u->iface_rules, u->prefix_rules);
	users_wg_free(u);
	g_free(u);
}

bool users_enabled(const struct users *u)
{
	return u && (u->ev.ino || u->cfg.openvpn_status || u->cfg.map || users_wg_enabled(u));
}

void users_refresh(struct users *u)
{
	sessions_read(u);
	sessions_expire(u, now_ns(CLOCK_MONOTONIC));
	users_wg_refresh(u);
	openvpn_read(u);
}

unsigned users_gen(const struct users *u) { return u->gen; }

static const char *by_addr(struct users *u, const __u8 a[16])
{
	struct session *s = g_hash_table_lookup(u->by_addr, a);
	const struct prefix_rule *best = NULL;
	const char *o;

	if (s)
		return s->user;
	if ((o = g_hash_table_lookup(u->ovpn, a)))
		return o;
	for (guint i = 0; u->prefix_rules && i < u->prefix_rules->len; i++) {
		const struct prefix_rule *r =
		    &g_array_index(u->prefix_rules, struct prefix_rule, i);

		if ((!best || r->plen > best->plen) && prefix_has(r, a))
			best = r;
	}
	return best ? best->user : NULL;
}

const char *users_of_iface(struct users *u, int ifindex, const char *ifname)
{
	struct session *s = g_hash_table_lookup(u->by_ifindex, GINT_TO_POINTER(ifindex));

	if (s)
		return s->user;
	for (guint i = 0; ifname && u->iface_rules && i < u->iface_rules->len; i++) {
		const struct iface_rule *r = &g_array_index(u->iface_rules, struct iface_rule, i);

		if (!fnmatch(r->glob, ifname, 0))
			return r->user;
	}
	return NULL;
}

const char *users_lookup(struct users *u, const struct flow_key *k, const char *ifname)
{
	const __u8 *near = flow_near(k);
	const __u8 *far = flow_far(k);
	struct session *s = g_hash_table_lookup(u->by_ifindex, GINT_TO_POINTER(k->ifindex));
	const struct wg_peer *p;
	const char *who;

	if (s)
		return s->user;
	if ((p = users_wg_peer(u, k, ifname)))
		return p->name;
	who = users_of_iface(u, k->ifindex, ifname);
	if (!who)
		who = by_addr(u, near);
	return who ? who : by_addr(u, far);
}

unsigned long users_malformed_lines(const struct users *u)
{
	return u ? u->ev_malformed + u->ovpn_malformed : 0;
}

bool users_has_session(struct users *u, int ifindex)
{
	return u && g_hash_table_contains(u->by_ifindex, GINT_TO_POINTER(ifindex));
}

bool users_follow_sessions(const struct users *u) { return u && u->ev.ino; }

void users_iface_gone(struct users *u, int ifindex)
{
	struct session *s = g_hash_table_lookup(u->by_ifindex, GINT_TO_POINTER(ifindex));

	if (!s)
		return;
	g_hash_table_remove(u->by_ifindex, GINT_TO_POINTER(ifindex));
	/* the session ends with its tunnel, disconnect line or not: its addresses linger */
	sessions_end(u, s, now_ns(CLOCK_MONOTONIC));
	u->gen++;
}

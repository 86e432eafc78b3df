// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wctype.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <net/if_arp.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <glib.h>
#include "flow.h"
#include "core/datapath.h"
#include "core/side.h"
#include "sources/ifwatch.h"
#include "sources/netlink.h"
#include "util/log.h"
#include "util/text.h"

#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif
#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519
#endif

/* Room for a burst of link events (a thousand users connecting at once); past it the
 * kernel reports an overflow and tunflow re-reads every link. */
#define EVENT_RCVBUF (8 << 20)

int link_layer(unsigned short arphrd)
{
	switch (arphrd) {
	case ARPHRD_ETHER:
	case ARPHRD_LOOPBACK:
		return 1;
	case ARPHRD_NONE: /* tun (IFF_TUN), WireGuard, ocserv vpnsN */
	case ARPHRD_PPP:
	case ARPHRD_RAWIP:
	case ARPHRD_TUNNEL:  /* ipip */
	case ARPHRD_TUNNEL6: /* ip6tnl */
	case ARPHRD_SIT:
	case ARPHRD_IPGRE:
	case ARPHRD_IP6GRE:
		return 0;
	}
	return -1;
}

/* One link as rtnetlink describes it. */
struct link_info {
	int ifindex;
	const char *name;
	const char *kind;
	unsigned short arphrd;
};

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int info_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFLA_INFO_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* 0, or -1 for messages that are not about a whole link (bridge port events). */
static int parse_link(const struct nlmsghdr *nlh, struct link_info *li)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFLA_MAX + 1] = {0}, *ti[IFLA_INFO_MAX + 1] = {0};

	if (ifm->ifi_family != AF_UNSPEC)
		return -1;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb);
	li->ifindex = ifm->ifi_index;
	li->arphrd = ifm->ifi_type;
	li->name = tb[IFLA_IFNAME] ? mnl_attr_get_str(tb[IFLA_IFNAME]) : "";
	li->kind = "";
	if (tb[IFLA_LINKINFO] && mnl_attr_parse_nested(tb[IFLA_LINKINFO], info_attr_cb, ti) >= 0 &&
	    ti[IFLA_INFO_KIND])
		li->kind = mnl_attr_get_str(ti[IFLA_INFO_KIND]);
	return 0;
}

/* ---- patterns: "=NAME" is NAME literally; otherwise a name or an fnmatch glob ---- */

static bool is_glob(const char *p) { return p[0] != '=' && strpbrk(p, "*?[\\") != NULL; }

bool ifwatch_match(const char *pat, const char *name)
{
	return pat[0] == '=' ? !strcmp(pat + 1, name) : !fnmatch(pat, name, 0);
}

static bool matches(char **pats, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (ifwatch_match(pats[i], name))
			return true;
	return false;
}

/* Why a glob can never match what it says (fnmatch would quietly take a lone '[' as
 * a character, or match nothing), or NULL when it is fine. */
static const char *glob_error(const char *p)
{
	for (size_t i = 0; p[i]; i++) {
		size_t j;

		if (p[i] == '\\') {
			if (!p[i + 1])
				return "it ends in a lone backslash";
			i++;
			continue;
		}
		if (p[i] != '[')
			continue;
		j = i + 1;
		if (p[j] == '!' || p[j] == '^')
			j++;
		if (p[j] == ']')
			j++; /* a ']' first is a character of the set */
		for (; p[j] && p[j] != ']'; j++) {
			unsigned char lo = p[j], hi;

			if (p[j] == '[' && p[j + 1] == ':') {
				const char *end = strstr(p + j + 2, ":]");
				char cls[32];
				size_t len;

				if (!end)
					return "'[:' without ':]'";
				len = end - (p + j + 2);
				if (len >= sizeof(cls))
					return "unknown character class";
				memcpy(cls, p + j + 2, len);
				cls[len] = '\0';
				if (!wctype(cls))
					return "unknown character class";
				j = end - p + 1;
				continue;
			}
			if (p[j] == '\\' && p[j + 1]) {
				j++;
				continue;
			}
			if (p[j + 1] != '-' || !p[j + 2] || p[j + 2] == ']')
				continue;
			hi = p[j + 2];
			if (lo < 0x80 && hi < 0x80 && hi < lo)
				return "a range runs backwards";
			j += 2;
		}
		if (!p[j])
			return "'[' without ']' (=NAME names an interface with '[' in it "
			       "literally)";
		i = j;
	}
	return NULL;
}

/* A usage error in one pattern: one line, -EINVAL. */
int ifwatch_check_pattern(const char *p, const char *what)
{
	const char *name = p[0] == '=' ? p + 1 : p, *why;
	char *c = text_clean(p, strlen(p), TEXT_NAME_MAX);
	int err = -EINVAL;

	if (p[0] != '=' && is_glob(p) && (why = glob_error(p)))
		pr_err("%s '%s' is not a valid glob: %s", what, c, why);
	else if (!name[0])
		pr_err("%s '%s' names no interface", what, c);
	else if ((p[0] == '=' || !is_glob(p)) && strlen(name) >= IF_NAMESIZE)
		pr_err("'%s' is too long for an interface name (max %d)", c, IF_NAMESIZE - 1);
	else
		err = 0;
	g_free(c);
	return err;
}

/* Named by the user without a glob: an unusable link type is then an error. */
static bool named_exactly(const struct ifwatch *w, const char *name)
{
	for (int i = 0; i < w->cfg.npatterns; i++)
		if (!is_glob(w->cfg.patterns[i]) && ifwatch_match(w->cfg.patterns[i], name))
			return true;
	return false;
}

/* Whether a link should be watched; *ll gets its link layer. */
static bool wanted(const struct ifwatch *w, const struct link_info *li, int *ll)
{
	*ll = link_layer(li->arphrd);
	if (!li->name[0] || matches(w->cfg.excludes, w->cfg.nexcludes, li->name))
		return false;
	if (w->cfg.npatterns == 0)
		return *ll == 0; /* default: every L3 tunnel */
	return matches(w->cfg.patterns, w->cfg.npatterns, li->name);
}

/* ---- the watched table: changed by the link thread alone, published under the lock */

static void detach_hooks(struct watched *e)
{
	for (int i = e->nhooks - 1; i >= 0; i--)
		hook_detach(&e->hooks[i]);
	e->nhooks = 0;
}

/* Detach (slow, without the lock), then publish the interface as gone. */
static void unwatch(struct ifwatch *w, struct watched *e)
{
	int ifindex = e->ifindex;

	detach_hooks(e);
	pthread_mutex_lock(&w->lock);
	if (w->ngone == w->capgone) {
		size_t cap = w->capgone ? w->capgone * 2 : 16;
		int *g = realloc(w->gone, cap * sizeof(*g));

		if (g) {
			w->gone = g;
			w->capgone = cap;
		}
	}
	if (w->ngone < w->capgone)
		w->gone[w->ngone++] = ifindex;
	g_hash_table_remove(w->by_ifindex, GINT_TO_POINTER(ifindex));
	/* under the lock: the name lives on until two hand-overs after this one */
	iface_forget(ifindex);
	side_forget(ifindex);
	pthread_mutex_unlock(&w->lock);
}

static const char *dirs_name(int dirs)
{
	return dirs == 3 ? "ingress+egress" : dirs & 1 << DIR_INGRESS ? "ingress" : "egress";
}

static void count_attach_error(struct ifwatch *w)
{
	pthread_mutex_lock(&w->lock);
	w->attach_errors++;
	pthread_mutex_unlock(&w->lock);
}

/* Attach to a new link. At start (fatal), errors are returned; later they are counted. */
static int watch(struct ifwatch *w, const struct link_info *li, int ll, bool fatal)
{
	struct watched *e;
	char *shown;
	int err = 0;

	if (ll < 0) {
		if (!named_exactly(w, li->name))
			return 0; /* a glob that also matches, say, a CAN bus: not ours to read */
		shown = text_clean(li->name, strlen(li->name), TEXT_NAME_MAX);
		pr_err("%s has link type %d, which tunflow cannot parse (it reads Ethernet and "
		       "L3 tunnel links)",
		       shown, li->arphrd);
		g_free(shown);
		if (!fatal)
			count_attach_error(w);
		return fatal ? -EPROTONOSUPPORT : 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ifindex = li->ifindex;
	snprintf(e->name, sizeof(e->name), "%s", li->name);
	snprintf(e->kind, sizeof(e->kind), "%s", li->kind);
	e->l2 = ll == 1;
	e->seen = true;
	iface_remember(e->ifindex, e->name);
	/* the slow part, without the lock: a harvest goes on meanwhile */
	for (int dir = DIR_INGRESS; dir <= DIR_EGRESS; dir++) {
		struct hook *h = &e->hooks[e->nhooks];

		if (!(w->cfg.dirs & 1 << dir))
			continue;
		h->ifindex = e->ifindex;
		h->dir = dir;
		snprintf(h->ifname, sizeof(h->ifname), "%s", e->name);
		err = hook_attach(h, dp_prog_fd(w->dp, e->l2, dir), w->cfg.mode);
		if (err)
			break;
		e->nhooks++;
	}
	if (err) {
		detach_hooks(e);
		free(e);
		iface_forget(li->ifindex);
		if (err == -ENODEV)
			return 0; /* gone before it could be attached: it had no packets */
		if (!fatal)
			count_attach_error(w);
		/* -EINVAL is reserved for usage errors (see ifwatch.h) */
		return fatal ? (err == -EINVAL ? -EIO : err) : 0;
	}
	pthread_mutex_lock(&w->lock);
	g_hash_table_insert(w->by_ifindex, GINT_TO_POINTER(e->ifindex), e);
	pthread_mutex_unlock(&w->lock);
	pr_info("watching %s (%s%s%s, %s, %s)", iface_name(e->ifindex), e->kind,
	        e->kind[0] ? ", " : "", e->l2 ? "L2" : "L3", mode_name(e->hooks[0].mode),
	        dirs_name(w->cfg.dirs));
	return 0;
}

static int on_link(struct ifwatch *w, const struct link_info *li, bool fatal)
{
	struct watched *e = g_hash_table_lookup(w->by_ifindex, GINT_TO_POINTER(li->ifindex));
	int ll;
	bool want = wanted(w, li, &ll);
	char *old, *now;

	if (!e)
		return want ? watch(w, li, ll, fatal) : 0;
	e->seen = true;
	if (!strcmp(e->name, li->name))
		return 0;
	/* renamed: follow it while it still matches, else let it go */
	old = text_clean(e->name, strlen(e->name), TEXT_NAME_MAX);
	now = text_clean(li->name, strlen(li->name), TEXT_NAME_MAX);
	pr_info("%s is now %s%s", old, now, want ? "" : "; no longer watched");
	g_free(old);
	g_free(now);
	if (!want) {
		unwatch(w, e);
		return 0;
	}
	pthread_mutex_lock(&w->lock);
	snprintf(e->name, sizeof(e->name), "%s", li->name);
	pthread_mutex_unlock(&w->lock);
	iface_remember(e->ifindex, e->name);
	return 0;
}

static void on_gone(struct ifwatch *w, int ifindex)
{
	struct watched *e = g_hash_table_lookup(w->by_ifindex, GINT_TO_POINTER(ifindex));

	if (!e)
		return;
	pr_info("%s is gone", iface_name(ifindex));
	unwatch(w, e);
}

struct dump_ctx {
	struct ifwatch *w;
	bool fatal;
	int err;
};

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct link_info li;

	if (parse_link(nlh, &li) == 0 && !d->err)
		d->err = on_link(d->w, &li, d->fatal);
	return MNL_CB_OK;
}

/* Every link there is. */
static int dump_links(struct ifwatch *w, bool fatal)
{
	struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
	struct dump_ctx d = {.w = w, .fatal = fatal};
	int err = nl_dump(RTM_GETLINK, &ifm, sizeof(ifm), dump_cb, &d);

	return err ? err : d.err;
}

/* ---- the watched interfaces' own addresses, for the side rule (core/side.h) */

struct addrs {
	__u8 own[SIDE_MAX_OWN][16], peer[SIDE_MAX_PEER][16];
	__u8 own_plen[SIDE_MAX_OWN]; /* in the 16 bytes: IPv4's + 96 */
	size_t nown, npeer;
};

static int addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, IFA_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

/* 16 bytes, IPv4-mapped as flow keys hold them; false when a is not an address. */
static bool addr16(const struct nlattr *a, int family, __u8 out[16])
{
	size_t len = a ? mnl_attr_get_payload_len(a) : 0;

	memset(out, 0, 16);
	if (family == AF_INET && len == 4) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, mnl_attr_get_payload(a), 4);
		return true;
	}
	if (family == AF_INET6 && len == 16) {
		memcpy(out, mnl_attr_get_payload(a), 16);
		return true;
	}
	return false;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	GHashTable *by = data; /* watched ifindex -> struct addrs */
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	__u8 local[16], address[16];
	bool has_local, has_address;
	struct addrs *a;

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return MNL_CB_OK;
	a = g_hash_table_lookup(by, GINT_TO_POINTER((int)ifa->ifa_index));
	if (!a)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	has_local = addr16(tb[IFA_LOCAL], ifa->ifa_family, local);
	has_address = addr16(tb[IFA_ADDRESS], ifa->ifa_family, address);
	if (!has_local && has_address) { /* IPv6: IFA_ADDRESS is the local one */
		memcpy(local, address, 16);
		has_local = true;
		has_address = false;
	}
	/* point to point: IFA_ADDRESS is the peer (vpnc-script gives peer == local), the
	 * prefix is the peer's: the local address is alone in its own */
	bool p2p = has_local && has_address && memcmp(local, address, 16) != 0;

	if (has_local && a->nown < SIDE_MAX_OWN) {
		unsigned plen = ifa->ifa_prefixlen + (ifa->ifa_family == AF_INET ? 96 : 0);

		a->own_plen[a->nown] = p2p || plen > 128 ? 128 : plen;
		memcpy(a->own[a->nown++], local, 16);
	}
	if (p2p && a->npeer < SIDE_MAX_PEER)
		memcpy(a->peer[a->npeer++], address, 16);
	return MNL_CB_OK;
}

/* Read every address, and tell the side table those of the watched interfaces. In the
 * watching thread (or before it starts). */
static void refresh_addrs(struct ifwatch *w)
{
	struct ifaddrmsg ifa = {.ifa_family = AF_UNSPEC};
	GHashTable *by = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	GHashTableIter it;
	gpointer k, v;

	w->addrs_dirty = false;
	g_hash_table_iter_init(&it, w->by_ifindex);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(by, k, g_new0(struct addrs, 1));
	if (g_hash_table_size(by) && nl_dump(RTM_GETADDR, &ifa, sizeof(ifa), addr_cb, by) == 0) {
		g_hash_table_iter_init(&it, by);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			struct addrs *a = v;

			side_set_addrs(GPOINTER_TO_INT(k), (const __u8(*)[16])a->own, a->own_plen,
			               a->nown, (const __u8(*)[16])a->peer, a->npeer);
		}
	} else if (g_hash_table_size(by)) {
		w->addrs_dirty = true; /* try again at the next event */
	}
	g_hash_table_destroy(by);
}

static void free_watched(gpointer p) { free(p); }

/* Say what is awaited, even with --quiet (a typo waits forever), in one line however
 * many patterns have no match yet. */
static void say_awaited(const struct ifwatch *w)
{
	GString *s = g_string_new(NULL);
	int n = 0;

	for (int p = 0; p < w->cfg.npatterns; p++) {
		GHashTableIter it;
		gpointer k, v;
		bool hit = false;

		g_hash_table_iter_init(&it, w->by_ifindex);
		while (!hit && g_hash_table_iter_next(&it, &k, &v))
			hit = ifwatch_match(w->cfg.patterns[p], ((struct watched *)v)->name);
		if (hit || n++ >= 3)
			continue;
		if (n > 1)
			g_string_append(s, ", ");
		{
			char *c = text_clean(w->cfg.patterns[p], strlen(w->cfg.patterns[p]), 64);

			g_string_append_printf(s, "'%s'", c);
			g_free(c);
		}
	}
	if (n == 1)
		pr_warn("no interface matches %s yet; waiting for it (see 'ip link')", s->str);
	else if (n > 3)
		pr_warn("no interface matches %s or %d other patterns yet; waiting for them "
		        "(see 'ip link')",
		        s->str, n - 3);
	else if (n > 1)
		pr_warn("no interface matches %s yet; waiting for them (see 'ip link')", s->str);
	g_string_free(s, TRUE);
	if (w->cfg.npatterns == 0 && g_hash_table_size(w->by_ifindex) == 0)
		pr_warn("no tunnel interface yet; waiting for one (or name the interfaces to "
		        "watch, e.g. 'tunflow eth0')");
}

struct count_ctx {
	const struct ifwatch *w;
	int n;
};

static int count_cb(const struct nlmsghdr *nlh, void *data)
{
	struct count_ctx *c = data;
	struct link_info li;
	int ll;

	if (parse_link(nlh, &li) == 0 && wanted(c->w, &li, &ll) && ll >= 0)
		c->n++;
	return MNL_CB_OK;
}

/* How many links the start would attach to: -errno when they cannot be listed. */
static int count_wanted(const struct ifwatch_cfg *cfg)
{
	struct ifwatch w = {.cfg = *cfg};
	struct count_ctx c = {.w = &w};
	struct ifinfomsg ifm = {.ifi_family = AF_UNSPEC};
	int err = nl_dump(RTM_GETLINK, &ifm, sizeof(ifm), count_cb, &c);

	return err ? err : c.n;
}

int ifwatch_claim(struct ifwatch_cfg *cfg, const struct datapath *dp)
{
	int err, n;

	for (int p = 0; p < cfg->npatterns; p++)
		if (ifwatch_check_pattern(cfg->patterns[p], "interface"))
			return -EINVAL;
	for (int p = 0; p < cfg->nexcludes; p++)
		if (ifwatch_check_pattern(cfg->excludes[p], "--exclude pattern"))
			return -EINVAL;
	/* What a killed tunflow left: its filters count into a map nobody reads */
	err = hook_remove_leftovers();
	if (err < 0)
		return err == -EINVAL ? -EIO : err;
	/* A tcx attach or detach waits for an RCU grace period under the RTNL lock (16 ms
	 * each on a 6.18 test host: 1000 interfaces took 35 s to start and 17 s to stop);
	 * a clsact filter does not. A start with many interfaces takes tc. */
	if (cfg->mode == MODE_AUTO && tcx_supported() && (n = count_wanted(cfg)) > TCX_BURST_MAX) {
		pr_info("%d interfaces to attach: using tc (clsact) rather than tcx, which "
		        "waits for an RCU grace period per hook (--attach tcx to insist)",
		        n);
		cfg->mode = MODE_TC;
	}
	if (cfg->mode == MODE_TC || (cfg->mode == MODE_AUTO && !tcx_supported())) {
		int fds[4];

		for (int i = 0; i < 4; i++)
			fds[i] = dp_prog_fd(dp, i >> 1, i & 1 ? DIR_EGRESS : DIR_INGRESS);
		err = hook_owner_register(fds, 4);
		if (err)
			return err == -EINVAL ? -EIO : err;
	}
	return 0;
}

int ifwatch_open(struct ifwatch *w, const struct ifwatch_cfg *cfg, const struct datapath *dp)
{
	int err, fd, rcvbuf = EVENT_RCVBUF;

	memset(w, 0, sizeof(*w));
	w->notify_fd = w->stop_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->cfg = *cfg;
	w->dp = dp;
	w->by_ifindex = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_watched);
	/* Subscribe before the dump, so that a link created meanwhile is not missed (one
	 * seen twice is harmless). */
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->nl || mnl_socket_bind(w->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	                              MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		pr_err("cannot follow interface changes (rtnetlink): %s", strerror(-err));
		return err == -EINVAL ? -EIO : err;
	}
	fd = mnl_socket_get_fd(w->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	err = dump_links(w, true);
	if (err) {
		if (err != -EPROTONOSUPPORT && err != -ENOMEM && err != -EIO)
			pr_err("cannot list interfaces: %s", strerror(-err));
		return err == -EINVAL ? -EIO : err;
	}
	w->ngone = 0; /* nothing had flows yet */
	refresh_addrs(w);
	side_commit();
	say_awaited(w);
	return 0;
}

int ifwatch_fd(const struct ifwatch *w) { return w->notify_fd; }

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifwatch *w = data;
	struct link_info li;

	if (nlh->nlmsg_type == RTM_NEWADDR || nlh->nlmsg_type == RTM_DELADDR ||
	    nlh->nlmsg_type == RTM_NEWLINK || nlh->nlmsg_type == RTM_DELLINK)
		w->addrs_dirty = true;
	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return MNL_CB_OK;
	if (parse_link(nlh, &li))
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_NEWLINK)
		on_link(w, &li, false);
	else if (nlh->nlmsg_type == RTM_DELLINK)
		on_gone(w, li.ifindex);
	return MNL_CB_OK;
}

/* Events were lost: re-read every link, and let go of the watched ones not there. */
static void resync(struct ifwatch *w)
{
	GHashTableIter it;
	gpointer k, v;
	GArray *gone = g_array_new(FALSE, FALSE, sizeof(int));

	g_hash_table_iter_init(&it, w->by_ifindex);
	while (g_hash_table_iter_next(&it, &k, &v))
		((struct watched *)v)->seen = false;
	if (dump_links(w, false))
		goto out; /* try again at the next event */
	g_hash_table_iter_init(&it, w->by_ifindex);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (!((struct watched *)v)->seen)
			g_array_append_val(gone, ((struct watched *)v)->ifindex);
	for (guint i = 0; i < gone->len; i++)
		on_gone(w, g_array_index(gone, int, i));
out:
	g_array_free(gone, TRUE);
}

/* Tell the loop when interfaces went, as soon as they did (not after a whole burst). */
static void notify_gone(struct ifwatch *w)
{
	size_t ngone;
	__u64 one = 1;

	pthread_mutex_lock(&w->lock);
	ngone = w->ngone;
	pthread_mutex_unlock(&w->lock);
	if (ngone && write(w->notify_fd, &one, sizeof(one)) < 0)
		return; /* EAGAIN: the counter is full, the loop is told already */
}

static void process_events(struct ifwatch *w)
{
	char buf[MNL_SOCKET_BUFFER_SIZE * 4];
	bool overflow = false;
	int n;

	for (;;) {
		n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				overflow = true;
				pthread_mutex_lock(&w->lock);
				w->lost_events++;
				pthread_mutex_unlock(&w->lock);
				continue;
			}
			break; /* EAGAIN: all read */
		}
		mnl_cb_run(buf, n, 0, 0, event_cb, w);
		notify_gone(w);
	}
	if (overflow) {
		resync(w);
		w->addrs_dirty = true;
	}
	if (w->addrs_dirty)
		refresh_addrs(w);
	side_commit();
	notify_gone(w);
}

static void *watch_thread(void *arg)
{
	struct ifwatch *w = arg;
	struct pollfd p[2] = {
	    {.fd = mnl_socket_get_fd(w->nl), .events = POLLIN},
	    {.fd = w->stop_fd, .events = POLLIN},
	};

	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		if (p[1].revents)
			break;
		if (p[0].revents)
			process_events(w);
	}
	return NULL;
}

int ifwatch_start(struct ifwatch *w)
{
	int err;

	w->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (w->notify_fd < 0 || w->stop_fd < 0)
		return -errno;
	err = pthread_create(&w->thread, NULL, watch_thread, w);
	if (err)
		return -err;
	w->threaded = true;
	return 0;
}

size_t ifwatch_take_gone(struct ifwatch *w, int **out)
{
	size_t n;
	__u64 v;

	/* between harvests, on the thread that calls iface_name(): nothing holds a name */
	iface_names_release();
	side_release();
	if (w->notify_fd >= 0 && read(w->notify_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&w->lock);
	n = w->ngone;
	*out = NULL;
	if (n) {
		*out = malloc(n * sizeof(**out));
		if (*out)
			memcpy(*out, w->gone, n * sizeof(**out));
		else
			n = 0; /* keep them for the next call */
		w->ngone -= n;
	}
	if (!w->by_ifindex && !w->ngone) { /* closed: this was the last call */
		free(w->gone);
		w->gone = NULL;
		w->capgone = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}

size_t ifwatch_count(struct ifwatch *w)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->by_ifindex ? g_hash_table_size(w->by_ifindex) : 0;
	pthread_mutex_unlock(&w->lock);
	return n;
}

/* A counter the link-event thread writes, read under its lock. */
static unsigned long locked(struct ifwatch *w, const unsigned long *counter)
{
	unsigned long n;

	pthread_mutex_lock(&w->lock);
	n = *counter;
	pthread_mutex_unlock(&w->lock);
	return n;
}

unsigned long ifwatch_attach_errors(struct ifwatch *w) { return locked(w, &w->attach_errors); }

unsigned long ifwatch_lost_events(struct ifwatch *w) { return locked(w, &w->lost_events); }

void ifwatch_close(struct ifwatch *w)
{
	GHashTableIter it;
	gpointer k, v;
	__u64 one = 1;

	if (w->threaded) {
		if (write(w->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(w->thread, NULL);
		w->threaded = false;
	}
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &w->stop_fd : &w->notify_fd;

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}

	if (w->by_ifindex) {
		g_hash_table_iter_init(&it, w->by_ifindex);
		while (g_hash_table_iter_next(&it, &k, &v))
			detach_hooks(v);
		pthread_mutex_lock(&w->lock);
		g_hash_table_destroy(w->by_ifindex);
		w->by_ifindex = NULL;
		pthread_mutex_unlock(&w->lock);
	}
	hook_owner_unregister();
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
	/* w->gone stays for a last ifwatch_take_gone() */
}

/* ---- names of the interfaces tunflow watches, kept while their last flows are
 * reported after they went, then forgotten: under churn the table stays the size of
 * what is watched plus what went in the last two hand-overs. */

struct known_name {
	char *name;          /* cleaned */
	unsigned gone_epoch; /* iface_names_release() calls when it went */
	bool gone;
};

static GHashTable *known;  /* ifindex -> struct known_name */
static GPtrArray *retired; /* names replaced by a rename: freed at the next release */
static unsigned epoch;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

static void free_known(gpointer p)
{
	struct known_name *k = p;

	g_ptr_array_add(retired, k->name); /* may be in use until the next release */
	g_free(k);
}

void iface_remember(int ifindex, const char *name)
{
	char *c = text_clean(name, strnlen(name, IF_NAMESIZE), TEXT_NAME_MAX);
	struct known_name *k;

	pthread_mutex_lock(&known_lock);
	if (!known) {
		known = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_known);
		retired = g_ptr_array_new_with_free_func(g_free);
	}
	k = g_hash_table_lookup(known, GINT_TO_POINTER(ifindex));
	if (!k) {
		k = g_new0(struct known_name, 1);
		g_hash_table_insert(known, GINT_TO_POINTER(ifindex), k);
	}
	if (k->name && !strcmp(k->name, c)) {
		g_free(c);
	} else {
		if (k->name)
			g_ptr_array_add(retired, k->name);
		k->name = c;
	}
	k->gone = false;
	pthread_mutex_unlock(&known_lock);
}

void iface_forget(int ifindex)
{
	struct known_name *k;

	pthread_mutex_lock(&known_lock);
	k = known ? g_hash_table_lookup(known, GINT_TO_POINTER(ifindex)) : NULL;
	if (k) {
		k->gone = true;
		k->gone_epoch = epoch;
	}
	pthread_mutex_unlock(&known_lock);
}

static gboolean gone_long_ago(gpointer key, gpointer value, gpointer data)
{
	const struct known_name *k = value;

	(void)key;
	(void)data;
	/* went before the previous release: handed over and reported since */
	return k->gone && k->gone_epoch + 2 <= epoch;
}

void iface_names_release(void)
{
	pthread_mutex_lock(&known_lock);
	if (known) {
		epoch++;
		g_ptr_array_set_size(retired, 0);
		g_hash_table_foreach_remove(known, gone_long_ago, NULL);
	}
	pthread_mutex_unlock(&known_lock);
}

size_t iface_names_count(void)
{
	size_t n;

	pthread_mutex_lock(&known_lock);
	n = known ? g_hash_table_size(known) : 0;
	pthread_mutex_unlock(&known_lock);
	return n;
}

const char *iface_name(int ifindex)
{
	static char *fallback;
	char buf[IF_NAMESIZE];
	struct known_name *k;
	const char *n = NULL;

	pthread_mutex_lock(&known_lock);
	k = known ? g_hash_table_lookup(known, GINT_TO_POINTER(ifindex)) : NULL;
	if (k)
		n = k->name;
	pthread_mutex_unlock(&known_lock);
	if (n)
		return n;
	g_free(fallback);
	if (if_indextoname(ifindex, buf))
		fallback = text_clean(buf, strnlen(buf, IF_NAMESIZE), TEXT_NAME_MAX);
	else
		fallback = g_strdup_printf("if%d", ifindex);
	return fallback;
}

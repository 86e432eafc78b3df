// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
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
#include "sources/ifwatch.h"

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
	case ARPHRD_NONE:    /* tun (IFF_TUN), WireGuard, ocserv vpnsN */
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

static bool is_glob(const char *p)
{
	return strpbrk(p, "*?[") != NULL;
}

static bool matches(char **pats, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!fnmatch(pats[i], name, 0))
			return true;
	return false;
}

/* Named by the user without a glob: an unusable link type is then an error. */
static bool named_exactly(const struct ifwatch *w, const char *name)
{
	for (int i = 0; i < w->cfg.npatterns; i++)
		if (!is_glob(w->cfg.patterns[i]) && !strcmp(w->cfg.patterns[i], name))
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

static void detach_hooks(struct watched *e)
{
	for (int i = e->nhooks - 1; i >= 0; i--)
		hook_detach(&e->hooks[i]);
	e->nhooks = 0;
}

static void unwatch(struct ifwatch *w, struct watched *e)
{
	detach_hooks(e);
	if (w->ngone == w->capgone) {
		size_t cap = w->capgone ? w->capgone * 2 : 16;
		int *g = realloc(w->gone, cap * sizeof(*g));

		if (g) {
			w->gone = g;
			w->capgone = cap;
		}
	}
	if (w->ngone < w->capgone)
		w->gone[w->ngone++] = e->ifindex;
	g_hash_table_remove(w->by_ifindex, GINT_TO_POINTER(e->ifindex));
}

static const char *dirs_name(int dirs)
{
	return dirs == 3 ? "ingress+egress" : dirs & 1 << DIR_INGRESS ? "ingress" : "egress";
}

/* Attach to a new link. At start (fatal), errors are returned; later they are counted. */
static int watch(struct ifwatch *w, const struct link_info *li, int ll, bool fatal)
{
	struct watched *e;
	int err = 0;

	if (ll < 0) {
		if (!named_exactly(w, li->name))
			return 0; /* a glob that also matches, say, a CAN bus: not ours to read */
		fprintf(stderr,
			"tunflow: %s has link type %d, which tunflow cannot parse (it reads "
			"Ethernet and L3 tunnel links)\n",
			li->name, li->arphrd);
		if (!fatal)
			w->attach_errors++;
		return fatal ? -EPROTONOSUPPORT : 0;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->ifindex = li->ifindex;
	snprintf(e->name, sizeof(e->name), "%s", li->name);
	snprintf(e->kind, sizeof(e->kind), "%s", li->kind);
	e->arphrd = li->arphrd;
	e->l2 = ll == 1;
	e->seen = true;
	iface_remember(e->ifindex, e->name);
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
		if (err == -ENODEV)
			return 0; /* gone before it could be attached: it had no packets */
		if (!fatal)
			w->attach_errors++;
		return fatal ? err : 0;
	}
	g_hash_table_insert(w->by_ifindex, GINT_TO_POINTER(e->ifindex), e);
	if (!w->cfg.quiet)
		fprintf(stderr, "tunflow: watching %s (%s%s%s, %s, %s)\n", e->name, e->kind,
			e->kind[0] ? ", " : "", e->l2 ? "L2" : "L3", mode_name(e->hooks[0].mode),
			dirs_name(w->cfg.dirs));
	return 0;
}

static int on_link(struct ifwatch *w, const struct link_info *li, bool fatal)
{
	struct watched *e = g_hash_table_lookup(w->by_ifindex, GINT_TO_POINTER(li->ifindex));
	int ll;
	bool want = wanted(w, li, &ll);

	if (!e)
		return want ? watch(w, li, ll, fatal) : 0;
	e->seen = true;
	if (!strcmp(e->name, li->name))
		return 0;
	/* renamed: follow it while it still matches, else let it go */
	if (!w->cfg.quiet)
		fprintf(stderr, "tunflow: %s is now %s%s\n", e->name, li->name,
			want ? "" : "; no longer watched");
	if (!want) {
		unwatch(w, e);
		return 0;
	}
	snprintf(e->name, sizeof(e->name), "%s", li->name);
	iface_remember(e->ifindex, e->name);
	return 0;
}

static void on_gone(struct ifwatch *w, int ifindex)
{
	struct watched *e = g_hash_table_lookup(w->by_ifindex, GINT_TO_POINTER(ifindex));

	if (!e)
		return;
	if (!w->cfg.quiet)
		fprintf(stderr, "tunflow: %s is gone\n", e->name);
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

/* Every link there is, through a dump on a socket of its own. */
static int dump_links(struct ifwatch *w, bool fatal)
{
	char buf[32768]; /* MNL_SOCKET_DUMP_SIZE, missing from older libmnl */
	struct dump_ctx d = {.w = w, .fatal = fatal};
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;
	unsigned int seq = time(NULL), portid;
	int ret = -1;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, dump_cb, &d);
		if (ret <= MNL_CB_STOP)
			break;
	}
	ret = ret < 0 ? -errno : d.err;
out:
	if (nl)
		mnl_socket_close(nl);
	return ret;
}

static void free_watched(gpointer p)
{
	free(p);
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
	for (int p = 0; p < cfg->npatterns; p++) {
		if (strlen(cfg->patterns[p]) >= IF_NAMESIZE && !is_glob(cfg->patterns[p])) {
			fprintf(stderr, "tunflow: '%s' is too long for an interface name (max %d)\n",
				cfg->patterns[p], IF_NAMESIZE - 1);
			return -EINVAL;
		}
	}
	/* Subscribe before the dump, so that a link created meanwhile is not missed (one
	 * seen twice is harmless). */
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->nl || mnl_socket_bind(w->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		fprintf(stderr, "tunflow: cannot follow interface changes (rtnetlink): %s\n",
			strerror(errno));
		return err;
	}
	fd = mnl_socket_get_fd(w->nl);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	err = dump_links(w, true);
	if (err) {
		if (err != -EPROTONOSUPPORT && err != -ENOMEM)
			fprintf(stderr, "tunflow: cannot list interfaces: %s\n", strerror(-err));
		return err;
	}
	w->ngone = 0; /* nothing had flows yet */
	/* Say what is awaited, even with --quiet (a typo waits forever): a pattern with no
	 * match yet waits for one to appear. */
	for (int p = 0; p < cfg->npatterns; p++) {
		GHashTableIter it;
		gpointer k, v;
		bool hit = false;

		g_hash_table_iter_init(&it, w->by_ifindex);
		while (!hit && g_hash_table_iter_next(&it, &k, &v))
			hit = !fnmatch(cfg->patterns[p], ((struct watched *)v)->name, 0);
		if (!hit)
			fprintf(stderr, "tunflow: no interface matches '%s' yet; waiting for it "
					"(see 'ip link')\n", cfg->patterns[p]);
	}
	if (cfg->npatterns == 0 && ifwatch_count(w) == 0)
		fprintf(stderr, "tunflow: no tunnel interface yet; waiting for one (or name the "
				"interfaces to watch, e.g. 'tunflow eth0')\n");
	return 0;
}

int ifwatch_fd(const struct ifwatch *w)
{
	return w->notify_fd;
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifwatch *w = data;
	struct link_info li;

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

	w->resyncs++;
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
				continue;
			}
			break; /* EAGAIN: all read */
		}
		mnl_cb_run(buf, n, 0, 0, event_cb, w);
	}
	if (overflow)
		resync(w);
}

static void *watch_thread(void *arg)
{
	struct ifwatch *w = arg;
	struct pollfd p[2] = {
		{.fd = mnl_socket_get_fd(w->nl), .events = POLLIN},
		{.fd = w->stop_fd, .events = POLLIN},
	};

	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		size_t ngone;
		__u64 one = 1;

		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		pthread_mutex_lock(&w->lock);
		process_events(w);
		ngone = w->ngone;
		pthread_mutex_unlock(&w->lock);
		if (ngone && write(w->notify_fd, &one, sizeof(one)) < 0)
			break;
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

unsigned long ifwatch_attach_errors(struct ifwatch *w)
{
	unsigned long n;

	pthread_mutex_lock(&w->lock);
	n = w->attach_errors;
	pthread_mutex_unlock(&w->lock);
	return n;
}

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
		g_hash_table_destroy(w->by_ifindex);
		w->by_ifindex = NULL;
	}
	if (w->nl)
		mnl_socket_close(w->nl);
	w->nl = NULL;
	/* w->gone stays for a last ifwatch_take_gone() */
}

/* Names of the interfaces tunflow watches, kept after an interface is gone so that its
 * last flows still carry its name. */
static GHashTable *known; /* ifindex -> name, interned: a name is never freed, so
			  * one handed out stays valid across a rename */
static GStringChunk *names;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

void iface_remember(int ifindex, const char *name)
{
	pthread_mutex_lock(&known_lock);
	if (!known) {
		known = g_hash_table_new(g_direct_hash, g_direct_equal);
		names = g_string_chunk_new(1024);
	}
	g_hash_table_insert(known, GINT_TO_POINTER(ifindex),
			    g_string_chunk_insert_const(names, name));
	pthread_mutex_unlock(&known_lock);
}

const char *iface_name(int ifindex)
{
	static char buf[IF_NAMESIZE + 8];
	const char *n;

	pthread_mutex_lock(&known_lock);
	n = known ? g_hash_table_lookup(known, GINT_TO_POINTER(ifindex)) : NULL;
	pthread_mutex_unlock(&known_lock);
	if (n)
		return n;
	if (if_indextoname(ifindex, buf))
		return buf;
	snprintf(buf, sizeof(buf), "if%d", ifindex);
	return buf;
}

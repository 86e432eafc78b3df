// SPDX-License-Identifier: GPL-2.0-only
/* The kernel's WireGuard, as `wg show` reads it: generic netlink family "wireguard",
 * WG_CMD_GET_DEVICE dumped by interface name. A device with many peers comes in several
 * messages, and one peer's allowed IPs may continue in the next message (the kernel
 * repeats its public key first): wg_nl_parse() coalesces them. Every attribute's length
 * is checked before it is read; anything else is refused with its reason.
 * No machine this was built on has the WireGuard module: the parser is tested with
 * crafted messages (tests/unit/test_wireguard.c), the request itself is not. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <glib.h>
#include "sources/wireguard.h"

#define WG_NL_BUF 32768

static int why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

struct nl_parse {
	struct wg_dev *dev;
	struct wg_peer *p;
	char *why;
	size_t whylen;
	int err;
	bool first_peer; /* the first peer of this message: may continue the last one */
};

/* Whether a loop over nest's attributes got to its end: the loop stops early at the
 * first attribute that does not fit. */
static bool nest_ends(const struct nlattr *a, const struct nlattr *nest)
{
	return (const char *)a >=
	       (const char *)mnl_attr_get_payload(nest) + mnl_attr_get_payload_len(nest);
}

/* All attributes of one nest into tb (by type, at most max), each seen once. */
static int nest_table(const struct nlattr *nest, const struct nlattr **tb, int max,
                      struct nl_parse *x, const char *what)
{
	const struct nlattr *a;

	memset(tb, 0, sizeof(*tb) * (max + 1));
	mnl_attr_for_each_nested(a, nest)
	{
		int t = mnl_attr_get_type(a);

		if (t > max)
			continue; /* a newer kernel's attribute */
		if (tb[t])
			return x->err =
			           why_set(x->why, x->whylen, "%s: attribute %d twice", what, t);
		tb[t] = a;
	}
	if (!nest_ends(a, nest))
		return x->err =
		           why_set(x->why, x->whylen, "%s: an attribute runs past its nest", what);
	return 0;
}

static bool len_is(const struct nlattr *a, size_t n)
{
	return !a || mnl_attr_get_payload_len(a) == n;
}

static int allowed_ip(const struct nlattr *nest, struct wg_peer *p, struct nl_parse *x)
{
	const struct nlattr *tb[WGALLOWEDIP_A_MAX + 1];
	struct wg_allowed w = {0};
	__u16 fam;
	int cidr;

	if (nest_table(nest, tb, WGALLOWEDIP_A_MAX, x, "allowed IP"))
		return x->err;
	if (!tb[WGALLOWEDIP_A_FAMILY] || !tb[WGALLOWEDIP_A_IPADDR] ||
	    !tb[WGALLOWEDIP_A_CIDR_MASK] || !len_is(tb[WGALLOWEDIP_A_FAMILY], 2) ||
	    !len_is(tb[WGALLOWEDIP_A_CIDR_MASK], 1))
		return x->err = why_set(x->why, x->whylen,
		                        "an allowed IP without family, address "
		                        "and mask");
	fam = mnl_attr_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
	cidr = mnl_attr_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
	if (fam == AF_INET && len_is(tb[WGALLOWEDIP_A_IPADDR], 4) && cidr <= 32) {
		w.addr[10] = w.addr[11] = 0xff;
		memcpy(w.addr + 12, mnl_attr_get_payload(tb[WGALLOWEDIP_A_IPADDR]), 4);
		w.plen = 96 + cidr;
	} else if (fam == AF_INET6 && len_is(tb[WGALLOWEDIP_A_IPADDR], 16) && cidr <= 128) {
		memcpy(w.addr, mnl_attr_get_payload(tb[WGALLOWEDIP_A_IPADDR]), 16);
		w.plen = cidr;
	} else {
		return x->err =
		           why_set(x->why, x->whylen, "an allowed IP of family %u, %u bytes, /%d",
		                   fam, mnl_attr_get_payload_len(tb[WGALLOWEDIP_A_IPADDR]), cidr);
	}
	for (int b = w.plen; b < 128; b++)
		w.addr[b / 8] &= (__u8) ~(0x80 >> (b % 8));
	p->allowed = g_renew(struct wg_allowed, p->allowed, p->nallowed + 1);
	p->allowed[p->nallowed++] = w;
	return 0;
}

static int endpoint(const struct nlattr *a, struct wg_peer *p, struct nl_parse *x)
{
	size_t n = mnl_attr_get_payload_len(a);
	const void *v = mnl_attr_get_payload(a);
	char txt[INET6_ADDRSTRLEN];
	sa_family_t fam;

	if (n < sizeof(fam))
		goto bad;
	memcpy(&fam, v, sizeof(fam));
	if (fam == AF_INET && n == sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, v, sizeof(sin));
		memset(p->endpoint_addr, 0, 16);
		p->endpoint_addr[10] = p->endpoint_addr[11] = 0xff;
		memcpy(p->endpoint_addr + 12, &sin.sin_addr, 4);
		p->endpoint_port = ntohs(sin.sin_port);
		inet_ntop(AF_INET, &sin.sin_addr, txt, sizeof(txt));
		snprintf(p->endpoint, sizeof(p->endpoint), "%s:%u", txt, p->endpoint_port);
	} else if (fam == AF_INET6 && n == sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, v, sizeof(sin6));
		memcpy(p->endpoint_addr, &sin6.sin6_addr, 16);
		p->endpoint_port = ntohs(sin6.sin6_port);
		inet_ntop(AF_INET6, &sin6.sin6_addr, txt, sizeof(txt));
		snprintf(p->endpoint, sizeof(p->endpoint), "[%s]:%u", txt, p->endpoint_port);
	} else {
		goto bad;
	}
	p->has_endpoint = true;
	return 0;
bad:
	return x->err = why_set(x->why, x->whylen, "a peer's endpoint of %zu bytes", n);
}

static int peer(const struct nlattr *nest, struct nl_parse *x)
{
	const struct nlattr *tb[WGPEER_A_MAX + 1], *a;
	struct wg_dev *d = x->dev;
	struct wg_peer *p;
	char key[WG_KEY_B64];

	if (nest_table(nest, tb, WGPEER_A_MAX, x, "peer"))
		return x->err;
	if (!tb[WGPEER_A_PUBLIC_KEY] || !len_is(tb[WGPEER_A_PUBLIC_KEY], WG_KEY_LEN))
		return x->err = why_set(x->why, x->whylen, "a peer without a %d-byte public key",
		                        WG_KEY_LEN);
	if (!len_is(tb[WGPEER_A_LAST_HANDSHAKE_TIME], 16) || !len_is(tb[WGPEER_A_RX_BYTES], 8) ||
	    !len_is(tb[WGPEER_A_TX_BYTES], 8))
		return x->err = why_set(x->why, x->whylen, "a peer attribute of the wrong length");
	wg_key_b64(mnl_attr_get_payload(tb[WGPEER_A_PUBLIC_KEY]), key);
	if (x->first_peer && d->npeers && !strcmp(d->peers[d->npeers - 1].key, key)) {
		p = &d->peers[d->npeers - 1]; /* continued from the last message */
	} else {
		if (d->npeers >= 65536)
			return x->err = why_set(x->why, x->whylen, "more than 65536 peers");
		d->peers = g_renew(struct wg_peer, d->peers, d->npeers + 1);
		p = &d->peers[d->npeers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->key, key, sizeof(key));
	}
	x->first_peer = false;
	if (tb[WGPEER_A_ENDPOINT] && endpoint(tb[WGPEER_A_ENDPOINT], p, x))
		return x->err;
	if (tb[WGPEER_A_LAST_HANDSHAKE_TIME]) {
		__s64 ts[2];

		memcpy(ts, mnl_attr_get_payload(tb[WGPEER_A_LAST_HANDSHAKE_TIME]), sizeof(ts));
		if (ts[0] < 0 || ts[1] < 0 || ts[1] > 999999999)
			return x->err = why_set(x->why, x->whylen,
			                        "a peer's handshake time out of range");
		p->handshake_sec = (__u64)ts[0];
		p->handshake_nsec = (__u64)ts[1];
	}
	if (tb[WGPEER_A_RX_BYTES])
		p->rx_bytes = mnl_attr_get_u64(tb[WGPEER_A_RX_BYTES]);
	if (tb[WGPEER_A_TX_BYTES])
		p->tx_bytes = mnl_attr_get_u64(tb[WGPEER_A_TX_BYTES]);
	if (tb[WGPEER_A_ALLOWEDIPS]) {
		mnl_attr_for_each_nested(a, tb[WGPEER_A_ALLOWEDIPS])
		{
			if (p->nallowed >= 65536)
				return x->err = why_set(x->why, x->whylen,
				                        "more than 65536 allowed IPs");
			if (allowed_ip(a, p, x))
				return x->err;
		}
		if (!nest_ends(a, tb[WGPEER_A_ALLOWEDIPS]))
			return x->err = why_set(x->why, x->whylen,
			                        "allowed IPs: an attribute runs past its nest");
	}
	return 0;
}

int wg_nl_parse(const void *msg, size_t len, struct wg_dev *dev, char *why, size_t whylen)
{
	const struct nlmsghdr *nlh = msg;
	const struct nlattr *tb[WGDEVICE_A_MAX + 1] = {0}, *a;
	struct nl_parse x = {.dev = dev, .why = why, .whylen = whylen, .first_peer = true};
	size_t hdr = sizeof(struct genlmsghdr);

	if (len < sizeof(*nlh) || !mnl_nlmsg_ok(nlh, (int)len) ||
	    mnl_nlmsg_get_payload_len(nlh) < hdr)
		return why_set(why, whylen, "a message of %zu bytes that does not hold itself",
		               len);
	mnl_attr_for_each(a, nlh, hdr)
	{
		int t = mnl_attr_get_type(a);

		if (t > WGDEVICE_A_MAX)
			continue;
		if (tb[t])
			return why_set(why, whylen, "device attribute %d twice", t);
		tb[t] = a;
	}
	if ((const char *)a < (const char *)mnl_nlmsg_get_payload_tail(nlh))
		return why_set(why, whylen, "an attribute runs past the message");
	if (!len_is(tb[WGDEVICE_A_LISTEN_PORT], 2))
		return why_set(why, whylen, "a listen port of the wrong length");
	if (tb[WGDEVICE_A_LISTEN_PORT])
		dev->listen_port = mnl_attr_get_u16(tb[WGDEVICE_A_LISTEN_PORT]);
	if (tb[WGDEVICE_A_PEERS]) {
		mnl_attr_for_each_nested(a, tb[WGDEVICE_A_PEERS])
		{
			if (peer(a, &x))
				return x.err;
		}
		if (!nest_ends(a, tb[WGDEVICE_A_PEERS]))
			return why_set(why, whylen, "peers: an attribute runs past its nest");
	}
	return 0;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

struct get_ctx {
	struct wg_dev *dev;
	__u16 family;
	char *why;
	size_t whylen;
	int err;
};

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *g = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
	{
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    !mnl_attr_validate(a, MNL_TYPE_U16))
			g->family = mnl_attr_get_u16(a);
	}
	return MNL_CB_OK;
}

static int device_cb(const struct nlmsghdr *nlh, void *data)
{
	struct get_ctx *g = data;

	g->err = wg_nl_parse(nlh, nlh->nlmsg_len, g->dev, g->why, g->whylen);
	return g->err ? MNL_CB_ERROR : MNL_CB_OK;
}

/* One request and its answers, within the deadline. */
static int talk(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, struct get_ctx *g,
                __u64 deadline)
{
	char *buf = g_malloc(WG_NL_BUF);
	unsigned portid = mnl_socket_get_portid(nl), seq = req->nlmsg_seq;
	size_t total = 0;
	int ret;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		struct pollfd pfd = {.fd = mnl_socket_get_fd(nl), .events = POLLIN};
		__u64 now = mono_ms();
		ssize_t n;

		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) == 0) {
			ret = -ETIMEDOUT;
			goto out;
		}
		n = mnl_socket_recvfrom(nl, buf, WG_NL_BUF);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			ret = -errno;
			goto out;
		}
		if ((total += (size_t)n) > WG_ANSWER_MAX) {
			ret = -EFBIG;
			goto out;
		}
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, g);
		if (ret <= MNL_CB_STOP) {
			ret = ret < 0 ? (g->err ? g->err : -errno) : 0;
			goto out;
		}
	}
out:
	g_free(buf);
	return ret;
}

int wg_nl_get(const char *ifname, struct wg_dev *dev, char *why, size_t whylen)
{
	char req[512];
	struct nlmsghdr *nlh;
	struct genlmsghdr *genl;
	struct mnl_socket *nl;
	struct wg_dev nd = {0};
	struct get_ctx g = {.dev = &nd, .why = why, .whylen = whylen};
	__u64 deadline = mono_ms() + WG_DEADLINE_MS;
	int err;

	nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		why_set(why, whylen, "generic netlink: %s", strerror(errno));
		goto out;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
	err = talk(nl, nlh, family_cb, &g, deadline);
	if (err || !g.family) {
		err = err ? err : -ENOENT;
		why_set(why, whylen, "the kernel has no WireGuard (generic netlink family: %s)",
		        strerror(-err));
		goto out;
	}
	nlh = mnl_nlmsg_put_header(req);
	nlh->nlmsg_type = g.family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP;
	nlh->nlmsg_seq = (unsigned)time(NULL) + 1;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = WG_CMD_GET_DEVICE;
	genl->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, ifname);
	snprintf(nd.ifname, sizeof(nd.ifname), "%s", ifname);
	err = talk(nl, nlh, device_cb, &g, deadline);
	if (err) {
		if (!g.err)
			why_set(why, whylen, "WireGuard's generic netlink: %s", strerror(-err));
		else
			err = -EINVAL;
		goto out;
	}
	wg_dev_clear(dev);
	*dev = nd;
	nd = (struct wg_dev){0};
out:
	wg_dev_clear(&nd);
	if (nl)
		mnl_socket_close(nl);
	return err;
}

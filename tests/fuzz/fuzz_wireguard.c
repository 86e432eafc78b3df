// SPDX-License-Identifier: GPL-2.0-only
/* WireGuard's UAPI "get" answer, the kernel's WG_CMD_GET_DEVICE netlink messages and the
 * "# Name =" lines of a WireGuard config file, from memory (the first byte chooses). No crash, no
 * leak; a refused answer leaves the peers there were; what is taken is sane (keys in base64,
 * prefixes in range, endpoints with a port) and reads back the same when written out again as an
 * answer. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include "util/log.h"
#include "util/text.h"
#include "sources/users_priv.h"
#include "sources/wireguard.h"

static int b64val(char c)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(tab, c) : NULL;

	return p ? (int)(p - tab) : -1;
}

/* The base64 key back to hex; traps on anything wg_key_b64() cannot have written. */
static void key_hex(const char *b64, char hex[65])
{
	__u8 raw[33];
	char again[WG_KEY_B64];
	int n = 0;
	__u32 acc = 0;
	int bits = 0;

	if (strlen(b64) != 44 || b64[43] != '=')
		__builtin_trap();
	for (int i = 0; i < 43; i++) {
		int v = b64val(b64[i]);

		if (v < 0)
			__builtin_trap();
		acc = acc << 6 | (__u32)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (__u8)(acc >> bits);
		}
	}
	if (n != 32)
		__builtin_trap();
	wg_key_b64(raw, again);
	if (strcmp(again, b64))
		__builtin_trap();
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
}

static void write_out(const struct wg_dev *d, GString *s)
{
	char hex[65], a[INET6_ADDRSTRLEN];

	g_string_append_printf(s, "listen_port=%u\n", d->listen_port);
	for (int i = 0; i < d->npeers; i++) {
		const struct wg_peer *p = &d->peers[i];

		key_hex(p->key, hex);
		g_string_append_printf(s, "public_key=%s\n", hex);
		if (p->has_endpoint)
			g_string_append_printf(s, "endpoint=%s\n", p->endpoint);
		g_string_append_printf(
		    s,
		    "last_handshake_time_sec=%llu\nlast_handshake_time_nsec=%llu\n"
		    "rx_bytes=%llu\ntx_bytes=%llu\n",
		    (unsigned long long)p->handshake_sec, (unsigned long long)p->handshake_nsec,
		    (unsigned long long)p->rx_bytes, (unsigned long long)p->tx_bytes);
		for (int j = 0; j < p->nallowed; j++) {
			const struct wg_allowed *w = &p->allowed[j];

			if (w->plen < 0 || w->plen > 128)
				__builtin_trap();
			inet_ntop(AF_INET6, w->addr, a, sizeof(a));
			/* IPv4 as IPv4-mapped IPv6 with the 128-bit length: the same prefix */
			g_string_append_printf(s, "allowed_ip=%s/%d\n", a, w->plen);
		}
	}
	g_string_append(s, "errno=0\n\n");
}

static void same(const struct wg_dev *a, const struct wg_dev *b)
{
	if (a->npeers != b->npeers || a->listen_port != b->listen_port)
		__builtin_trap();
	for (int i = 0; i < a->npeers; i++) {
		const struct wg_peer *p = &a->peers[i], *q = &b->peers[i];

		if (strcmp(p->key, q->key) || p->has_endpoint != q->has_endpoint ||
		    strcmp(p->endpoint, q->endpoint) || p->endpoint_port != q->endpoint_port ||
		    memcmp(p->endpoint_addr, q->endpoint_addr, 16) ||
		    p->handshake_sec != q->handshake_sec || p->rx_bytes != q->rx_bytes ||
		    p->tx_bytes != q->tx_bytes || p->nallowed != q->nallowed ||
		    (p->nallowed &&
		     memcmp(p->allowed, q->allowed, sizeof(*p->allowed) * p->nallowed)))
			__builtin_trap();
		/* the lookup finds a peer for each of its own prefixes */
		for (int j = 0; j < p->nallowed; j++)
			if (!wg_dev_peer_of(a, p->allowed[j].addr))
				__builtin_trap();
	}
}

static void add(const char *key, const char *name, size_t len, void *ctx)
{
	char hex[65];
	struct users *u = ctx;

	key_hex(key, hex);
	if (!len || len > INPUT_LINE_MAX || memchr(name, 0, len) ||
	    !text_is_clean(users_intern(u, name, len)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char seed[] =
	    "public_key=72e13874f997e84ea3c3e43dd8c38ed03584d93169c6ca8da66c9"
	    "0380186692f\nallowed_ip=192.0.2.10/32\nerrno=0\n\n";
	struct wg_dev d = {0}, again = {0};
	char why[256];
	int err;

	if (!size)
		return 0;
	log_set_level(LOG_LVL_ERR - 1);
	if (data[0] % 3 == 2) {
		/* netlink: a stream of messages, each parsed into the same device (as a dump's
		 * answers are), in an aligned copy */
		size_t n = size - 1;
		void *m = malloc(n ? n : 1);
		const struct nlmsghdr *nlh = m;
		int left = (int)n;

		memcpy(m, data + 1, n);
		while (mnl_nlmsg_ok(nlh, left)) {
			if (wg_nl_parse(nlh, nlh->nlmsg_len, &d, why, sizeof(why)))
				break;
			nlh = mnl_nlmsg_next(nlh, &left);
		}
		for (int i = 0; i < d.npeers; i++) {
			char hex[65];

			key_hex(d.peers[i].key, hex);
			for (int j = 0; j < d.peers[i].nallowed; j++)
				if (d.peers[i].allowed[j].plen > 128 ||
				    !wg_dev_peer_of(&d, d.peers[i].allowed[j].addr))
					__builtin_trap();
		}
		wg_dev_clear(&d);
		free(m);
		return 0;
	}
	if (data[0] % 3 == 1) {
		struct users *u = users_new(&(struct users_cfg){0});

		wg_names_parse((const char *)data + 1, size - 1, add, u, why, sizeof(why));
		users_free(u);
		return 0;
	}
	if (wg_uapi_parse(seed, sizeof(seed) - 1, &d, why, sizeof(why)) || d.npeers != 1)
		__builtin_trap();
	err = wg_uapi_parse((const char *)data + 1, size - 1, &d, why, sizeof(why));
	if (err && (d.npeers != 1 || !*why)) /* refused: the last good kept, a reason given */
		__builtin_trap();
	if (!err) {
		GString *s = g_string_new(NULL);

		write_out(&d, s);
		if (wg_uapi_parse(s->str, s->len, &again, why, sizeof(why)))
			__builtin_trap();
		same(&d, &again);
		g_string_free(s, TRUE);
	}
	wg_dev_clear(&again);
	wg_dev_clear(&d);
	return 0;
}

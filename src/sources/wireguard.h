/* SPDX-License-Identifier: GPL-2.0-only */
/* WireGuard peers as users. Each WireGuard interface (--wireguard IFACE, or any watched
 * interface whose name has a UAPI socket: wireguard-go's tun) is read through the
 * userspace API socket SOCKDIR/IFACE.sock (SOCKDIR: /var/run/wireguard, or
 * $TUNFLOW_WG_SOCKDIR): "get=1\n\n" answered by key=value lines ending in "errno=0\n\n".
 * Read without blocking (a deadline of WG_DEADLINE_MS, an answer of at most
 * WG_ANSWER_MAX bytes), at most once a harvest and every WG_REREAD_NS. A flow on a
 * WireGuard interface belongs to the peer whose allowed IPs hold its tunnel-side address
 * (longest prefix, as WireGuard routes). A peer is named from --wireguard-names (the
 * "# Name = alice" comment lines above [Peer] in a WireGuard config file), else by its
 * short public key (the first 8 base64 characters). The kernel's WireGuard (an interface
 * whose /sys/class/net/IFACE/uevent says DEVTYPE=wireguard) is read through generic
 * netlink instead (wireguard_nl.c), with the same deadline. */
#ifndef TUNFLOW_WIREGUARD_H
#define TUNFLOW_WIREGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define WG_SOCKDIR "/var/run/wireguard"
#define WG_DEADLINE_MS 200
#define WG_ANSWER_MAX (4u << 20)
#define WG_REREAD_NS 1000000000ull
#define WG_REJECT_AFTER_S 180 /* REJECT_AFTER_TIME: a peer without a newer handshake is gone */
#define WG_KEY_B64 45         /* 44 base64 characters and a NUL */
#define WG_SHORT_KEY 8        /* characters of the short public key */
#define WG_ENDPOINT_MAX 64    /* "[v6]:port" and a NUL */

struct wg_allowed {
	__u8 addr[16]; /* the flow key's form (IPv4-mapped for IPv4) */
	int plen;      /* in bits over the 16 bytes (IPv4 /24 is 96 + 24) */
};

struct wg_peer {
	char key[WG_KEY_B64]; /* public key, base64 as `wg` shows it */
	const char *name;     /* user name (interned in struct users; NULL in a bare parse) */
	bool has_endpoint;
	__u8 endpoint_addr[16];         /* outer address, flow key's form */
	__u16 endpoint_port;            /* host order */
	char endpoint[WG_ENDPOINT_MAX]; /* "192.0.2.1:51820" or "[2001:db8::1]:51820", "" */
	struct wg_allowed *allowed;     /* g_malloc'd */
	int nallowed;
	__u64 handshake_sec, handshake_nsec; /* latest handshake, wall clock; 0: never */
	__u64 rx_bytes, tx_bytes;            /* WireGuard's counters: outer (encrypted) bytes */
	bool connected;         /* a handshake less than WG_REJECT_AFTER_S old, at the last read */
	__u64 session_start_ns; /* CLOCK_REALTIME when the peer was seen connected first
	                         * (its handshake time); 0 while not connected */
};

/* One interface's peers, as last read. */
struct wg_dev {
	char ifname[16];
	struct wg_peer *peers; /* g_malloc'd, in the order of the answer */
	int npeers;
	__u16 listen_port;
};

/* Parse a UAPI "get" answer (buf need not be NUL-terminated). 0 and the peers in *dev,
 * or -EINVAL with a one-line reason in why (the line number and what is wrong). Strict:
 * every line "key=value" with a known key, hex keys of 64 digits, numbers in range,
 * ending in "errno=0" and an empty line; an errno other than 0 is -EPROTO. */
int wg_uapi_parse(const char *buf, size_t len, struct wg_dev *dev, char *why, size_t whylen);
void wg_dev_clear(struct wg_dev *dev);
/* The peer whose allowed IPs hold addr (longest prefix), or NULL. */
const struct wg_peer *wg_dev_peer_of(const struct wg_dev *dev, const __u8 addr[16]);
/* Read one interface's answer from SOCKDIR/ifname.sock with the deadline: 0, or
 * -errno with a one-line reason in why. */
int wg_uapi_get(const char *sockdir, const char *ifname, struct wg_dev *dev, char *why,
                size_t whylen);
/* "# Name = alice" comment lines above [Peer] sections of a WireGuard config file:
 * calls add(key_b64, name, ctx) for each peer that has both. 0 or -EINVAL (why). */
int wg_names_parse(const char *buf, size_t len,
                   void (*add)(const char *key, const char *name, size_t namelen, void *ctx),
                   void *ctx, char *why, size_t whylen);
/* wireguard_nl.c: one WG_CMD_GET_DEVICE answer message (msg: its nlmsghdr, len bytes)
 * added to dev; a peer continued from the previous message (the same public key first)
 * is merged. 0, or -EINVAL with the reason in why (dev then holds a partial answer: the
 * caller drops it). */
int wg_nl_parse(const void *msg, size_t len, struct wg_dev *dev, char *why, size_t whylen);
/* The kernel's peers of ifname, by generic netlink within WG_DEADLINE_MS: 0, or -errno
 * with a one-line reason in why (dev unchanged). */
int wg_nl_get(const char *ifname, struct wg_dev *dev, char *why, size_t whylen);
/* 32 raw bytes into 44 base64 characters and a NUL. */
void wg_key_b64(const __u8 raw[32], char out[WG_KEY_B64]);

/* In sources/users.h, for the pipeline and the sinks (wgout):
 *   const struct wg_peer *users_wg_peer(struct users *u, const struct flow_key *k,
 *                                       const char *ifname);
 *     the peer behind a flow on a WireGuard interface (tunnel side first), or NULL;
 *     valid until the next users_refresh().
 *   const struct wg_dev *users_wg_dev(struct users *u, const char *ifname);
 *     an interface's peers as last read, or NULL when ifname is not WireGuard.
 *   void users_wg_foreach(struct users *u, void (*fn)(const struct wg_dev *, void *), void *);
 *   Session transitions: size_t users_wg_take_events(struct users *u, struct wg_event **ev);
 *     the connects and disconnects seen since the last call (g_free the array), each
 *     with a copy of the peer's fields (allowed IPs not copied: allowed = NULL).
 */
struct wg_event {
	char ifname[16];
	bool connected;      /* true: session start, false: session end */
	struct wg_peer peer; /* allowed = NULL, nallowed = 0 */
	__u64 at_ns;         /* CLOCK_REALTIME: the handshake (start), handshake + 180 s or
	                      * the read that found the peer removed (end) */
};

#endif

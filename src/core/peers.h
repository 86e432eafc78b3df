/* SPDX-License-Identifier: GPL-2.0-only */
/* WireGuard peer sessions, and the strings that name peers on flows and records.
 * WireGuard has no connect or disconnect events: the WireGuard source (sources/
 * wireguard.h) calls a peer connected from a handshake until that handshake is older
 * than 180 s, or until the peer is removed. A session opens at the connect (peers_open),
 * adds the delta of every reported flow attributed to the peer (peers_add: the one place
 * per-peer totals are accumulated, one call per flow per harvest in which it had
 * packets), and closes at the disconnect or at exit (peers_close, peers_close_all); a
 * closed session waits in a list until the pipeline takes it for its report. */
#ifndef TUNFLOW_PEERS_H
#define TUNFLOW_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include "flow.h"

enum session_end {
	SESSION_EXPIRED, /* no handshake for 180 s (WireGuard's reject-after time) */
	SESSION_REMOVED, /* the peer left the interface's configuration */
	SESSION_EXIT,    /* tunflow stopped while it lasted */
	SESSION_END_MAX,
};

extern const char *const session_end_names[SESSION_END_MAX];

/* One peer's session, as reported when it ends (a "session" JSON object). */
struct peer_session {
	char ifname[16];
	const char *user;           /* the peer's name (interned in struct users), or NULL */
	const char *peer;           /* public key, base64 (interned here) */
	const char *endpoint;       /* outer address:port at the start (interned), or NULL */
	__u64 start_ns, end_ns;     /* CLOCK_REALTIME: the handshake; the end */
	__u64 packets[2], bytes[2]; /* by enum flow_dir: what tunflow counted for the peer */
	__u8 end;                   /* enum session_end */
};

struct peers;

struct peers *peers_new(void);
void peers_free(struct peers *ps);
/* A copy of s that lives as long as ps, the same pointer for the same text. */
const char *peers_intern(struct peers *ps, const char *s);
/* A session starts (at start_ns, CLOCK_REALTIME). peer must come from peers_intern().
 * A peer already in session keeps its session. */
void peers_open(struct peers *ps, const char *ifname, const char *peer, const char *user,
                const char *endpoint, __u64 start_ns);
/* Add a flow's delta to its peer's open session, if any. */
void peers_add(struct peers *ps, const char *peer, enum flow_dir dir, __u64 packets, __u64 bytes);
/* The peer's session ends at end_ns (CLOCK_REALTIME), for reason why. */
void peers_close(struct peers *ps, const char *peer, __u64 end_ns, enum session_end why);
/* Every open session ends (at exit). */
void peers_close_all(struct peers *ps, __u64 end_ns);
/* Sessions open now. */
size_t peers_open_count(const struct peers *ps);
/* The sessions closed since the last call, oldest first (g_free the array; NULL when
 * none). */
struct peer_session *peers_take_closed(struct peers *ps, size_t *n);

#endif

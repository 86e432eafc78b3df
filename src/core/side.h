/* SPDX-License-Identifier: GPL-2.0-only */
/* Which side of each tunnel interface the VPN user is on: the one rule behind
 * flow_near()/flow_far() (core/flowtab.h).
 *
 * On a VPN server's session interface (ocserv vpnsN, an OpenVPN server's tun, a
 * WireGuard gateway) the user is behind the tunnel: near is the source of what the
 * interface receives and the destination of what it sends. On a VPN client (tun0 of
 * openconnect, OpenVPN or WireGuard on a laptop) the user is this host: what the
 * interface receives comes from the remote site. --side auto tells them apart per flow:
 *   1. an interface named in session events (a server's session) is server-side;
 *   2. an endpoint that is the interface's point-to-point peer address (ocserv gives
 *      each vpnsN the user's address as peer) is near;
 *   3. an interface that carried a flow with none of its own addresses (forwarded: a
 *      gateway's users reaching the world) is server-side;
 *   4. an endpoint that is one of the interface's own addresses is near (the host IS
 *      the user) when the other endpoint is outside that address's prefix (a remote
 *      site), or when the interface already carried such a flow (then a client talking
 *      to its gateway's tunnel address, inside the prefix, is near too);
 *   5. else server-side (a user in the tunnel's prefix talking to the gateway's own
 *      address; an interface with no address known).
 * side_learn() takes the evidence of rules 3 and 4 from each new flow; it only grows
 * (an interface that was both is server-side) and goes with the interface.
 * --side server: server-side everywhere (tunflow before --side). --side client: the own
 * address is near, else client-side (near: the destination of what the interface
 * receives).
 * Addresses come from rtnetlink (sources/ifwatch.c follows them). Lock-free for
 * readers: the table is an immutable snapshot swapped whole, a retired one freed two
 * side_release() calls later. */
#ifndef TUNFLOW_SIDE_H
#define TUNFLOW_SIDE_H

#include <stdbool.h>
#include <stddef.h>
#include "flow.h"

enum side_mode {
	SIDE_AUTO = 0,
	SIDE_SERVER,
	SIDE_CLIENT,
};

#define SIDE_MAX_OWN 8  /* own addresses kept per interface */
#define SIDE_MAX_PEER 2 /* point-to-point peer addresses kept per interface */

void side_set_mode(enum side_mode m);
enum side_mode side_mode(void);
/* An interface's own addresses (IFA_LOCAL, 16 bytes, IPv4-mapped, with their prefix
 * lengths counted in those 16 bytes: 96 + the IPv4 length) and point-to-point peer
 * addresses (IFA_ADDRESS where it differs from IFA_LOCAL). Replaces the addresses
 * known; more than the maximum are ignored. */
void side_set_addrs(int ifindex, const __u8 (*own)[16], const __u8 *own_plen, size_t nown,
                    const __u8 (*peer)[16], size_t npeer);
/* A new flow: evidence for rules 3 and 4 (a lookup when there is nothing new). */
void side_learn(const struct flow_key *k);
/* Session events name this interface as a server's session interface. */
void side_set_session(int ifindex);
bool side_is_session(int ifindex);
/* The interface is gone. */
void side_forget(int ifindex);
/* The calls above change a table that readers see from the next commit on: one new
 * snapshot for a burst of changes (a thousand interfaces coming at once). */
void side_commit(void);
/* Commit what changed, and free the snapshots retired two calls ago (once per harvest,
 * as iface_names_release: evidence of side_learn() shows from the next harvest on). */
void side_release(void);
/* Everything (at exit, and between unit tests). */
void side_reset(void);
/* Whether the user's side of flow k is its source (else its destination). */
bool side_near_is_src(const struct flow_key *k);

#endif

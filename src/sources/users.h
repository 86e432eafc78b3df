/* SPDX-License-Identifier: GPL-2.0-only */
/* Who is behind a flow. Four sources, looked up in this order:
 *   1. VPN sessions, from the events file that scripts/tunflow-session-hook appends to
 *      (ocserv connect/disconnect-script, OpenVPN client-connect/client-disconnect):
 *      a session's tunnel interface (by ifindex, so a reused vpnsN name never inherits
 *      the previous user) and its inner addresses;
 *   2. WireGuard peers (sources/wireguard.h, read in users_wg.c): on a WireGuard
 *      interface, the peer whose allowed IPs hold the flow's tunnel-side address;
 *   3. an OpenVPN status file (CLIENT_LIST: each client's virtual addresses);
 *   4. a mapping file (interface name or glob, or address/prefix -> user), re-read on
 *      SIGHUP.
 * An interface match wins over an address match; of addresses, the tunnel side
 * (source on ingress, destination on egress) is tried first.
 * The files decide who a flow belongs to, so they are read only when nobody but root and
 * the trusted writer can change them (sources/input_file.h); user names are cleaned
 * (util/text.h) where they are read. The parsers: sessions.c, wireguard.c, openvpn.c,
 * usermap.c. */
#ifndef TUNFLOW_USERS_H
#define TUNFLOW_USERS_H

#include <stdbool.h>
#include <stdio.h>
#include <glib.h>
#include "flow.h"

struct users;
struct wg_peer;
struct wg_dev;
struct wg_event;

struct users_cfg {
	const char *sessions;        /* events file, or NULL */
	bool sessions_given;         /* named with --sessions: its absence is worth a word */
	const char *openvpn_status;  /* OpenVPN status file, or NULL */
	const char *map;             /* mapping file, or NULL */
	const char *trusted_writer;  /* a user besides root who may write them, or NULL */
	GPtrArray *wireguard;        /* --wireguard interface names, or NULL */
	const char *wireguard_names; /* WireGuard config file with "# Name =" lines, or NULL */
};

/* NULL with a one-line error printed when a named file cannot be read or parsed. */
struct users *users_new(const struct users_cfg *cfg);
void users_free(struct users *u);
/* Whether a source is configured (the events file: once it exists). */
bool users_enabled(const struct users *u);
/* Catch up with the events file and the status file (cheap when unchanged). */
void users_refresh(struct users *u);
/* Re-read the mapping file (SIGHUP). 0, or -errno with a one-line error printed (the
 * previous mapping is kept). */
int users_reload_map(struct users *u);
/* Changes whenever an answer of users_lookup() may have changed. */
unsigned users_gen(const struct users *u);
/* The user behind a flow on interface ifname, or NULL. The string lives as long as u. */
const char *users_lookup(struct users *u, const struct flow_key *k, const char *ifname);
/* The user behind a whole interface (a session's tunnel, or a mapping file entry),
 * or NULL. */
const char *users_of_iface(struct users *u, int ifindex, const char *ifname);
/* Malformed lines skipped so far (sessions file and OpenVPN status file; each kind is
 * said once on stderr, then only counted here). */
unsigned long users_malformed_lines(const struct users *u);
/* Whether a session (a connect line) for interface ifindex has been read. */
/* Whether session events are being followed (the events file exists and is read). */
bool users_follow_sessions(const struct users *u);
bool users_has_session(struct users *u, int ifindex);
/* An interface is gone: its session binding goes with it. */
void users_iface_gone(struct users *u, int ifindex);

/* WireGuard (sources/wireguard.h). The peer behind a flow on a WireGuard interface (by
 * its tunnel-side address), or NULL; valid until the next users_refresh(). */
const struct wg_peer *users_wg_peer(struct users *u, const struct flow_key *k, const char *ifname);
/* An interface's peers as last read, or NULL when ifname is not WireGuard. */
const struct wg_dev *users_wg_dev(struct users *u, const char *ifname);
void users_wg_foreach(struct users *u, void (*fn)(const struct wg_dev *dev, void *ctx), void *ctx);
/* The session starts and ends seen since the last call, oldest first: their number, the
 * array in *ev (g_free it; NULL when none). */
size_t users_wg_take_events(struct users *u, struct wg_event **ev);

#endif

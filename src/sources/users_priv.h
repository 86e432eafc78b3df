/* SPDX-License-Identifier: GPL-2.0-only */
/* The state behind struct users, shared by its sources: users.c (lookups, names),
 * sessions.c (the hook's events file), openvpn.c (OpenVPN's status file) and usermap.c
 * (--user-map). Each parser also works from memory, for the fuzz targets. */
#ifndef TUNFLOW_USERS_PRIV_H
#define TUNFLOW_USERS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <glib.h>
#include "util/addr.h"
#include "flow.h"
#include "sources/input_file.h"
#include "sources/users.h"
#include "sources/wireguard.h"

struct session {
	char *id;
	const char *user;
	int ifindex; /* 0: the session shares its tunnel (OpenVPN) */
	__u8 addr[2][16];
	int naddr;
	__u64 ended_ns; /* CLOCK_MONOTONIC of the disconnect event, 0 while live */
	bool stale;     /* read from the events file the hook has since replaced */
};

struct prefix_rule {
	__u8 addr[16];
	int plen; /* in bits over the 16-byte (IPv4-mapped) address */
	const char *user;
};

/* One WireGuard interface: --wireguard, or found by its UAPI socket. */
struct wg_if {
	struct wg_dev dev; /* peers as last read (dev.ifname: the key in users.wg) */
	bool configured;   /* named with --wireguard */
	bool present;      /* its socket was found (or configured) */
	bool kernel;       /* the kernel's WireGuard: read by generic netlink */
	__u64 read_ns;     /* CLOCK_MONOTONIC of the last read, 0: never */
	__u64 probe_ns;    /* of the last look for the socket */
	int said;          /* the error last said about it (0: none) */
	GHashTable *state; /* base64 key -> struct wg_state: who was connected */
	GString *digest;   /* keys, names and allowed IPs of the last read */
};

struct iface_rule {
	char *glob;
	const char *user;
};

/* The events file, read incrementally: only what was appended since the last look. */
struct events_file {
	dev_t dev;
	ino_t ino;
	off_t off;        /* bytes consumed */
	GString *partial; /* the unterminated tail read so far (< INPUT_LINE_MAX) */
	bool skipping;    /* inside an over-long line: dropped up to its newline */
	bool replaying;   /* reading a replaced (compacted) file up to replay_end */
	off_t replay_end;
	/* the last bytes consumed: a file replaced by one that reuses the inode number
	 * (ext4 does, at once) no longer holds them there */
	char tail[64];
	size_t taillen;
	int said; /* what was last said about the file (an errno, 0: nothing) */
};

struct users {
	struct users_cfg cfg;
	struct input_trust trust;
	unsigned gen;
	GStringChunk *strings; /* every user name, cleaned and interned */
	GHashTable *interned;
	/* sessions */
	GHashTable *sessions;   /* id -> struct session (owned) */
	GHashTable *by_ifindex; /* ifindex -> struct session */
	GHashTable *by_addr;    /* 16-byte address -> struct session */
	GQueue ended;           /* struct ended, oldest disconnect first */
	__u64 netns;            /* inode of our network namespace (0: unknown) */
	struct events_file ev;
	unsigned long ev_malformed, ev_foreign;
	bool said_malformed, said_foreign, said_no_netns;
	/* OpenVPN status */
	GHashTable *ovpn; /* 16-byte address -> user */
	struct timespec ovpn_mtime;
	off_t ovpn_size;
	ino_t ovpn_ino;
	unsigned long ovpn_malformed;
	bool said_ovpn_malformed;
	int ovpn_said;
	/* mapping file */
	GArray *iface_rules, *prefix_rules;
	/* WireGuard */
	GHashTable *wg;       /* interface name -> struct wg_if (owned) */
	GHashTable *wg_names; /* base64 key -> user (--wireguard-names) */
	GArray *wg_events;    /* struct wg_event, not yet taken */
	unsigned long wg_events_lost;
	const char *wg_sockdir;
	struct stat wg_names_st; /* the names file as last read (re-read when it changes) */
	__u64 wg_names_ns;       /* CLOCK_MONOTONIC of the last look at it */
};

/* users_fields.c */
/* A user name from outside: cleaned (text_clean, TEXT_NAME_MAX) and interned. */
const char *users_intern(struct users *u, const char *s, size_t len);
GHashTable *users_addr_table(void);

/* sessions.c */
/* One events line (no newline). false when it is malformed. */
bool sessions_line(struct users *u, const char *line, size_t len);
/* n more bytes of the events file, at byte offset at: whole lines go to sessions_line(),
 * the unterminated rest waits in u->ev.partial, an over-long line is skipped. */
void sessions_feed(struct users *u, const char *buf, size_t n, off_t at);
/* The events file was replaced (ino, dev) or truncated: read it again from its start;
 * the sessions known so far are stale until it names them again. */
void sessions_replay(struct users *u, ino_t ino, dev_t dev, off_t size);
/* Once a replay has read up to the size the file had: end the sessions still stale. */
void sessions_replayed(struct users *u);
/* Whatever was appended to the events file since the last call (bounded work). */
void sessions_read(struct users *u);
void sessions_expire(struct users *u, __u64 now);
/* A session ended now (disconnect, or its interface went). */
void sessions_end(struct users *u, struct session *s, __u64 now);
void sessions_clear(struct users *u);

/* openvpn.c */
/* The address -> user table of a status file (versions 1 to 3) in buf, or NULL when the
 * file is incomplete (no END: caught mid-rewrite) or has a malformed line (its number in
 * *bad_line). */
GHashTable *openvpn_parse(struct users *u, const char *buf, size_t len, int *bad_line);
void openvpn_read(struct users *u);

/* usermap.c */
/* Parse a mapping file's text; name is for messages. 0, or -EINVAL with one line said. */
int usermap_parse(struct users *u, const char *name, const char *buf, size_t len,
                  GArray **iface_rules, GArray **prefix_rules);
void usermap_free_rules(GArray *iface_rules, GArray *prefix_rules);

/* users_wg.c */
void users_wg_init(struct users *u);
void users_wg_free(struct users *u);
/* Read what is due (at most every WG_REREAD_NS an interface). */
void users_wg_refresh(struct users *u);
/* (Re-)read --wireguard-names: 0, or -errno with one line said (the previous kept). */
int users_wg_load_names(struct users *u);
/* Whether any WireGuard interface is configured or found. */
bool users_wg_enabled(const struct users *u);

#endif

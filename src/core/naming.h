/* SPDX-License-Identifier: GPL-2.0-only */
/* The names of destinations: reads what the kernel captured for naming (the names ring
 * buffer: a flow's first payload, DNS messages), keeps per connection (both directions
 * share it) the first TCP segments in sequence order and QUIC's state, asks the parsers
 * of src/names/, keeps the DNS answers each user (or interface) received, and gives
 * every flow its name (struct dest_info):
 *   - from its own first packets: TLS or QUIC server name, over the HTTP Host header;
 *   - else from a DNS answer for its far address, the same user's (or tunnel's) first,
 *     then anyone's; never from other connections to the same address;
 *   - a DNS flow carries the name it asked for.
 * Names are interned (the strings live as long as the naming). */
#ifndef TUNFLOW_NAMING_H
#define TUNFLOW_NAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "flow.h"

struct datapath;
struct users;
struct flow;

/* What naming counts, reported with the loss counters. */
enum naming_counter {
	NCNT_DNS_MALFORMED = 0, /* DNS messages refused by the parser */
	NCNT_TLS_MALFORMED,     /* TLS ClientHellos refused */
	NCNT_QUIC_MALFORMED,    /* QUIC Initials that do not parse or decrypt */
	NCNT_HTTP_MALFORMED,    /* HTTP/1.x requests refused */
	NCNT_DNS_EVICTIONS,     /* DNS answers evicted from the full cache */
	NCNT_NAMES_UNSTORED,    /* names not kept: the store of names was full */
	NCNT_UNFOLLOWED,        /* TCP streams given up: the bytes held for connections'
	                         * first segments reached their budget (64 MiB) */
	NCNT_MAX,
};

extern const char *const naming_counter_names[NCNT_MAX];

struct naming_cfg {
	size_t dns_cache;  /* DNS answers kept */
	__u32 dns_min_ttl; /* seconds an answer is kept at least */
	size_t max_conns;  /* connections followed at once (their names stay with them) */
	size_t max_names;  /* distinct names kept */
};

struct naming;

/* dp: the datapath whose ring buffer to read and whose capture state to mark done (NULL:
 * events come through naming_event() only, for tests and replays). users: for the
 * owner of a DNS answer (NULL: the interface). NULL when out of memory. */
struct naming *naming_new(const struct naming_cfg *cfg, struct datapath *dp, struct users *users);
void naming_free(struct naming *n);
/* A descriptor that is readable when events wait, or -1. */
int naming_fd(struct naming *n);
/* Read every waiting event. Returns how many, or -errno. */
int naming_poll(struct naming *n);
/* One captured event (size: the bytes the ring buffer gave). */
void naming_event(struct naming *n, const struct name_event *ev, size_t size);
/* Give flow f its name, if there is one now (is_new: its first harvest, when a DNS answer
 * may name it). Call for every flow a harvest brings. */
void naming_flow(struct naming *n, struct flow *f, bool is_new);
/* Cumulative counters. */
void naming_counters(const struct naming *n, __u64 out[NCNT_MAX]);
/* Connections followed now, and names kept (for tests). */
size_t naming_conns(const struct naming *n);

#endif

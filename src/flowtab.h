/* SPDX-License-Identifier: GPL-2.0-only */
/* User-space flow table: each flow's totals across harvests, and what the latest
 * harvest added. */
#ifndef TUNFLOW_FLOWTAB_H
#define TUNFLOW_FLOWTAB_H

#include <stddef.h>
#include "flow.h"

struct flow {
	struct flow_key key;
	__u64 packets, bytes;     /* since the flow was first seen */
	__u64 first_ns, last_ns;  /* CLOCK_MONOTONIC */
	__u64 d_packets, d_bytes; /* added by the harvest of generation gen */
	__u64 gen;
	double rate_bps;          /* bits per second over the last full interval */
	__u8 tcp_flags, d_tcp_flags;
};

struct flowtab;

struct flowtab *flowtab_new(void);
void flowtab_free(struct flowtab *ft);
/* Start a harvest: flows updated from now on carry the new generation. */
__u64 flowtab_begin(struct flowtab *ft);
/* Add one harvested flow. Returns 0 or -ENOMEM. */
int flowtab_add(struct flowtab *ft, const struct flow_key *key, const struct flow_stats *st);
/* Forget flows whose last packet is older than before_ns. Returns how many. */
size_t flowtab_expire(struct flowtab *ft, __u64 before_ns);
/* All flows, in no particular order. The array is owned by the table and valid until
 * the next call that changes it. */
struct flow **flowtab_list(struct flowtab *ft, size_t *n);
/* Order flows most bytes first (ties by key, so the order is stable). */
int flow_cmp_bytes(const void *a, const void *b);

#endif

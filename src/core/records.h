/* SPDX-License-Identifier: GPL-2.0-only */
/* Flow records with a NetFlow-style lifecycle: both directions of a connection in one
 * record (RFC 5103 biflow: initiator and responder), ended by idle timeout, active
 * timeout (a long flow reported periodically), TCP end (FIN both ways or RST, then a
 * short linger), its interface going, tunflow exiting, or eviction: when the table holds
 * its maximum of open records, a new one ends the record idle longest. */
#ifndef TUNFLOW_RECORDS_H
#define TUNFLOW_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include "flow.h"
#include "core/flowtab.h"

struct record_cfg {
	double idle_s;       /* no packet for this long: ended (default 15) */
	double active_s;     /* reported every this long while it lasts (default 1800) */
	double tcp_linger_s; /* after FIN both ways or RST, quiet this long: ended (default 2) */
	bool uniflow;        /* one record per direction instead of biflows */
	size_t max;          /* open records at most; 0: no bound */
	__u64 run;           /* this run's id in record ids; 0: records_run_now() */
};

/* One record: the initiator's direction is fwd (key as the initiator sent it). */
struct record {
	struct flow_key key; /* initiator -> responder, dir of the initiator's packets */
	const char *user;
	const char *peer, *endpoint; /* WireGuard: as in struct flow */
	struct dest_info dest;       /* as in struct flow: the responder's side */
	__u64 start_ns, end_ns;      /* CLOCK_MONOTONIC: first and last packet in this record */
	__u64 packets, bytes;        /* initiator -> responder, in this record */
	__u64 rev_packets, rev_bytes;
	__u8 tcp_flags, rev_tcp_flags;
	__u8 end; /* enum end_reason */
	/* Its id, given when records_emit() hands it out: the run (the records' start,
	 * CLOCK_REALTIME ns) and a sequence number from 1 in that run. With the gateway's id
	 * (--gateway-id) unique across a fleet: a record sent twice can be collapsed. */
	__u64 run, seq;
	/* lifecycle, across the records of one flow */
	__u64 flow_start_ns; /* the active timeout counts from here */
	__u64 last_ns;       /* last packet either way */
	bool fin_fwd, fin_rev, rst;
};

/* The key both directions of a connection share (RFC 5103 biflow): no direction, the
 * lower endpoint first, ICMP echo request and reply as one; with uniflow, k itself. */
void flow_key_canonical(const struct flow_key *k, bool uniflow, struct flow_key *c);
/* What a run's id is: CLOCK_REALTIME now, in ns. */
__u64 records_run_now(void);
#define RECORD_ID_MAX (64 + 2 * 21 + 1)
/* "GATEWAY:RUN:SEQ" into buf (RECORD_ID_MAX bytes hold any); as snprintf. */
int record_id(const char *gateway, const struct record *r, char *buf, size_t len);

struct records;
/* Called for every record that is due; the record is valid during the call only. */
typedef void (*record_fn)(const struct record *r, void *ctx);

struct records *records_new(const struct record_cfg *cfg);
void records_free(struct records *rt);
/* Add one harvested flow delta of flow f (its user, peer and endpoint name the record
 * when it has none yet; f may be NULL). A record new to a full table first ends the open record
 * idle longest (END_EVICTED; it goes out at the next records_emit, with every delta
 * added to it until then). Returns 0 or -ENOMEM. */
int records_add(struct records *rt, const struct flow_key *k, const struct flow_stats *st,
                const struct flow *f);
/* Emit the records that are due at now_ns: evicted, timed out, TCP-ended, on an
 * interface that went (gone, n), or every one (final). Call once per harvest, after its
 * deltas. Returns how many. */
size_t records_emit(struct records *rt, __u64 now_ns, const int *gone, size_t ngone, bool final,
                    record_fn fn, void *ctx);
/* Records ended by the bound so far. */
__u64 records_evicted(const struct records *rt);

#endif

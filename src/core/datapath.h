/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel side as user space sees it: load the programs, own the flow maps (two per
 * address family), and drain them losslessly (swap a fresh map in, then read the old
 * one out). */
#ifndef TUNFLOW_HARVEST_H
#define TUNFLOW_HARVEST_H

#include <stdbool.h>
#include "flow.h"

struct tunflow_bpf;

/* Counters user space keeps beside the kernel's, after the kernel's ids: packets of a
 * replayed capture that never became a flow (sources/replay.h). Zero live. */
enum {
	CNT_SNAPPED = CNT_MAX, /* cut by the capture's snap length before the end of
	                        * their headers: no key (the wire packet was whole) */
	CNT_TOO_BIG,           /* longer than BPF_PROG_TEST_RUN can describe */
	CNT_ALL,
};

/* One family's flow maps: the one installed in the kernel (fd[active]) and the spare. */
struct dp_flows {
	int fd[2];
	int active;
	bool dirty; /* the spare holds flows a failed drain left */
};

struct datapath {
	struct tunflow_bpf *skel;
	/* IPv4 flows (struct flow_key4, 20 bytes: the kernel hashes them faster) and IPv6
	 * flows (struct flow_key), each map --max-flows entries */
	struct dp_flows v4, v6;
	int ncpus;  /* possible CPUs: per-CPU values come in this many slots */
	bool names; /* the names capture is on */
	/* drain buffers, sized for one batch */
	void *keys, *vals;
	__u32 batch;
	/* Replay: the programs run only through BPF_PROG_TEST_RUN, synchronously, from the
	 * thread that harvests: a harvest drains the active map in place, with no swap (and
	 * no wait for an RCU grace period). */
	bool replay;
	/* dp_quiesce() done: no program runs any more; harvests read in place */
	bool quiet;
	__u64 user[CNT_ALL]; /* counted by user space: added to the kernel's */
};

/* Called once per flow with the per-CPU values already merged. */
typedef void (*flow_fn)(const struct flow_key *key, const struct flow_stats *st, void *ctx);

/* Open, size, load; installs the first flow map. names: capture what naming needs
 * (off: the capture code is not even loaded). Negative errno on failure, with a
 * one-line message already printed. */
int dp_open(struct datapath *dp, __u32 max_flows, bool names);
/* The names ring buffer (struct name_event records), or -1 when names are off. */
int dp_name_ring_fd(const struct datapath *dp);
/* Capture nothing more of these n flows (named, or hopeless). */
void dp_names_done(const struct datapath *dp, const struct flow_key *keys, __u32 n);
/* The same for a replay: the programs take time and wire length from globals that
 * dp_test_run() sets (tunflow_replay, replay_wire and replay_ts in src/bpf/parse.bpf.h). */
int dp_open_replay(struct datapath *dp, __u32 max_flows, bool names);
void dp_close(struct datapath *dp);
/* The program for a link layer and direction. */
int dp_prog_fd(const struct datapath *dp, bool l2, int dir);
/* Replay: one packet of len bytes (wire bytes on the wire, time ts) through the program
 * for l2 and dir with BPF_PROG_TEST_RUN. 0 with the program's answer in *verdict (-1,
 * TC_ACT_UNSPEC: in a flow; else a counter id or TUNFLOW_REPLAY_SNAPPED, for the caller
 * to count), or -errno. */
int dp_test_run(const struct datapath *dp, bool l2, int dir, const void *data, __u32 len,
                __u32 wire, __u64 ts, int *verdict);
/* The flow map of one family installed in the kernel now (tests and benches). */
int dp_flow_map(const struct datapath *dp, bool v4);
/* Swap maps, then call taken (if not NULL: no program run can add to what was swapped
 * out any more, so whatever its packets left elsewhere, the names ring, is there), then
 * drain the old maps completely: each flow reaches fn with a struct flow_key (IPv4 ones
 * IPv4-mapped). Returns the number of flows or -errno. */
long dp_harvest(struct datapath *dp, flow_fn fn, void (*taken)(void *ctx), void *ctx);
/* Every hook detached: wait until no program run can still be going (deleting a clsact
 * filter does not wait for one, closing a tcx link does), so that the harvests after it
 * (the final one) read every map in place and miss nothing. 0 or -errno. */
int dp_quiesce(struct datapath *dp);
/* An IPv4 flow's key as the kernel's IPv4 maps hold it, and back (IPv4-mapped). */
void dp_key_to4(const struct flow_key *k, struct flow_key4 *k4);
void dp_key_from4(const struct flow_key4 *k4, struct flow_key *k);
/* Cumulative failure counters, summed over CPUs, and user space's (dp->user). */
int dp_counters(const struct datapath *dp, __u64 out[CNT_ALL]);
/* Merge the ncpus per-CPU slots of one flow (struct flow_stats each) into out. */
void dp_merge(const void *percpu, int ncpus, struct flow_stats *out);

extern const char *const counter_names[CNT_ALL];
/* Whether counter c counts packets that are in no flow (every one but name_drops, which
 * counts capture events the names ring had no room for). */
static inline bool counter_is_packet(int c) { return c != CNT_NAME_DROPS; }

#endif

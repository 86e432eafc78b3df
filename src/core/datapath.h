/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel side as user space sees it: load the programs, own the two flow maps,
 * and drain them losslessly (swap a fresh map in, then read the old one out). */
#ifndef TUNFLOW_HARVEST_H
#define TUNFLOW_HARVEST_H

#include <stdbool.h>
#include "flow.h"

struct tunflow_bpf;

struct datapath {
	struct tunflow_bpf *skel;
	int maps[2]; /* the two inner flow maps */
	int active;  /* index into maps[] of the one installed in the kernel */
	int ncpus;   /* possible CPUs: per-CPU values come in this many slots */
	bool names;  /* the names capture is on */
	/* drain buffers, sized for one batch */
	void *keys, *vals;
	__u32 batch;
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
void dp_close(struct datapath *dp);
/* The program for a link layer and direction. */
int dp_prog_fd(const struct datapath *dp, bool l2, int dir);
/* Swap maps, drain the old one completely. Returns the number of flows or -errno. */
long dp_harvest(struct datapath *dp, flow_fn fn, void *ctx);
/* Cumulative failure counters, summed over CPUs. */
int dp_counters(const struct datapath *dp, __u64 out[CNT_MAX]);
/* Merge the ncpus per-CPU slots of one flow (struct flow_stats each) into out. */
void dp_merge(const void *percpu, int ncpus, struct flow_stats *out);

extern const char *const counter_names[CNT_MAX];

#endif

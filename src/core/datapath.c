// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/datapath.h"
#include "util/log.h"
#include "tunflow.skel.h"

const char *const counter_names[CNT_ALL] = {
    [CNT_NON_IP] = "non_ip",   [CNT_TRUNCATED] = "truncated",   [CNT_BAD_IHL] = "bad_ihl",
    [CNT_BAD_LEN] = "bad_len", [CNT_EXT_LIMIT] = "ext_limit",   [CNT_MAP_FULL] = "map_full",
    [CNT_NO_MAP] = "no_map",   [CNT_NAME_DROPS] = "name_drops", [CNT_SNAPPED] = "snapped",
    [CNT_TOO_BIG] = "too_big",
};

#define NAME_RING_BYTES (4u << 20)

#define DRAIN_BATCH 16384

static int make_flow_map(__u32 max_flows, bool v4)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, v4 ? "tunflow_flows4" : "tunflow_flows6",
	                        v4 ? sizeof(struct flow_key4) : sizeof(struct flow_key),
	                        sizeof(struct flow_stats), max_flows, NULL);

	return fd < 0 ? -errno : fd;
}

static struct dp_flows *family(struct datapath *dp, bool v4) { return v4 ? &dp->v4 : &dp->v6; }

/* Put a family's map idx in the kernel's slot. */
static int install(struct datapath *dp, bool v4, int idx)
{
	__u32 zero = 0;
	struct dp_flows *f = family(dp, v4);
	int outer = bpf_map__fd(v4 ? dp->skel->maps.flow_maps4 : dp->skel->maps.flow_maps);

	/* For map-in-map updates the kernel waits for an RCU grace period before returning:
	 * afterwards no program run still holds the map that was there before. */
	if (bpf_map_update_elem(outer, &zero, &f->fd[idx], BPF_ANY))
		return -errno;
	f->active = idx;
	return 0;
}

int dp_flow_map(const struct datapath *dp, bool v4)
{
	const struct dp_flows *f = v4 ? &dp->v4 : &dp->v6;

	return f->fd[f->active];
}

/* Start the timer that advances the programs' hot-path clock: 0 or -errno, said. */
static int start_clock(struct datapath *dp)
{
	__u8 pkt[64] = {0}; /* a test run needs a packet; the program does not read it */
	DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt),
	                    .repeat = 1);
	int err =
	    bpf_prog_test_run_opts(bpf_program__fd(dp->skel->progs.tunflow_clock_start), &opts);

	if (!err && opts.retval)
		err = -EINVAL;
	if (err)
		pr_err("cannot start the datapath's clock (a BPF timer, Linux 5.15+): %s (step %u)",
		       strerror(-err), opts.retval);
	return err;
}

static int open_dp(struct datapath *dp, __u32 max_flows, bool names, bool replay)
{
	int err, i;

	memset(dp, 0, sizeof(*dp));
	dp->replay = replay;
	dp->v4.fd[0] = dp->v4.fd[1] = dp->v6.fd[0] = dp->v6.fd[1] = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		pr_err("cannot count possible CPUs: %s", strerror(-dp->ncpus));
		return dp->ncpus ? dp->ncpus : -EINVAL;
	}
	/* a replay drains its one map per family in place: no spare to swap in */
	for (i = 0; i < 4; i += replay ? 2 : 1) {
		int *fd = &family(dp, i < 2)->fd[i % 2];

		*fd = make_flow_map(max_flows, i < 2);
		if (*fd < 0) {
			err = *fd;
			pr_err("cannot create a flow map of %u entries: %s%s", max_flows,
			       strerror(-err),
			       err == -ENOMEM || err == -E2BIG ? " (lower --max-flows)" : "");
			goto fail;
		}
	}
	dp->skel = tunflow_bpf__open();
	if (!dp->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	dp->skel->rodata->names_on = names;
	dp->names = names;
	dp->skel->rodata->tunflow_replay = replay;
	if (replay) {
		/* what a replay never runs is not verified (a third of its start-up): the
		 * capture gives the time, and raw IP enters at L3 ingress only */
		bpf_program__set_autoload(dp->skel->progs.tunflow_clock_start, false);
		bpf_program__set_autoload(dp->skel->progs.tunflow_l3_eg, false);
	}
	err = bpf_map__set_inner_map_fd(dp->skel->maps.flow_maps, dp->v6.fd[0]);
	if (!err)
		err = bpf_map__set_inner_map_fd(dp->skel->maps.flow_maps4, dp->v4.fd[0]);
	/* names off: the ring and the state map stay, at their smallest */
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.name_events,
		                               names ? NAME_RING_BYTES : (__u32)getpagesize());
	if (!err)
		err = bpf_map__set_max_entries(dp->skel->maps.cap_state, !names              ? 1
		                                                         : max_flows < 65536 ? 65536
		                                                         : max_flows > 262144
		                                                             ? 262144
		                                                             : max_flows);
	if (!err)
		err = tunflow_bpf__load(dp->skel);
	if (err) {
		pr_err("the kernel refused tunflow's BPF programs: %s (needs a kernel with "
		       "CONFIG_BPF_SYSCALL and CONFIG_NET_CLS_BPF; -v shows the verifier log)",
		       strerror(-err));
		goto fail;
	}
	err = replay ? 0 : start_clock(dp);
	if (err)
		goto fail;
	err = install(dp, true, 0);
	if (!err)
		err = install(dp, false, 0);
	if (err) {
		pr_err("cannot install the flow map: %s", strerror(-err));
		goto fail;
	}
	dp->batch = DRAIN_BATCH;
	dp->keys = calloc(dp->batch, sizeof(struct flow_key));
	dp->vals = calloc((size_t)dp->batch * dp->ncpus, sizeof(struct flow_stats));
	if (!dp->keys || !dp->vals) {
		err = -ENOMEM;
		pr_err("out of memory");
		goto fail;
	}
	return 0;
fail:
	dp_close(dp);
	return err;
}

int dp_open(struct datapath *dp, __u32 max_flows, bool names)
{
	return open_dp(dp, max_flows, names, false);
}

int dp_open_replay(struct datapath *dp, __u32 max_flows, bool names)
{
	return open_dp(dp, max_flows, names, true);
}

void dp_close(struct datapath *dp)
{
	tunflow_bpf__destroy(dp->skel);
	dp->skel = NULL;
	for (int i = 0; i < 4; i++) {
		int *fd = &family(dp, i < 2)->fd[i % 2];

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	free(dp->keys);
	free(dp->vals);
	dp->keys = dp->vals = NULL;
}

int dp_name_ring_fd(const struct datapath *dp)
{
	return dp->names ? bpf_map__fd(dp->skel->maps.name_events) : -1;
}

void dp_names_done(const struct datapath *dp, const struct flow_key *keys, __u32 n)
{
	static const __u8 zeros[256];
	int fd;

	if (!dp->names)
		return;
	fd = bpf_map__fd(dp->skel->maps.cap_state);
	for (__u32 done = 0; done < n;) {
		__u32 cnt = n - done < sizeof(zeros) ? n - done : sizeof(zeros);

		if (bpf_map_update_batch(fd, keys + done, zeros, &cnt, NULL)) {
			/* one by one (a kernel without batch updates of LRU maps) */
			for (__u32 i = done; i < n; i++)
				bpf_map_update_elem(fd, &keys[i], zeros, BPF_ANY);
			return;
		}
		done += cnt;
	}
}

int dp_prog_fd(const struct datapath *dp, bool l2, int dir)
{
	struct bpf_program *p;

	if (l2)
		p = dir == DIR_INGRESS ? dp->skel->progs.tunflow_l2_in
		                       : dp->skel->progs.tunflow_l2_eg;
	else
		p = dir == DIR_INGRESS ? dp->skel->progs.tunflow_l3_in
		                       : dp->skel->progs.tunflow_l3_eg;
	return bpf_program__fd(p);
}

int dp_test_run(const struct datapath *dp, bool l2, int dir, const void *data, __u32 len,
                __u32 wire, __u64 ts, int *verdict)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = 1);

	dp->skel->bss->replay_wire = wire;
	dp->skel->bss->replay_ts = ts;
	if (bpf_prog_test_run_opts(dp_prog_fd(dp, l2, dir), &o))
		return -errno;
	*verdict = (int)o.retval;
	return 0;
}

void dp_merge(const void *percpu, int ncpus, struct flow_stats *out)
{
	const struct flow_stats *v = percpu;

	memset(out, 0, sizeof(*out));
	for (int c = 0; c < ncpus; c++) {
		if (!v[c].packets)
			continue;
		out->packets += v[c].packets;
		out->bytes += v[c].bytes;
		out->tcp_flags |= v[c].tcp_flags;
		if (v[c].first_ns && (!out->first_ns || v[c].first_ns < out->first_ns))
			out->first_ns = v[c].first_ns;
		if (v[c].last_ns > out->last_ns)
			out->last_ns = v[c].last_ns;
	}
	/* last_ns is the millisecond clock; first_ns that clock plus the flows created since */
	if (out->last_ns < out->first_ns)
		out->last_ns = out->first_ns;
}

void dp_key_from4(const struct flow_key4 *k4, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = k4->ifindex;
	k->dir = k4->dir;
	k->ip_version = 4;
	k->proto = k4->proto;
	k->src[10] = k->src[11] = k->dst[10] = k->dst[11] = 0xff;
	memcpy(k->src + 12, k4->src, 4);
	memcpy(k->dst + 12, k4->dst, 4);
	k->sport = k4->sport;
	k->dport = k4->dport;
}

/* Read and empty one flow map that nobody writes, in batches. */
static int drain_map(struct datapath *dp, int fd, bool v4, flow_fn fn, void *ctx, long *flows)
{
	struct flow_key token; /* room for either family's key */
	bool first = true, done = false;
	int err;

	while (!done) {
		__u32 n = dp->batch;

		err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : &token, &token, dp->keys,
		                                      dp->vals, &n, NULL);
		if (err) {
			err = -errno;
			if (err == -ENOENT) {
				done = true;
			} else if (err == -ENOSPC && !n) {
				/* one hash bucket holds more than a batch: grow and retry */
				__u32 nb = dp->batch * 2;
				void *k = realloc(dp->keys, (size_t)nb * sizeof(struct flow_key));
				void *v = k ? realloc(dp->vals, (size_t)nb * dp->ncpus *
				                                    sizeof(struct flow_stats))
				            : NULL;
				if (k)
					dp->keys = k;
				if (v)
					dp->vals = v;
				if (!k || !v)
					return -ENOMEM;
				dp->batch = nb;
				continue;
			} else {
				return err;
			}
		}
		first = false;
		/* IPv4 keys into struct flow_keys in place, the last first (each grows) */
		for (__u32 i = n; v4 && i-- > 0;) {
			struct flow_key4 k4 = ((struct flow_key4 *)dp->keys)[i];

			dp_key_from4(&k4, (struct flow_key *)dp->keys + i);
		}
		for (__u32 i = 0; i < n; i++) {
			struct flow_stats st;

			dp_merge((char *)dp->vals +
			             (size_t)i * dp->ncpus * sizeof(struct flow_stats),
			         dp->ncpus, &st);
			(*flows)++;
			if (st.packets)
				fn((struct flow_key *)dp->keys + i, &st, ctx);
		}
	}
	return 0;
}

/* A family's part of a harvest before its drain: live, swap a fresh map in and read the
 * old one; in a replay, or once quiet, read the active one in place (and, quiet, a spare
 * a failed drain left). The maps to read into fds, *n of them. */
static int take(struct datapath *dp, bool v4, int fds[2], int *n)
{
	struct dp_flows *f = family(dp, v4);
	int old = f->active, err;
	struct flow_key token;

	*n = 0;
	if (dp->replay || dp->quiet) {
		fds[(*n)++] = f->fd[old];
		if (dp->quiet && f->dirty)
			fds[(*n)++] = f->fd[!old];
		return 0;
	}
	/* An empty map is left in place: a packet that comes after this look would have
	 * gone into the fresh map after a swap too, and is harvested next time. The look
	 * walks the buckets up to the first flow (all of them when there is none: 0.03 ms
	 * at 65536 entries, 1.1 ms at 1M, as the drain's walk would); the swap it saves
	 * waits for an RCU grace period. Not when the spare still holds flows a failed
	 * drain left: swapped in, they are harvested next time. */
	if (!f->dirty && bpf_map_get_next_key(f->fd[old], NULL, &token) && errno == ENOENT)
		return 0;
	err = install(dp, v4, !old);
	if (err)
		return err;
	f->dirty = false;
	fds[(*n)++] = f->fd[old]; /* nobody writes it now */
	return 0;
}

int dp_quiesce(struct datapath *dp)
{
	int err;

	if (dp->replay || dp->quiet)
		return 0;
	/* any update of an outer map waits for an RCU grace period: the active map again */
	err = install(dp, true, dp->v4.active);
	if (err)
		return err;
	dp->quiet = true;
	return 0;
}

void dp_key_to4(const struct flow_key *k, struct flow_key4 *k4)
{
	memset(k4, 0, sizeof(*k4));
	k4->ifindex = k->ifindex;
	k4->dir = k->dir;
	k4->proto = k->proto;
	memcpy(k4->src, k->src + 12, 4);
	memcpy(k4->dst, k->dst + 12, 4);
	k4->sport = k->sport;
	k4->dport = k->dport;
}

long dp_harvest(struct datapath *dp, flow_fn fn, void (*taken)(void *ctx), void *ctx)
{
	int fds[2][2], n[2], err[2];
	long flows = 0;

	/* Both families' swaps first, then taken(), then both drains: everything a drained
	 * packet's run put elsewhere (the names ring) is there when taken() looks. Each swap
	 * waits for its own RCU grace period (an outer map waits once per update call, and
	 * the families have an outer map each): sleep, not CPU, about 10 ms each on a 2-CPU
	 * VM (a harvest of a flow of each family 19.6 ms, of one IPv4 flow 9.9 ms, of none
	 * 0.06 ms). No packet is in both families, so each drain is exact on its own, and
	 * one failing leaves the other's flows harvested. */
	for (int i = 0; i < 2; i++)
		err[i] = take(dp, i == 0, fds[i], &n[i]);
	if (taken)
		taken(ctx);
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < n[i] && !err[i]; j++) {
			err[i] = drain_map(dp, fds[i][j], i == 0, fn, ctx, &flows);
			/* live: the spare holds what is left; quiet: it stays marked */
			if (err[i])
				family(dp, i == 0)->dirty = true;
		}
		if (!err[i] && dp->quiet)
			family(dp, i == 0)->dirty = false;
	}
	return err[0] ? err[0] : err[1] ? err[1] : flows;
}

int dp_counters(const struct datapath *dp, __u64 out[CNT_ALL])
{
	int fd = bpf_map__fd(dp->skel->maps.counters);
	__u64 vals[dp->ncpus];

	for (__u32 id = 0; id < CNT_MAX; id++) {
		out[id] = 0;
		if (bpf_map_lookup_elem(fd, &id, vals))
			return -errno;
		for (int c = 0; c < dp->ncpus; c++)
			out[id] += vals[c];
	}
	for (int id = 0; id < CNT_ALL; id++)
		out[id] = (id < CNT_MAX ? out[id] : 0) + dp->user[id];
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* tunflow's benchmarks that run in one process:
 *   bench datapath [--quick]  per-packet cost under BPF_PROG_TEST_RUN against the empty
 *                             program measured in the same run, pinned to one CPU
 *                             (--flows: only the many-flows rows)
 *   bench ablate [OBJ...]     where the hot path's time goes: tunflow's program built
 *                             without one piece at a time (bench/ablate.bpf.c), and OBJs
 *   bench harvest             wall and CPU time to harvest 10k/100k/1M flows, and memory
 *   bench evict [N]           a harvest of N new flows into tables already holding N,
 *                             unbounded and bounded at N (every flow evicts one)
 *   bench export              IPFIX export of 100k/1M records over TCP on loopback
 *   bench names               names capture: ring-buffer events per second that user space
 *                             (core/naming) reads and names on one core
 *   bench change N OUT [P]    CPU of one whole harvest (pipeline_harvest: drain, table,
 *                             report, sinks) with N flows held and P% of them (default 1)
 *                             with packets; OUT json (-o json to /dev/null) or metrics
 *                             (-o json and --metrics); prints the thread CPU ms of a
 *                             harvest and of its user-space part (minus the same drain
 *                             into a callback that does nothing), means of 20 harvests
 * Prints Markdown table rows. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/clock.h"
#include "core/flowtab.h"
#include "core/pipeline.h"
#include "core/records.h"
#include "sinks/metrics.h"
#include "sinks/sink.h"
#include "core/datapath.h"
#include "core/naming.h"
#include "sources/ifwatch.h"
#include "sinks/ipfix.h"
#include "pkt.h"

static int empty_prog(void)
{
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = -1}, /* r0 = TC_ACT_UNSPEC */
		{.code = 0x95},                          /* exit */
	};
	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bench_empty", "GPL", insns, 2, NULL);
}

/* Average ns per run of prog over repeat runs of one packet. */
static double run_ns(int prog, const void *pkt, size_t len, __u32 repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .repeat = repeat);

	if (bpf_prog_test_run_opts(prog, &o)) {
		fprintf(stderr, "bench: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
		exit(1);
	}
	return o.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define TRIALS 7

/* Interleaved trials of the floor, of tunflow, of tunflow with naming on, and of the
 * plain per-CPU hash reference of the packet's family (one lookup and one update on a
 * key read at fixed offsets: IPv4's at the L3 entry, whose key is nonsense but whose
 * cost is the same behind an Ethernet header; IPv6's reads the addresses at either
 * entry), and, for IPv4, of that reference with a 20-byte key, for IPv6, of that reference
 * stepping over extension headers to the ports; medians, and tunflow's spread. plain20,
 * plain6x < 0: no such column for this row. */
static void datapath_row(const char *name, bool l2, int empty, int prog, int prog_names,
			 int plain, int plain20, int plain6x,
			 const struct pkt_spec *s, __u32 repeat)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec sp = *s;
	double fl[TRIALS], tf[TRIALS], df[TRIALS], nm[TRIALS], dn[TRIALS], pl[TRIALS], p20[TRIALS],
	       p6x[TRIALS];
	double lo = 1e9, hi = 0;
	size_t len;

	sp.l2 = l2;
	len = pkt_build(&sp, buf, &lay);
	run_ns(prog, buf, len, repeat / 10); /* warm: flow exists, caches hot */
	run_ns(prog_names, buf, len, repeat / 10);
	run_ns(plain, buf, len, repeat / 10);
	if (plain20 >= 0)
		run_ns(plain20, buf, len, repeat / 10);
	if (plain6x >= 0)
		run_ns(plain6x, buf, len, repeat / 10);
	for (int t = 0; t < TRIALS; t++) {
		fl[t] = run_ns(empty, buf, len, repeat);
		tf[t] = run_ns(prog, buf, len, repeat);
		nm[t] = run_ns(prog_names, buf, len, repeat);
		pl[t] = run_ns(plain, buf, len, repeat) - fl[t];
		p20[t] = plain20 >= 0 ? run_ns(plain20, buf, len, repeat) - fl[t] : 0;
		p6x[t] = plain6x >= 0 ? run_ns(plain6x, buf, len, repeat) - fl[t] : 0;
		df[t] = tf[t] - fl[t];
		dn[t] = nm[t] - tf[t];
		if (df[t] < lo) lo = df[t];
		if (df[t] > hi) hi = df[t];
	}
	printf("| %s | %s | %.0f | %.0f | **%.0f** | %.0f..%.0f | %.0f | **%+.1f** | %.0f | ",
	       l2 ? "L2" : "L3", name, median(fl, TRIALS), median(tf, TRIALS), median(df, TRIALS),
	       lo, hi, median(nm, TRIALS), median(dn, TRIALS), median(pl, TRIALS));
	if (plain20 >= 0)
		printf("%.0f | ", median(p20, TRIALS));
	else
		printf("- | ");
	if (plain6x >= 0)
		printf("%.0f |\n", median(p6x, TRIALS));
	else
		printf("- |\n");
	fflush(stdout);
}

#define V4A "192.0.2.1"
#define V4B "198.51.100.7"
#define V6A "2001:db8::1"
#define V6B "2001:db8:1::2"

static void pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int load_plain(struct bpf_object **po)
{
	*po = bpf_object__open_file("build/plain.bpf.o", NULL);
	if (!*po || bpf_object__load(*po)) {
		fprintf(stderr, "bench: cannot load build/plain.bpf.o\n");
		return -1;
	}
	return bpf_program__fd(bpf_object__find_program_by_name(*po, "plain_l3"));
}

#define FLOW_ROUNDS 5
#define FLOW_PROGS 4 /* floor, tunflow, tunflow names on, plain */

/* One round over nflows distinct flows in fresh maps, one run each: the first pass
 * inserts, the second hits. The programs take turns going first (flow i starts with
 * program i % FLOW_PROGS) so that no one pays for the others' cache misses. Per-run
 * timer overhead is the same for every program and cancels in the differences.
 * ns[p][pass]: mean ns per run. */
static int flows_round(int empty, __u32 nflows, double ns[FLOW_PROGS][2])
{
	static uint8_t buf[PKT_MAX];
	struct datapath dp, dpn;
	struct bpf_object *po;
	struct pkt_layout lay;
	double sum[FLOW_PROGS][2] = {{0}};
	int progs[FLOW_PROGS];
	size_t len;

	if (dp_open(&dp, 131072, false) || dp_open(&dpn, 131072, true))
		return -1;
	progs[0] = empty;
	progs[1] = dp_prog_fd(&dp, false, DIR_EGRESS);
	progs[2] = dp_prog_fd(&dpn, false, DIR_EGRESS);
	progs[3] = load_plain(&po);
	if (progs[3] < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		for (__u32 i = 0; i < nflows; i++) {
			char src[32];
			struct pkt_spec s = {.ipv = 4,
			                     .src = src,
			                     .dst = V4B,
			                     .proto = IPPROTO_UDP,
			                     .sport = 1024 + i % 50000,
			                     .dport = 443,
			                     .payload = 32};

			snprintf(src, sizeof(src), "10.%u.%u.%u", i >> 16 & 0xff, i >> 8 & 0xff,
			         i & 0xff);
			len = pkt_build(&s, buf, &lay);
			for (int k = 0; k < FLOW_PROGS; k++) {
				int p = (i + k) % FLOW_PROGS;

				sum[p][pass] += run_ns(progs[p], buf, len, 1);
			}
		}
	}
	for (int p = 0; p < FLOW_PROGS; p++)
		for (int pass = 0; pass < 2; pass++)
			ns[p][pass] = sum[p][pass] / nflows;
	bpf_object__close(po);
	dp_close(&dpn);
	dp_close(&dp);
	return 0;
}

/* FLOW_ROUNDS rounds; medians over floor, and tunflow's spread. */
static int many_flows(int empty, __u32 nflows)
{
	double ns[FLOW_ROUNDS][FLOW_PROGS][2], v[FLOW_PROGS][FLOW_ROUNDS];

	printf("\n| entry | many flows | floor ns | tunflow ns | over floor ns | spread over floor | "
	       "names on, over floor ns | reference |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);

	for (int r = 0; r < FLOW_ROUNDS; r++)
		if (flows_round(empty, nflows, ns[r]))
			return -1;
	for (int pass = 0; pass < 2; pass++) {
		double lo = 1e9, hi = 0, fl;

		for (int r = 0; r < FLOW_ROUNDS; r++) {
			v[0][r] = ns[r][0][pass];
			for (int p = 1; p < FLOW_PROGS; p++)
				v[p][r] = ns[r][p][pass] - ns[r][0][pass];
			if (v[1][r] < lo)
				lo = v[1][r];
			if (v[1][r] > hi)
				hi = v[1][r];
		}
		fl = median(v[0], FLOW_ROUNDS);
		printf("| L3 | %u flows, %s | %.0f | %.0f | **%.0f** | %.0f..%.0f | %.0f | "
		       "plain per-CPU hash: **%.0f** over floor |\n",
		       nflows, pass ? "hit (all exist)" : "insert (all new)", fl,
		       fl + median(v[1], FLOW_ROUNDS), median(v[1], FLOW_ROUNDS), lo, hi,
		       median(v[2], FLOW_ROUNDS), median(v[3], FLOW_ROUNDS));
	}
	return 0;
}

static int datapath(bool quick, bool flows_only)
{
	struct datapath dp, dpn;
	struct bpf_object *po;
	int empty, plain, plain20, plain6[2], plain6x[2];
	__u32 repeat = quick ? 200000 : 1000000;
	struct {
		const char *name;
		struct pkt_spec s;
		bool l2_only;
	} cls[] = {
		{"IPv4 TCP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP, .sport = 443, .dport = 50000, .tcp_flags = 0x10, .payload = 64}, false},
		{"IPv4 UDP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 53, .dport = 50000, .payload = 64}, false},
		{"IPv4 UDP 443 (not DNS)", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 443, .dport = 50000, .payload = 64}, false},
		{"IPv6 TCP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_TCP, .sport = 443, .dport = 50000, .tcp_flags = 0x10, .payload = 64}, false},
		{"IPv6 UDP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 53, .dport = 50000, .payload = 64}, false},
		{"ICMP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMP, .sport = 8, .payload = 56}, false},
		{"ICMPv6", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ICMPV6, .sport = 128, .payload = 56}, false},
		{"IPv6 + HBH, DST, frag", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT}, .next = 3, .frag = FRAG_FIRST, .payload = 64}, false},
		{"802.1Q IPv4 TCP", {.vlans = 1, .ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP, .sport = 443, .dport = 50000, .payload = 64}, true},
	};

	pin_cpu();
	empty = empty_prog();
	if (flows_only)
		return empty < 0 || many_flows(empty, 65536);
	if (empty < 0 || dp_open(&dp, 131072, false) || dp_open(&dpn, 131072, true)) {
		fprintf(stderr, "bench: cannot load programs: %s\n", strerror(errno));
		return 1;
	}
	po = bpf_object__open_file("build/plain.bpf.o", NULL);
	if (!po || bpf_object__load(po)) {
		fprintf(stderr, "bench: cannot load build/plain.bpf.o\n");
		return 1;
	}
	plain = bpf_program__fd(bpf_object__find_program_by_name(po, "plain_l3"));
	plain20 = bpf_program__fd(bpf_object__find_program_by_name(po, "plain20_l3"));
	plain6[0] = bpf_program__fd(bpf_object__find_program_by_name(po, "plain6_l3"));
	plain6[1] = bpf_program__fd(bpf_object__find_program_by_name(po, "plain6_l2"));
	plain6x[0] = bpf_program__fd(bpf_object__find_program_by_name(po, "plain6x_l3"));
	plain6x[1] = bpf_program__fd(bpf_object__find_program_by_name(po, "plain6x_l2"));
	printf("| entry | packet | floor ns | tunflow ns | over floor ns | spread over floor | "
	       "names on ns | names on - off ns | plain hash over floor ns | "
	       "plain hash, 20-byte key, over floor ns | "
	       "plain hash walking extension headers, over floor ns |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int l2 = 0; l2 <= 1; l2++)
		for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
			if (l2 || !cls[i].l2_only)
				datapath_row(cls[i].name, l2, empty, dp_prog_fd(&dp, l2, DIR_EGRESS),
					     dp_prog_fd(&dpn, l2, DIR_EGRESS),
					     cls[i].s.ipv == 6 ? plain6[l2] : plain,
					     cls[i].s.ipv == 6 ? -1 : plain20,
					     cls[i].s.ipv == 6 ? plain6x[l2] : -1, &cls[i].s, repeat);
	dp_close(&dpn);
	bpf_object__close(po);
	if (!quick) {
		if (many_flows(empty, 65536))
			return 1;
	}
	dp_close(&dp);
	close(empty);
	return 0;
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_flow(const struct flow_key *k, const struct flow_stats *st, void *ctx)
{
	flowtab_add(ctx, k, st);
}

static void noop_flow(const struct flow_key *k, const struct flow_stats *st, void *ctx)
{
	(void)k;
	(void)st;
	(void)ctx;
}

/* Fill the active kernel map with n flows from user space (batch update of per-CPU
 * values), as if n flows had been seen in one interval. */
static __u64 fill_time; /* first and last packet of the filled flows; 0: 1 and 2 ns */

static int fill_from(struct datapath *dp, __u32 n, __u32 first_id)
{
	int ncpu = libbpf_num_possible_cpus();
	const __u32 chunk = 8192;
	struct flow_key4 *keys = calloc(chunk, sizeof(*keys));
	struct flow_stats *vals = calloc((size_t)chunk * ncpu, sizeof(*vals));
	int err = 0;

	for (__u32 base = 0; base < n && !err; base += chunk) {
		__u32 cnt = n - base < chunk ? n - base : chunk;

		for (__u32 i = 0; i < cnt; i++) {
			__u32 id = first_id + base + i;

			memset(&keys[i], 0, sizeof(keys[i]));
			keys[i].ifindex = 2;
			keys[i].proto = IPPROTO_TCP;
			keys[i].src[0] = 10;
			keys[i].src[1] = id >> 16;
			keys[i].src[2] = id >> 8;
			keys[i].src[3] = id;
			keys[i].dst[0] = 192;
			keys[i].dst[2] = 2;
			keys[i].sport = 1024 + id % 60000;
			keys[i].dport = 443;
			for (int c = 0; c < ncpu; c++)
				vals[(size_t)i * ncpu + c] = (struct flow_stats){
				    10, 15000, fill_time ? fill_time : 1, fill_time ? fill_time : 2, 0x18, 0,
				    {0}};
		}
		if (bpf_map_update_batch(dp_flow_map(dp, true), keys, vals, &cnt, NULL)) {
			fprintf(stderr, "bench: filling %u flows: %s\n", n, strerror(errno));
			err = -1;
		}
	}
	free(keys);
	free(vals);
	return err;
}

static unsigned long long map_memlock(int fd)
{
	struct bpf_map_info info = {0};
	__u32 il = sizeof(info);
	char cmd[128], line[256];
	unsigned long long memlock = 0;
	FILE *p;

	bpf_obj_get_info_by_fd(fd, &info, &il);
	snprintf(cmd, sizeof(cmd), "bpftool -j map show id %u", info.id);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		char *b = strstr(line, "\"bytes_memlock\":");
		if (b)
			memlock = strtoull(b + 16, NULL, 10);
	}
	pclose(p);
	return memlock;
}

static int fill(struct datapath *dp, __u32 n)
{
	return fill_from(dp, n, 0);
}

/* Time the whole harvest of n flows (swap, drain, merge CPUs, flow table), and the
 * kernel part alone (swap and drain into a callback that does nothing). */
static int harvest_one(__u32 n)
{
	struct datapath dp;
	struct flowtab *ft = flowtab_new(0);
	struct mallinfo2 m0, m1;
	double w0, w1, c0, c1, k0, k1;
	long got;

	if (dp_open(&dp, n, false) || fill(&dp, n))
		return 1;
	k0 = now_s(CLOCK_MONOTONIC);
	got = dp_harvest(&dp, noop_flow, NULL, NULL);
	k1 = now_s(CLOCK_MONOTONIC);
	if (got != n || fill(&dp, n))
		return 1;
	m0 = mallinfo2();
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	flowtab_begin(ft);
	got = dp_harvest(&dp, on_flow, NULL, ft);
	w1 = now_s(CLOCK_MONOTONIC);
	c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	m1 = mallinfo2();
	printf("| %u | %.3f | %.3f | %.3f | %.0f | %.0f |\n", n, w1 - w0, c1 - c0, k1 - k0,
	       (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) / n,
	       (double)(map_memlock(dp.v4.fd[0]) + map_memlock(dp.v4.fd[1]) +
	                map_memlock(dp.v6.fd[0]) + map_memlock(dp.v6.fd[1])) /
	           n);
	fflush(stdout);
	flowtab_free(ft);
	dp_close(&dp);
	return got == n ? 0 : 1;
}

static int harvest(void)
{
	__u32 sizes[] = {10000, 100000, 1000000};

	printf("| flows | harvest wall s | harvest CPU s | of which kernel drain s | user-space bytes/flow | kernel bytes/flow (all four maps) |\n");
	printf("|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < 3; i++)
		if (harvest_one(sizes[i]))
			return 1;
	return 0;
}

/* What one harvest costs with n flows held, pct% of them with packets since the last:
 * the whole pipeline_harvest() (drain, flow table, report, the sinks), as tunflow runs
 * it with -o json to /dev/null (out "json") and with --metrics too (out "metrics"). */
static int change(__u32 n, const char *out, double pct)
{
	struct pipeline_cfg pc = {.rec = {.idle_s = 15, .active_s = 1800, .tcp_linger_s = 2},
	                          .forget_s = 3600,
	                          .hold_s = 1};
	struct ifwatch w = {0};
	struct datapath dp;
	struct pipeline p;
	FILE *null = fopen("/dev/null", "w");
	__u32 active = n * pct / 100, rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 20;
	double cpu = 0, drain = 0;

	pthread_mutex_init(&w.lock, NULL);
	iface_remember(2, "tun0"); /* the flows' interface, known as a watched one is */
	if (!null || dp_open(&dp, n, false) || pipeline_init(&p, &pc, &dp, &w, NULL))
		return 1;
	if (pipeline_add_sink(&p, sink_json_new(null, GROUP_FLOW, false)))
		return 1;
	if (!strcmp(out, "metrics")) {
		char addr[32];
		struct metrics_cfg mc = {.top = 10};
		struct sink *s;

		snprintf(addr, sizeof(addr), "127.0.0.1:%d", 30000 + getpid() % 20000);
		mc.addr = addr;
		if (!(s = metrics_sink_new(&mc)) || pipeline_add_sink(&p, s))
			return 1;
	}
	pipeline_start(&p);
	fill_time = now_ns(CLOCK_MONOTONIC);
	if (fill_from(&dp, n, 0) || pipeline_harvest(&p, false, NULL, 0, NULL))
		return 1;
	/* two harvests first, not timed: the first expiry after the burst that filled the
	 * table sorts that burst's run of the idle list by last packet, once */
	for (__u32 r = 0; r < rounds + 2; r++) {
		double c0, c1, d0;

		fill_time = now_ns(CLOCK_MONOTONIC);
		if (fill_from(&dp, active, (__u32)(((__u64)r * active) % n)))
			return 1;
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		if (pipeline_harvest(&p, false, NULL, 0, NULL))
			return 1;
		c1 = now_s(CLOCK_THREAD_CPUTIME_ID);
		/* the kernel's part: the same drain of the same map into a callback that does
		 * nothing (the empty drains bring the other map back) */
		dp_harvest(&dp, noop_flow, NULL, NULL);
		if (fill_from(&dp, active, (__u32)(((__u64)r * active) % n)))
			return 1;
		d0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		dp_harvest(&dp, noop_flow, NULL, NULL);
		if (r >= 2) {
			cpu += c1 - c0;
			drain += now_s(CLOCK_THREAD_CPUTIME_ID) - d0;
		}
		dp_harvest(&dp, noop_flow, NULL, NULL);
	}
	printf("%.3f %.3f\n", cpu * 1e3 / rounds, (cpu - drain) * 1e3 / rounds);
	pipeline_free(&p);
	dp_close(&dp);
	fclose(null);
	return 0;
}

struct evict_ctx {
	struct flowtab *ft;
	struct records *rt; /* NULL: flow table only */
};

static void on_flow_rec(const struct flow_key *k, const struct flow_stats *st, void *ctx)
{
	struct evict_ctx *x = ctx;
	struct flow *f = flowtab_add(x->ft, k, st);

	if (x->rt && f)
		records_add(x->rt, k, st, NULL);
}

static void no_record(const struct record *r, void *ctx)
{
	(void)r;
	(void)ctx;
}

/* One harvest of n flows fills the tables; a second harvest of n other flows is timed
 * (CPU of the whole harvest, and of the user-space part alone: the harvest minus a
 * drain of the same n flows into a callback that does nothing), with the tables
 * unbounded (they grow to 2n) or bounded at n (each new flow evicts the one idle
 * longest; the first eviction sorts the previous harvest's n flows by last packet). */
static int evict_one(__u32 n, bool records, size_t bound)
{
	struct record_cfg rc = {.idle_s = 1e6, .active_s = 1e6, .tcp_linger_s = 2, .max = bound};
	struct evict_ctx x = {flowtab_new(bound), records ? records_new(&rc) : NULL};
	struct datapath dp;
	struct mallinfo2 m0, m1;
	double c0, c1, k0, k1, u0, u1;
	long got;

	if (dp_open(&dp, n, false) || fill_from(&dp, n, 0))
		return 1;
	m0 = mallinfo2();
	flowtab_begin(x.ft);
	got = dp_harvest(&dp, on_flow_rec, NULL, &x);
	if (x.rt)
		records_emit(x.rt, 3, NULL, 0, false, no_record, NULL);
	m1 = mallinfo2();
	if (got != n || fill_from(&dp, n, n))
		return 1;
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	flowtab_begin(x.ft);
	got = dp_harvest(&dp, on_flow_rec, NULL, &x);
	u0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	if (x.rt)
		records_emit(x.rt, 3, NULL, 0, false, no_record, NULL);
	flowtab_drop_ended(x.ft);
	c1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	if (got != n || fill_from(&dp, n, 2 * n))
		return 1;
	k0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	got = dp_harvest(&dp, noop_flow, NULL, NULL);
	k1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	u1 = u0 - c0 - (k1 - k0); /* user-space part of the harvest */
	printf("| %u | %s | %s | %.3f | %.0f | %.0f | %llu | %.0f |\n", n,
	       records ? "flows + records" : "flows", bound ? "yes" : "no", c1 - c0,
	       u1 * 1e9 / n, (c1 - u0) * 1e9 / n,
	       (unsigned long long)(flowtab_evicted(x.ft) + (x.rt ? records_evicted(x.rt) : 0)),
	       (double)(m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd) / n);
	fflush(stdout);
	records_free(x.rt);
	flowtab_free(x.ft);
	dp_close(&dp);
	return got == n ? 0 : 1;
}

static int evict(__u32 n)
{
	printf("| flows | tables | bounded at N | harvest CPU s | user-space add ns/flow | emit + drop ns/flow | evicted | user-space bytes/flow |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	for (int rec = 0; rec <= 1; rec++)
		for (int b = 0; b <= 1; b++)
			if (evict_one(n, rec, b ? n : 0))
				return 1;
	return 0;
}

/* A TCP collector that reads and counts: the far end of the export bench. */
struct sink_peer {
	int lfd;
	unsigned long long bytes;
};

static void *collector(void *arg)
{
	struct sink_peer *p = arg;
	char buf[1 << 16];
	int fd = accept(p->lfd, NULL, NULL);
	ssize_t n;

	while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
		p->bytes += n;
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* IPFIX export of n biflow records over TCP on loopback: the harvest thread's cost per
 * record (encode and queue), then the time until the sender has delivered them all. */
static int export_one(__u32 n)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct sink_peer peer = {.lfd = socket(AF_INET, SOCK_STREAM, 0)};
	struct ipfix_cfg cfg = {.backlog = n, .template_s = 60};
	struct export_stats st;
	struct record r = {0};
	char spec[64];
	struct ipfix *x;
	pthread_t t;
	double w0, w1, w2, c0, c1;

	if (bind(peer.lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(peer.lfd, 1) ||
	    getsockname(peer.lfd, (struct sockaddr *)&sa, &sl))
		return 1;
	pthread_create(&t, NULL, collector, &peer);
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
	if (ipfix_parse(spec, &cfg) || !(x = ipfix_open(&cfg)))
		return 1;
	iface_remember(1, "lo"); /* as ifwatch does for every watched interface */
	r.key.ifindex = 1;
	r.key.ip_version = 4;
	r.key.proto = IPPROTO_TCP;
	r.key.src[10] = r.key.src[11] = r.key.dst[10] = r.key.dst[11] = 0xff;
	r.key.src[12] = 10;
	r.key.dst[12] = 192, r.key.dst[14] = 2;
	r.key.dport = 443;
	r.end = END_TCP;
	r.packets = 10, r.bytes = 15000, r.rev_packets = 8, r.rev_bytes = 900;
	r.tcp_flags = 0x1b, r.rev_tcp_flags = 0x1b;
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	for (__u32 i = 0; i < n; i++) {
		r.key.src[15] = i, r.key.src[14] = i >> 8, r.key.src[13] = i >> 16;
		r.key.sport = 1024 + i % 60000;
		r.start_ns = i * 1000ull, r.end_ns = r.start_ns + 5000000000ull;
		ipfix_add(x, &r, "alice", 0);
		if (i % 10000 == 9999)
			ipfix_flush(x); /* as after a harvest */
	}
	ipfix_flush(x);
	c1 = now_s(CLOCK_THREAD_CPUTIME_ID);
	w1 = now_s(CLOCK_MONOTONIC);
	ipfix_finish(x, 120);
	w2 = now_s(CLOCK_MONOTONIC);
	ipfix_stats(x, &st);
	ipfix_close(x); /* closes the connection: the collector sees the end */
	pthread_join(t, NULL);
	close(peer.lfd);
	printf("| %u | %.0f | %.0f | %.3f | %.0f | %.1f | %llu |\n", n, (c1 - c0) * 1e9 / n,
	       (w1 - w0) * 1e9 / n, w2 - w0, n / (w2 - w0), (double)peer.bytes / n,
	       (unsigned long long)st.failures);
	fflush(stdout);
	return st.records == n ? 0 : 1;
}

static int export(void)
{
	__u32 sizes[] = {100000, 1000000};

	printf("| records | harvest thread CPU ns/record | harvest thread wall ns/record | all delivered after s | records/s delivered | wire bytes/record | failures |\n");
	printf("|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < 2; i++)
		if (export_one(sizes[i]))
			return 1;
	return 0;
}

/* A TLS ClientHello for host into b (about 300 bytes): what a browser's first segment
 * starts with, minus most extensions. */
static size_t bench_hello(uint8_t *b, const char *host)
{
	size_t hl = strlen(host), o = 0, hs, ext;

	b[o++] = 0x16, b[o++] = 3, b[o++] = 1, o += 2;
	hs = o;
	b[o++] = 1, o += 3, b[o++] = 3, b[o++] = 3;
	memset(b + o, 0x5a, 32), o += 32;
	b[o++] = 32, memset(b + o, 0x33, 32), o += 32;
	b[o++] = 0, b[o++] = 2, b[o++] = 0x13, b[o++] = 1, b[o++] = 1, b[o++] = 0;
	ext = o, o += 2;
	b[o++] = 0, b[o++] = 0, b[o++] = (hl + 5) >> 8, b[o++] = hl + 5;
	b[o++] = (hl + 3) >> 8, b[o++] = hl + 3, b[o++] = 0, b[o++] = hl >> 8, b[o++] = hl;
	memcpy(b + o, host, hl), o += hl;
	b[o++] = 0, b[o++] = 21, b[o++] = 0, b[o++] = 128, memset(b + o, 0, 128), o += 128;
	b[ext] = (o - ext - 2) >> 8, b[ext + 1] = o - ext - 2;
	b[hs + 1] = 0, b[hs + 2] = (o - hs - 4) >> 8, b[hs + 3] = o - hs - 4;
	b[3] = (o - 5) >> 8, b[4] = o - 5;
	return o;
}

/* A DNS response: host IN A addr. */
static size_t bench_dns(uint8_t *b, const char *host, uint32_t addr)
{
	static const uint8_t hdr[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
	size_t o = sizeof(hdr);
	const char *p = host;

	memcpy(b, hdr, o);
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		b[o++] = l, memcpy(b + o, p, l), o += l, p += l + !!dot;
	}
	b[o++] = 0, b[o++] = 0, b[o++] = 1, b[o++] = 0, b[o++] = 1;
	b[o++] = 0xc0, b[o++] = 12, b[o++] = 0, b[o++] = 1, b[o++] = 0, b[o++] = 1;
	b[o++] = 0, b[o++] = 0, b[o++] = 0, b[o++] = 60, b[o++] = 0, b[o++] = 4;
	memcpy(b + o, &addr, 4);
	return o + 4;
}

/* Ring-buffer events user space reads and names per second on one core: rounds of
 * new flows run through the program (a third each TLS ClientHello, DNS response, HTTP
 * request), which fill the ring; then one timed read of the ring into core/naming. */
static int names(void)
{
	struct naming_cfg cfg = {.dns_cache = 65536, .dns_min_ttl = 300};
	struct datapath dp;
	struct naming *n;
	static uint8_t buf[PKT_MAX];
	double busy = 0, wall = 0;
	long events = 0;
	__u64 c[CNT_ALL];
	uint32_t id = 0;

	pin_cpu();
	if (dp_open(&dp, 131072, true) || !(n = naming_new(&cfg, &dp, NULL))) {
		fprintf(stderr, "bench: cannot load programs: %s\n", strerror(errno));
		return 1;
	}
	for (int round = 0; round < 20; round++) {
		double t0, c0;

		for (int i = 0; i < 6000; i++, id++) {
			char src[32], host[64];
			struct pkt_spec s = {.ipv = 4, .src = src, .dst = V4B, .payload = 0};
			struct pkt_layout lay;
			uint8_t pl[600];
			size_t plen, len, l4len;

			snprintf(src, sizeof(src), "10.%u.%u.%u", id >> 16 & 0xff, id >> 8 & 0xff,
				 id & 0xff);
			snprintf(host, sizeof(host), "site%u.example", id);
			switch (id % 3) {
			case 0:
				s.proto = IPPROTO_TCP, s.sport = 1024 + id % 60000, s.dport = 443;
				s.tcp_flags = 0x18;
				plen = bench_hello(pl, host);
				l4len = 20;
				break;
			case 1:
				s.proto = IPPROTO_UDP, s.sport = 53, s.dport = 1024 + id % 60000;
				plen = bench_dns(pl, host, htonl(0xcb007100 | (id & 0xff)));
				l4len = 8;
				break;
			default:
				s.proto = IPPROTO_TCP, s.sport = 1024 + id % 60000, s.dport = 80;
				s.tcp_flags = 0x18;
				plen = snprintf((char *)pl, sizeof(pl),
						"GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench\r\n\r\n",
						host);
				l4len = 20;
				break;
			}
			s.payload = plen;
			len = pkt_build(&s, buf, &lay);
			memcpy(buf + lay.l4 + l4len, pl, plen);
			run_ns(dp_prog_fd(&dp, false, DIR_EGRESS), buf, len, 1);
		}
		t0 = now_s(CLOCK_MONOTONIC);
		c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
		events += naming_poll(n);
		wall += now_s(CLOCK_MONOTONIC) - t0;
		busy += now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
		dp_harvest(&dp, noop_flow, NULL, NULL);
	}
	dp_counters(&dp, c);
	printf("| events read | name_drops | wall s | CPU s | events/s (CPU) | conns followed |\n");
	printf("|---|---|---|---|---|---|\n");
	printf("| %ld | %llu | %.3f | %.3f | **%.0f** | %zu |\n", events,
	       (unsigned long long)c[CNT_NAME_DROPS], wall, busy, events / busy, naming_conns(n));
	naming_free(n);
	dp_close(&dp);
	return 0;
}

/* bench ablate [OBJ...]: "Where the hot path's time goes". tunflow's program built
 * without one piece at a time (bench/ablate.bpf.c, the Makefile's ABLATE_OBJS), against
 * the plain per-CPU hash counter of the packet's family (bench/plain.bpf.c), over the
 * floor measured in the same interleaved trials; each trial starts with another
 * program. Each OBJ given (another build of tunflow.bpf.c, e.g. with an earlier parser)
 * is one more column: before and after in one run. */
#define AB_TRIALS 21
#define AB_MAX 12
#define AB_OUTER 2 /* flow_maps, flow_maps4 */

struct ablate_prog {
	const char *path, *title;
	struct bpf_object *o;
	int map[AB_OUTER], l3, l2;
};

/* Load a build of tunflow.bpf.c as dp_open() does (names off, a flow map in the slot
 * of each outer map: flow_maps and, where IPv4 flows have a map of their own,
 * flow_maps4; clock started); 0 or -1, said. */
static int ablate_load(struct ablate_prog *a)
{
	static const char *outer_names[AB_OUTER] = {"flow_maps", "flow_maps4"};
	__u8 pkt[64] = {0};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = 1);
	struct bpf_map *outer[AB_OUTER], *m;
	__u32 zero = 0;

	a->o = bpf_object__open_file(a->path, NULL);
	if (!a->o)
		goto fail;
	for (int i = 0; i < AB_OUTER; i++) {
		outer[i] = bpf_object__find_map_by_name(a->o, outer_names[i]);
		a->map[i] = -1;
		if (!outer[i])
			continue;
		m = bpf_map__inner_map(outer[i]);
		a->map[i] = bpf_map_create(BPF_MAP_TYPE_PERCPU_HASH, "ablate",
		                           m ? bpf_map__key_size(m) : sizeof(struct flow_key),
		                           sizeof(struct flow_stats), 1024, NULL);
		if (a->map[i] < 0 || bpf_map__set_inner_map_fd(outer[i], a->map[i]))
			goto fail;
	}
	if (!outer[0])
		goto fail;
	if ((m = bpf_object__find_map_by_name(a->o, "name_events")))
		bpf_map__set_max_entries(m, getpagesize());
	if ((m = bpf_object__find_map_by_name(a->o, "cap_state")))
		bpf_map__set_max_entries(m, 1);
	if (bpf_object__load(a->o) ||
	    bpf_prog_test_run_opts(
	        bpf_program__fd(bpf_object__find_program_by_name(a->o, "tunflow_clock_start")), &o) ||
	    o.retval)
		goto fail;
	for (int i = 0; i < AB_OUTER; i++)
		if (outer[i] &&
		    bpf_map_update_elem(bpf_map__fd(outer[i]), &zero, &a->map[i], BPF_ANY))
			goto fail;
	a->l3 = bpf_program__fd(bpf_object__find_program_by_name(a->o, "tunflow_l3_eg"));
	a->l2 = bpf_program__fd(bpf_object__find_program_by_name(a->o, "tunflow_l2_eg"));
	return 0;
fail:
	fprintf(stderr, "bench: cannot load %s\n", a->path);
	return -1;
}

/* ns per run of prog from this thread's CPU time over repeat runs: finer than the
 * kernel's whole-ns duration, and blind to the time another task holds the CPU. */
static double run_cpu_ns(int prog, const void *pkt, size_t len, __u32 repeat)
{
	double c0 = now_s(CLOCK_THREAD_CPUTIME_ID);

	run_ns(prog, pkt, len, repeat);
	return (now_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e9 / repeat;
}

static int ablate(int nextra, char **extra)
{
	static uint8_t buf[PKT_MAX];
	struct ablate_prog ap[AB_MAX] = {
	    {.path = "build/ablate_full.bpf.o", .title = "tunflow"},
	    {.path = "build/ablate_direct.bpf.o", .title = "no outer map-in-map lookup"},
	    {.path = "build/ablate_two_maps.bpf.o", .title = "two flow maps and a global, no outer lookup"},
	    {.path = "build/ablate_no_gso.bpf.o", .title = "no GSO read"},
	    {.path = "build/ablate_no_stamp.bpf.o", .title = "no last_ns, tcp_flags stores"},
	    {.path = "build/ablate_fixed_parse.bpf.o", .title = "fixed-offset parser"},
	};
	int n = 6, empty, np, prog[AB_MAX + 2];
	struct bpf_object *po;
	struct {
		const char *name;
		struct pkt_spec s;
	} cls[] = {
	    {"IPv4 TCP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP, .sport = 443, .dport = 50000, .tcp_flags = 0x10, .payload = 64}},
	    {"IPv6 TCP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_TCP, .sport = 443, .dport = 50000, .tcp_flags = 0x10, .payload = 64}},
	    {"IPv6 + HBH, DST, frag", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT}, .next = 3, .frag = FRAG_FIRST, .payload = 64}},
	};

	for (int i = 0; i < nextra && n < AB_MAX; i++, n++) {
		const char *slash = strrchr(extra[i], '/');

		ap[n].path = extra[i];
		ap[n].title = slash ? slash + 1 : extra[i];
	}
	pin_cpu();
	empty = empty_prog();
	po = bpf_object__open_file("build/plain.bpf.o", NULL);
	if (empty < 0 || !po || bpf_object__load(po)) {
		fprintf(stderr, "bench: cannot load the floor or build/plain.bpf.o\n");
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (ablate_load(&ap[i]))
			return 1;
	printf("| entry | packet | floor ns");
	for (int i = 0; i < n; i++)
		printf(" | %s", ap[i].title);
	printf(" | plain per-CPU hash, same family |\n|---|---|---");
	for (int i = 0; i <= n; i++)
		printf("|---");
	printf("|\n");
	for (int l2 = 0; l2 <= 1; l2++) {
		for (size_t c = 0; c < sizeof(cls) / sizeof(cls[0]); c++) {
			double ns[AB_MAX + 2][AB_TRIALS], d[AB_TRIALS], full;
			struct pkt_layout lay;
			struct pkt_spec sp = cls[c].s;
			size_t len;

			sp.l2 = l2;
			len = pkt_build(&sp, buf, &lay);
			/* 0: floor, 1..n: the builds, n + 1: the reference */
			prog[0] = empty;
			for (int i = 0; i < n; i++)
				prog[1 + i] = l2 ? ap[i].l2 : ap[i].l3;
			prog[n + 1] = bpf_program__fd(bpf_object__find_program_by_name(
			    po, sp.ipv == 4 ? "plain_l3" : l2 ? "plain6_l2" : "plain6_l3"));
			np = n + 2;
			for (int i = 1; i < np; i++)
				run_ns(prog[i], buf, len, 100000); /* warm: the flow exists */
			for (int t = 0; t < AB_TRIALS; t++)
				for (int k = 0; k < np; k++) {
					int i = (t + k) % np;

					ns[i][t] = run_cpu_ns(prog[i], buf, len, 400000);
				}
			for (int i = 1; i < np; i++)
				for (int t = 0; t < AB_TRIALS; t++)
					ns[i][t] -= ns[0][t];
			printf("| %s | %s | %.1f", l2 ? "L2" : "L3", cls[c].name, median(ns[0], AB_TRIALS));
			for (int t = 0; t < AB_TRIALS; t++)
				d[t] = ns[1][t];
			full = median(d, AB_TRIALS);
			printf(" | **%.1f**", full);
			/* each other column: over floor, and (in brackets) its difference from
			 * tunflow's, the median of the trials' differences */
			for (int i = 2; i < np; i++) {
				double v;

				for (int t = 0; t < AB_TRIALS; t++)
					d[t] = ns[i][t];
				v = median(d, AB_TRIALS);
				for (int t = 0; t < AB_TRIALS; t++)
					d[t] = ns[i][t] - ns[1][t];
				printf(" | %.1f (%+.1f)", v, median(d, AB_TRIALS));
			}
			printf(" |\n");
			fflush(stdout);
		}
	}
	for (int i = 0; i < n; i++) {
		bpf_object__close(ap[i].o);
		for (int k = 0; k < AB_OUTER; k++)
			if (ap[i].map[k] >= 0)
				close(ap[i].map[k]);
	}
	bpf_object__close(po);
	close(empty);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "ablate"))
		return ablate(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "datapath"))
		return datapath(argc >= 3 && !strcmp(argv[2], "--quick"),
		                argc >= 3 && !strcmp(argv[2], "--flows"));
	if (argc >= 2 && !strcmp(argv[1], "names"))
		return names();
	if (argc >= 4 && !strcmp(argv[1], "change"))
		return change(atoi(argv[2]), argv[3], argc >= 5 ? atof(argv[4]) : 1);
	if (argc >= 2 && !strcmp(argv[1], "harvest"))
		return harvest();
	if (argc >= 2 && !strcmp(argv[1], "export"))
		return export();
	if (argc >= 2 && !strcmp(argv[1], "evict"))
		return evict(argc >= 3 ? strtoul(argv[2], NULL, 0) : 100000);
	fprintf(stderr, "usage: bench datapath [--quick|--flows] | bench harvest | bench evict [N] | bench export\n");
	return 2;
}

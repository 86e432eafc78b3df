// SPDX-License-Identifier: GPL-2.0-only
/* tuibench: the full-screen view's cost with N flows in the table. Synthetic reports
 * (every flow with a delta: the worst case) go to the tui sink drawing on a terminal of
 * 200x50 whose output is thrown away; prints one Markdown table row per view: the CPU
 * time of one report in the sink (median, max), its wall time (median; more on a busy
 * machine), and the share of a CPU that is at one report a second.
 *
 *   tuibench [N] [REPORTS]      (default 100000 flows, 20 reports)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "core/datapath.h"
#include "sinks/sink.h"

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	int reports = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20;
	static const char *const users[] = {"alice", "bob", "carol", "dave", "erin", "frank"};
	static const char *const views[] = {"connections", "users"};
	__u64 counters[CNT_ALL] = {0};
	struct flow *f = calloc(n, sizeof(*f));
	struct flow **v = calloc(n, sizeof(*v));
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");

	if (!f || !v || !out || !in || reports < 1)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct flow_key *k = &f[i].key;

		k->ifindex = 1 + i % 4;
		k->dir = i % 2;
		k->ip_version = 4;
		k->proto = 6;
		k->src[10] = k->src[11] = k->dst[10] = k->dst[11] = 0xff;
		/* pairs: 2i and 2i+1 are the two directions of one connection */
		k->src[12] = 192, k->src[14] = 2, k->src[15] = (i / 2) % 250;
		k->dst[12] = 203, k->dst[13] = (i / 2) >> 16, k->dst[14] = (i / 2) >> 8,
		k->dst[15] = i / 2;
		k->sport = 1024 + (i / 2) % 60000;
		k->dport = 443;
		if (k->dir == DIR_EGRESS) {
			__u8 t[16];

			memcpy(t, k->src, 16);
			memcpy(k->src, k->dst, 16);
			memcpy(k->dst, t, 16);
			k->dport = k->sport;
			k->sport = 443;
		}
		f[i].user = users[(i / 2) % 6];
		f[i].first_ns = 1000000000ull;
		v[i] = &f[i];
	}
	setenv("TERM", "xterm-256color", 0);
	setenv("COLUMNS", "200", 1);
	setenv("LINES", "50", 1);
	printf("| view | flows | CPU ms per report, median | max | wall ms, median | CPU at "
	       "--interval 1 |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int view = 0; view < 2; view++) {
		struct tui_opts o = {.view = view};
		struct sink *s = sink_tui_new(out, in, &o);
		double *t = calloc(reports, sizeof(*t)), *c = calloc(reports, sizeof(*c));

		if (!s || !t || !c)
			return 1;
		for (int r = 0; r < reports; r++) {
			struct report rep = {.flows = v,
			                     .nflows = n,
			                     .gen = r + 1,
			                     .interval_s = 1,
			                     .now_real_ns = 1800000000000000000ull,
			                     .counters = counters,
			                     .nifaces = 4,
			                     .users = true};
			double t0, c0;

			for (size_t i = 0; i < n; i++) {
				f[i].gen = r + 1;
				f[i].d_packets = 1 + i % 3;
				f[i].d_bytes = 100 * (1 + i % 7);
				f[i].packets += f[i].d_packets;
				f[i].bytes += f[i].d_bytes;
				f[i].last_ns = 1000000000ull * (r + 2);
			}
			t0 = now_s(CLOCK_MONOTONIC);
			c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
			s->report(s, &rep);
			c[r] = (now_s(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3;
			t[r] = (now_s(CLOCK_MONOTONIC) - t0) * 1e3;
		}
		s->close(s);
		qsort(t, reports, sizeof(*t), cmp_double);
		qsort(c, reports, sizeof(*c), cmp_double);
		/* CPU at one report a second: the median report's CPU time over 1000 ms */
		printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f %% |\n", views[view], n,
		       c[reports / 2], c[reports - 1], t[reports / 2], c[reports / 2] / 10);
		free(t);
		free(c);
	}
	free(f);
	free(v);
	return 0;
}

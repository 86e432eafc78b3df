// SPDX-License-Identifier: GPL-2.0-only
/* metricsfeed PORT TOP < FLOWS: serve /metrics (sinks/metrics.c) for one report of the
 * flows on stdin, whose far side has a name, as the pipeline will once names are
 * captured; one flow per line:
 *   DIR SRC DST BYTES NAME
 * DIR in|out (on interface 1, "tun0"), NAME "-" for none. Says "ready" on stdout once
 * serving, and serves until SIGTERM or SIGINT. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "core/datapath.h"
#include "core/report.h"
#include "sinks/metrics.h"
#include "sources/ifwatch.h"
#include "util/addr.h"

int main(int argc, char **argv)
{
	static struct flow flows[1000];
	static struct flow *list[1000];
	static char names[1000][300];
	static const __u64 counters[CNT_ALL];
	struct metrics_cfg cfg = {0};
	struct report r = {.counters = counters, .gen = 1, .nifaces = 1};
	char line[1024], dir[8], src[64], dst[64];
	unsigned long long bytes;
	struct metrics *m;
	sigset_t set;
	int sig;

	if (argc != 3)
		return 2;
	cfg.addr = argv[1];
	cfg.top = atoi(argv[2]);
	iface_remember(1, "tun0");
	while (r.nflows < 1000 && fgets(line, sizeof(line), stdin)) {
		struct flow *f = &flows[r.nflows];
		char *name = names[r.nflows];
		int v;

		if (sscanf(line, "%7s %63s %63s %llu %299s", dir, src, dst, &bytes, name) != 5)
			continue;
		v = addr_host(src, f->key.src);
		if (v < 0 || addr_host(dst, f->key.dst) != v)
			return 2;
		f->key.ip_version = v;
		f->key.ifindex = 1;
		f->key.dir = !strcmp(dir, "in") ? DIR_INGRESS : DIR_EGRESS;
		f->key.proto = 6;
		f->packets = f->d_packets = 1;
		f->bytes = f->d_bytes = bytes;
		f->gen = 1;
		if (strcmp(name, "-")) {
			f->dest.name = name;
			f->dest.name_src = NAME_TLS;
		}
		list[r.nflows++] = f;
	}
	r.flows = list;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (!(m = metrics_start(&cfg)))
		return 1;
	metrics_update(m, &r);
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	metrics_stop(m);
	return 0;
}

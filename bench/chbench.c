// SPDX-License-Identifier: GPL-2.0-only
/* chbench URL DATABASE TABLE N: N biflow records (IPv4 TCP, 1000 users, interface name)
 * through the ClickHouse sink into a server, as the pipeline hands them (a batch every
 * 10,000 records, as after a harvest). Prints one Markdown row: the harvest thread's CPU
 * per record (JSON encoding and queueing), the time until the sender had every record
 * accepted by the server, records per second, the request bytes per record, failures.
 * bench/clickhouse.sh runs it pinned to one CPU, the server on the other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include "core/report.h"
#include "sinks/clickhouse.h"
#include "sources/ifwatch.h"

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct clickhouse_cfg cfg = {.backlog = 100000000};
	struct report rep = {0};
	struct record r = {0};
	char users[1000][16];
	struct sink *s;
	double w0, w1, c0, c1;
	unsigned long n;
	__u64 failures;
	GString *mem = g_string_new(NULL);
	size_t bytes = 0;

	if (argc != 5) {
		fprintf(stderr, "usage: chbench URL DATABASE TABLE N\n");
		return 2;
	}
	cfg.url = argv[1], cfg.database = argv[2], cfg.table = argv[3];
	n = strtoul(argv[4], NULL, 10);
	for (int i = 0; i < 1000; i++)
		snprintf(users[i], sizeof(users[i]), "user%03d", i);
	iface_remember(1, "vpns0");
	r.key.ifindex = 1;
	r.key.ip_version = 4;
	r.key.proto = IPPROTO_TCP;
	r.key.src[10] = r.key.src[11] = r.key.dst[10] = r.key.dst[11] = 0xff;
	r.key.src[12] = 10;
	r.key.dst[12] = 203, r.key.dst[13] = 0, r.key.dst[14] = 113;
	r.key.dport = 443;
	r.end = END_TCP;
	r.packets = 10, r.bytes = 15000, r.rev_packets = 8, r.rev_bytes = 900;
	r.tcp_flags = 0x1b, r.rev_tcp_flags = 0x1b;
	r.run = 1;
	rep.mono_to_real_ns = 1795000000000000000ll;
	if (!(s = clickhouse_sink_new(&cfg, "bench")))
		return 1;
	w0 = now_s(CLOCK_MONOTONIC);
	c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
	for (unsigned long i = 0; i < n; i++) {
		r.key.src[15] = i, r.key.src[14] = i >> 8, r.key.src[13] = i >> 16;
		r.key.dst[15] = i % 251;
		r.key.sport = 1024 + i % 60000;
		r.start_ns = i * 1000ull, r.end_ns = r.start_ns + 5000000000ull;
		r.user = users[i % 1000];
		r.seq = i + 1;
		s->record(s, &r, &rep);
		if (i % 10000 == 9999)
			s->prepare(s, &rep); /* as after a harvest */
	}
	s->prepare(s, &rep);
	c1 = now_s(CLOCK_THREAD_CPUTIME_ID);
	while (rep.clickhouse->records + rep.clickhouse->failures < n) {
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
		s->prepare(s, &rep);
	}
	w1 = now_s(CLOCK_MONOTONIC);
	for (unsigned long i = 0; i < 10000 && i < n; i++) {
		r.user = users[i % 1000];
		ch_row(mem, &r, "bench", rep.mono_to_real_ns);
	}
	bytes = mem->len; /* the request size: the same rows, written once more */
	printf("| %lu | %.0f | %.2f | %.0f | %.0f | %llu |\n", n, (c1 - c0) * 1e9 / n, w1 - w0,
	       n / (w1 - w0), (double)bytes / (n < 10000 ? n : 10000),
	       (unsigned long long)rep.clickhouse->failures);
	failures = rep.clickhouse->failures;
	rep.final = true;
	s->prepare(s, &rep);
	s->close(s);
	g_string_free(mem, TRUE);
	return failures ? 1 : 0;
}

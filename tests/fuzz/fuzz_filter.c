// SPDX-License-Identifier: GPL-2.0-only
/* Filter expressions (-f, the UI's filter key) on any bytes: the parser never crashes or
 * hangs; a refusal is one clean line "filter: at column N: ..." with N within the
 * expression (or just past it); an accepted expression evaluates on fixed flows and a
 * record, and "not (EXPR)" matches exactly what EXPR does not. Input: the expression (up
 * to the first NUL). */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "core/filter.h"
#include "core/flowtab.h"
#include "core/records.h"
#include "sources/ifwatch.h"
#include "util/text.h"

static struct flow flows[3];
static struct record rec;

static void setup(void)
{
	static int done;
	struct flow *f = flows;

	if (done++)
		return;
	iface_remember(9000, "vpns0");
	iface_remember(9001, "tun1");
	f[0].key = (struct flow_key){.ifindex = 9000,
	                             .dir = DIR_INGRESS,
	                             .ip_version = 4,
	                             .proto = IPPROTO_TCP,
	                             .sport = 51000,
	                             .dport = 443};
	f[0].key.src[10] = f[0].key.src[11] = f[0].key.dst[10] = f[0].key.dst[11] = 0xff;
	inet_pton(AF_INET, "192.0.2.10", f[0].key.src + 12);
	inet_pton(AF_INET, "198.51.100.7", f[0].key.dst + 12);
	f[0].user = "alice";
	f[0].dest.name = "www.example.com";
	f[0].dest.asn = 64500;
	strcpy(f[0].dest.country, "DE");
	f[0].bytes = 2000000;
	f[0].packets = 1500;
	f[1].key = (struct flow_key){.ifindex = 9001,
	                             .dir = DIR_EGRESS,
	                             .ip_version = 6,
	                             .proto = IPPROTO_UDP,
	                             .sport = 53,
	                             .dport = 40000};
	inet_pton(AF_INET6, "2001:db8::53", f[1].key.src);
	inet_pton(AF_INET6, "2001:db8:1::10", f[1].key.dst);
	f[1].user = "bob";
	f[1].bytes = 500;
	f[1].packets = 3;
	f[2].key = (struct flow_key){.ifindex = 9000,
	                             .dir = DIR_INGRESS,
	                             .ip_version = 4,
	                             .proto = IPPROTO_ICMP,
	                             .sport = 8,
	                             .dport = 0};
	f[2].key.src[10] = f[2].key.src[11] = f[2].key.dst[10] = f[2].key.dst[11] = 0xff;
	inet_pton(AF_INET, "192.0.2.99", f[2].key.src + 12);
	inet_pton(AF_INET, "203.0.113.1", f[2].key.dst + 12);
	rec.key = f[0].key;
	rec.user = "alice";
	rec.dest = f[0].dest;
	rec.bytes = 1000;
	rec.rev_bytes = 30000;
	rec.packets = 10;
	rec.rev_packets = 20;
}

/* Which of the flows and the record match: a bit each. */
static unsigned matches(const struct filter *f)
{
	unsigned m = 0;

	for (int i = 0; i < 3; i++)
		m |= (unsigned)filter_flow(f, &flows[i]) << i;
	return m | (unsigned)filter_record(f, &rec) << 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], *expr, *neg;
	struct filter *f, *nf;
	size_t len;

	if (size > 1024) /* nesting past the limit fits well within */
		return 0;
	setup();
	expr = strndup((const char *)data, size);
	if (!expr)
		abort();
	len = strlen(expr);
	f = filter_parse(expr, err, sizeof(err));
	if (!f) {
		unsigned long col;
		int n = 0;

		if (sscanf(err, "filter: at column %lu: %n", &col, &n) != 1 || !n)
			abort(); /* not the one form */
		if (col < 1 || col > len + 1)
			abort(); /* a column outside the expression */
		if (!text_is_clean(err) || strlen(err) >= sizeof(err) - 1)
			abort(); /* unsafe or cut */
		free(expr);
		return 0;
	}
	if (strcmp(filter_text(f), expr) != 0)
		abort();
	neg = malloc(len + 8);
	if (!neg)
		abort();
	snprintf(neg, len + 8, "not (%s)", expr);
	nf = filter_parse(neg, err, sizeof(err));
	/* only nesting can make it fail, or a blank expression (every flow, but "()" is
	 * no expression) */
	if (nf && (matches(nf) ^ matches(f)) != 0xf)
		abort();
	if (!nf && !strstr(err, "nested") && strspn(expr, " \t\r\n") != len)
		abort();
	if (strspn(expr, " \t\r\n") == len && matches(f) != 0xf)
		abort();
	filter_free(nf);
	filter_free(f);
	free(neg);
	free(expr);
	return 0;
}

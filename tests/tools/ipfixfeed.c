// SPDX-License-Identifier: GPL-2.0-only
/* ipfixfeed COLLECTOR < RECORDS: feed the IPFIX exporter (sinks/ipfix.c) records whose
 * far side has a name, an AS and a country, as the pipeline will once names are
 * captured; one record per line:
 *   DIR SRC DST PROTO SPORT DPORT USER SOURCE NAME ASN CC
 * DIR in|out (the initiator's packets: ingress or egress on interface 1, "tun0"),
 * SOURCE dns|http|tls|quic or "-" (no name; NAME is then "-"), USER and CC "-" for none.
 * Exits 0 when every record was sent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "core/dest.h"
#include "sinks/ipfix.h"
#include "sources/ifwatch.h"
#include "util/addr.h"

int main(int argc, char **argv)
{
	struct ipfix_cfg cfg = {.backlog = 1000, .template_s = 60};
	struct export_stats st;
	char line[1024], dir[8], src[64], dst[64], user[64], source[8], name[300], cc[8];
	unsigned proto, sport, dport, asn, n = 0;
	struct ipfix *x;

	if (argc != 2 || ipfix_parse(argv[1], &cfg) || !(x = ipfix_open(&cfg)))
		return 2;
	iface_remember(1, "tun0");
	while (fgets(line, sizeof(line), stdin)) {
		struct record r = {0};
		int v;

		if (sscanf(line, "%7s %63s %63s %u %u %u %63s %7s %299s %u %7s", dir, src, dst,
		           &proto, &sport, &dport, user, source, name, &asn, cc) != 11)
			continue;
		v = addr_host(src, r.key.src);
		if (v < 0 || addr_host(dst, r.key.dst) != v)
			return 2;
		r.key.ip_version = v;
		r.key.ifindex = 1;
		r.key.dir = !strcmp(dir, "in") ? DIR_INGRESS : DIR_EGRESS;
		r.key.proto = proto;
		r.key.sport = sport;
		r.key.dport = dport;
		r.packets = 1;
		r.bytes = 100;
		r.end = END_IDLE;
		for (int s = 1; s < NAME_SRC_MAX; s++)
			if (!strcmp(source, name_source_names[s]))
				r.dest.name_src = s;
		r.dest.name = r.dest.name_src ? name : NULL;
		r.dest.asn = asn;
		if (strlen(cc) == 2)
			memcpy(r.dest.country, cc, 3);
		ipfix_add(x, &r, strcmp(user, "-") ? user : NULL, 0);
		ipfix_flush(x); /* the name lives in line: each record is built now */
		n++;
	}
	ipfix_finish(x, 2);
	ipfix_stats(x, &st);
	ipfix_close(x);
	fprintf(stderr, "ipfixfeed: %u records, %llu sent, %llu failed\n", n,
	        (unsigned long long)st.records, (unsigned long long)st.failures);
	return st.records == n && !st.failures ? 0 : 1;
}

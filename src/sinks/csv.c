// SPDX-License-Identifier: GPL-2.0-only
/* CSV (RFC 4180) for spreadsheets: a header row, then one row per flow record (peer and
 * endpoint, empty unless the flow is a WireGuard peer's; then the destination's name, its
 * source, ECH, AS number and name, country, empty when unknown). Loss
 * counters do not fit the rows: they go to stderr, once at exit. */
#include <stdlib.h>
#include <string.h>
#include "util/fmt.h"
#include "core/datapath.h"
#include "core/records.h"
#include "sinks/sink.h"

struct csv_sink {
	struct stream_sink st;
	struct out_errors errors;
};

static void csv_record(struct sink *s, const struct record *rec, const struct report *r)
{
	FILE *out = ((struct csv_sink *)s)->st.out;
	const struct flow_key *k = &rec->key;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN], start[32], end[32], pb[8];
	bool ports = proto_has_ports(k->proto), icmp = proto_is_icmp(k->proto);

	fmt_addr(k->src, k->ip_version, src);
	fmt_addr(k->dst, k->ip_version, dst);
	fmt_time(rec->start_ns + r->mono_to_real_ns, start);
	fmt_time(rec->end_ns + r->mono_to_real_ns, end);
	fprintf(out, "%s,%s,%.3f,%s,", start, end, (rec->end_ns - rec->start_ns) / 1e9,
	        end_names[rec->end]);
	csv_str(out, iface_name(k->ifindex));
	fputc(',', out);
	csv_str(out, rec->user ? rec->user : "");
	fprintf(out, ",%s,%u,%u,%s,%s,%s,", dir_name(k->dir), k->ip_version, k->proto,
	        proto_word(k->proto, pb), src, dst);
	if (ports)
		fprintf(out, "%u,%u,,", k->sport, k->dport);
	else if (icmp)
		fprintf(out, ",,%u,%u", k->sport, k->dport);
	else
		fputs(",,,", out);
	fprintf(out, ",%llu,%llu,%llu,%llu,%u,%u,", (unsigned long long)rec->packets,
	        (unsigned long long)rec->bytes, (unsigned long long)rec->rev_packets,
	        (unsigned long long)rec->rev_bytes, rec->tcp_flags, rec->rev_tcp_flags);
	csv_str(out, rec->peer ? rec->peer : "");
	fputc(',', out);
	csv_str(out, rec->endpoint ? rec->endpoint : "");
	fputc(',', out);
	csv_str(out, rec->dest.name ? rec->dest.name : "");
	fprintf(out, ",%s,%s,", name_source_names[rec->dest.name_src],
	        rec->dest.name && rec->dest.ech ? "true" : "");
	if (rec->dest.asn)
		fprintf(out, "%u", rec->dest.asn);
	fputc(',', out);
	csv_str(out, rec->dest.as_name ? rec->dest.as_name : "");
	fputc(',', out);
	csv_str(out, rec->dest.country);
	fputc('\n', out);
}

static int csv_report(struct sink *s, const struct report *r)
{
	struct csv_sink *cs = (struct csv_sink *)s;

	if (r->final)
		say_losses(r);
	return out_check_report(cs->st.out, &cs->errors);
}

static void csv_close(struct sink *s)
{
	out_errors_say(&((struct csv_sink *)s)->errors, "CSV output");
	free(s);
}

struct sink *sink_csv_new(FILE *out)
{
	struct csv_sink *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	stream_sink_init(&cs->st, out);
	cs->st.s.report = csv_report;
	cs->st.s.changes_only = true; /* records only */
	cs->st.s.record = csv_record;
	cs->st.s.close = csv_close;
	fputs("start,end,duration,end_reason,iface,user,dir,ip_version,proto,proto_name,src,dst,"
	      "sport,dport,"
	      "icmp_type,icmp_code,packets,bytes,rev_packets,rev_bytes,tcp_flags,rev_tcp_flags,"
	      "peer,endpoint,name,name_source,ech,asn,as_name,country\n",
	      out);
	return &cs->st.s;
}

// SPDX-License-Identifier: GPL-2.0-only
/* JSON lines: one object per flow per harvest in which it had packets, holding that
 * harvest's packets and bytes; loss counters as objects of their own type. Schema in
 * docs/json.md. */
#include <stdlib.h>
#include <string.h>
#include "fmt.h"
#include "harvest.h"
#include "sink.h"

struct json_sink {
	struct sink s;
	FILE *out;
	__u64 last[CNT_MAX];
	__u64 last_errors;
};

static void flow_line(FILE *out, const struct flow *f, const struct report *r)
{
	const struct flow_key *k = &f->key;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN], first[32], last[32];
	bool icmp = proto_is_icmp(k->proto), ports = proto_has_ports(k->proto);

	fmt_addr(k->src, k->ip_version, src);
	fmt_addr(k->dst, k->ip_version, dst);
	fmt_time(f->first_ns + r->mono_to_real_ns, first);
	fmt_time(f->last_ns + r->mono_to_real_ns, last);
	fputs("{\"type\":\"flow\",\"iface\":", out);
	json_str(out, iface_name(k->ifindex));
	fprintf(out,
		",\"ifindex\":%u,\"dir\":\"%s\",\"ip_version\":%u,\"proto\":%u,\"src\":\"%s\","
		"\"dst\":\"%s\",\"sport\":%u,\"dport\":%u",
		k->ifindex, k->dir == DIR_INGRESS ? "ingress" : "egress", k->ip_version, k->proto,
		src, dst, ports ? k->sport : 0, ports ? k->dport : 0);
	if (icmp)
		fprintf(out, ",\"icmp_type\":%u,\"icmp_code\":%u", k->sport, k->dport);
	fprintf(out,
		",\"packets\":%llu,\"bytes\":%llu,\"tcp_flags\":%u,\"first_seen\":\"%s\","
		"\"last_seen\":\"%s\"}\n",
		(unsigned long long)f->d_packets, (unsigned long long)f->d_bytes, f->d_tcp_flags,
		first, last);
}

static void json_report(struct sink *s, const struct report *r)
{
	struct json_sink *js = (struct json_sink *)s;
	bool changed = r->final || r->harvest_errors != js->last_errors;
	char now[32];

	for (size_t i = 0; i < r->nflows; i++)
		if (r->flows[i]->gen == r->gen)
			flow_line(js->out, r->flows[i], r);
	for (int c = 0; c < CNT_MAX; c++)
		changed |= r->counters[c] != js->last[c];
	if (changed) {
		fmt_time(r->now_real_ns, now);
		fprintf(js->out, "{\"type\":\"counters\",\"time\":\"%s\"", now);
		for (int c = 0; c < CNT_MAX; c++)
			fprintf(js->out, ",\"%s\":%llu", counter_names[c],
				(unsigned long long)r->counters[c]);
		fprintf(js->out, ",\"harvest_errors\":%llu,\"interfaces\":%d,\"final\":%s}\n",
			(unsigned long long)r->harvest_errors, r->nifaces,
			r->final ? "true" : "false");
		memcpy(js->last, r->counters, sizeof(js->last));
		js->last_errors = r->harvest_errors;
	}
	fflush(js->out);
}

static void json_close(struct sink *s)
{
	free(s);
}

struct sink *sink_json_new(FILE *out)
{
	struct json_sink *js = calloc(1, sizeof(*js));

	if (!js)
		return NULL;
	js->s.report = json_report;
	js->s.close = json_close;
	js->out = out;
	return &js->s;
}

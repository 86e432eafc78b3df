// SPDX-License-Identifier: GPL-2.0-only
/* JSON lines: one object per flow per harvest in which it had packets (or ended),
 * holding that harvest's packets and bytes; with --group-by user, one object per user
 * instead; interfaces that went and loss counters as objects of their own types.
 * Schema in docs/json.md. */
#include <stdlib.h>
#include <string.h>
#include "util/fmt.h"
#include "core/datapath.h"
#include "core/naming.h"
#include "core/records.h"
#include "sinks/sink.h"

struct json_sink {
	struct stream_sink st;
	enum group_by group;
	struct user_totals *users; /* --group-by user: totals since start */
	bool records;
	__u64 last[CNT_ALL];
	__u64 last_names[NCNT_MAX];
	__u64 last_errors;
	unsigned long last_attach_errors;
	__u64 last_export_failures, last_ch_failures;
	__u64 last_store_failures;
	__u64 last_evicted;
	unsigned long last_lost_link_events, last_malformed_lines;
	struct out_errors errors;
};

/* The opening of a flow or record object: type, the harvest's time (flows; NULL: none),
 * interface, user, WireGuard peer and endpoint (each only when known), key fields. */
static void key_fields(FILE *out, const char *type, const char *time, const struct flow_key *k,
                       const char *user, const char *peer, const char *endpoint)
{
	char src[ADDR_STRLEN], dst[ADDR_STRLEN], pb[8];
	bool ports = proto_has_ports(k->proto);

	fmt_addr(k->src, k->ip_version, src);
	fmt_addr(k->dst, k->ip_version, dst);
	fprintf(out, "{\"type\":\"%s\",", type);
	if (time)
		fprintf(out, "\"time\":\"%s\",", time);
	fputs("\"iface\":", out);
	json_str(out, iface_name(k->ifindex));
	if (user) {
		fputs(",\"user\":", out);
		json_str(out, user);
	}
	if (peer) {
		fputs(",\"peer\":", out);
		json_str(out, peer);
	}
	if (endpoint) {
		fputs(",\"endpoint\":", out);
		json_str(out, endpoint);
	}
	fprintf(
	    out,
	    ",\"ifindex\":%u,\"dir\":\"%s\",\"ip_version\":%u,\"proto\":%u,\"proto_name\":\"%s\","
	    "\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,\"dport\":%u",
	    k->ifindex, dir_name(k->dir), k->ip_version, k->proto, proto_word(k->proto, pb), src,
	    dst, ports ? k->sport : 0, ports ? k->dport : 0);
	if (proto_is_icmp(k->proto))
		fprintf(out, ",\"icmp_type\":%u,\"icmp_code\":%u", k->sport, k->dport);
}

/* The far side's name, AS and country: each only when known. */
static void dest_fields(FILE *out, const struct dest_info *d)
{
	if (d->name) {
		fputs(",\"name\":", out);
		json_str(out, d->name);
		fprintf(out, ",\"name_source\":\"%s\"", name_source_names[d->name_src]);
		if (d->ech)
			fputs(",\"ech\":true", out);
	}
	if (d->asn)
		fprintf(out, ",\"asn\":%u", d->asn);
	if (d->as_name) {
		fputs(",\"as_name\":", out);
		json_str(out, d->as_name);
	}
	if (d->country[0]) {
		fputs(",\"country\":", out);
		json_str(out, d->country);
	}
}

static void flow_line(FILE *out, const struct flow *f, const struct report *r, const char *now)
{
	char first[32], last[32];
	bool fresh = f->gen == r->gen; /* else only its end is news */

	fmt_time(f->first_ns + r->mono_to_real_ns, first);
	fmt_time(f->last_ns + r->mono_to_real_ns, last);
	key_fields(out, "flow", now, &f->key, f->user, f->peer, f->endpoint);
	dest_fields(out, &f->dest);
	fprintf(out,
	        ",\"packets\":%llu,\"bytes\":%llu,\"tcp_flags\":%u,\"first_seen\":\"%s\","
	        "\"last_seen\":\"%s\"",
	        fresh ? (unsigned long long)f->d_packets : 0ull,
	        fresh ? (unsigned long long)f->d_bytes : 0ull, fresh ? f->d_tcp_flags : 0, first,
	        last);
	if (f->end)
		fprintf(out, ",\"end\":\"%s\"", end_names[f->end]);
	fputs("}\n", out);
}

static void user_line(FILE *out, const struct user_total *t, const char *now)
{
	char a[ADDR_STRLEN];

	fprintf(out, "{\"type\":\"user\",\"time\":\"%s\",\"user\":", now);
	if (t->user)
		json_str(out, t->user);
	else
		fputs("null", out);
	fprintf(out,
	        ",\"flows\":%llu,\"packets_in\":%llu,\"bytes_in\":%llu,\"packets_out\":%llu,"
	        "\"bytes_out\":%llu,\"bit_rate\":%.0f,\"top\":[",
	        (unsigned long long)t->flows, (unsigned long long)t->packets[DIR_INGRESS],
	        (unsigned long long)t->bytes[DIR_INGRESS],
	        (unsigned long long)t->packets[DIR_EGRESS],
	        (unsigned long long)t->bytes[DIR_EGRESS], t->rate_bps);
	for (int i = 0; i < t->ntop; i++) {
		fmt_addr(t->top[i].addr, t->top[i].ip_version, a);
		fprintf(out, "%s{\"addr\":\"%s\"", i ? "," : "", a);
		if (t->top[i].name) {
			fputs(",\"name\":", out);
			json_str(out, t->top[i].name);
			fprintf(out, ",\"name_source\":\"%s\"",
			        name_source_names[t->top[i].name_src]);
		}
		fprintf(out, ",\"bytes\":%llu}", (unsigned long long)t->top[i].bytes);
	}
	fputs("]}\n", out);
}

static void gone_line(FILE *out, const struct iface_total *t, const struct report *r)
{
	char first[32], last[32];

	fmt_time(t->first_ns + r->mono_to_real_ns, first);
	fmt_time(t->last_ns + r->mono_to_real_ns, last);
	fputs("{\"type\":\"iface_gone\",\"iface\":", out);
	json_str(out, iface_name(t->ifindex));
	if (t->user) {
		fputs(",\"user\":", out);
		json_str(out, t->user);
	}
	fprintf(
	    out,
	    ",\"ifindex\":%d,\"flows\":%llu,\"packets_in\":%llu,\"bytes_in\":%llu,"
	    "\"packets_out\":%llu,\"bytes_out\":%llu,\"first_seen\":",
	    t->ifindex, (unsigned long long)t->flows, (unsigned long long)t->packets[DIR_INGRESS],
	    (unsigned long long)t->bytes[DIR_INGRESS], (unsigned long long)t->packets[DIR_EGRESS],
	    (unsigned long long)t->bytes[DIR_EGRESS]);
	if (t->first_ns)
		fprintf(out, "\"%s\"", first);
	else
		fputs("null", out);
	fprintf(out, ",\"gone\":\"%s\"}\n", last);
}

static void session_line(FILE *out, const struct peer_session *t)
{
	char start[32], end[32];

	fmt_time(t->start_ns, start);
	fmt_time(t->end_ns, end);
	fputs("{\"type\":\"session\",\"iface\":", out);
	json_str(out, t->ifname);
	if (t->user) {
		fputs(",\"user\":", out);
		json_str(out, t->user);
	}
	fputs(",\"peer\":", out);
	json_str(out, t->peer);
	if (t->endpoint) {
		fputs(",\"endpoint\":", out);
		json_str(out, t->endpoint);
	}
	fprintf(out,
	        ",\"start\":\"%s\",\"end\":\"%s\",\"end_reason\":\"%s\",\"packets_in\":%llu,"
	        "\"bytes_in\":%llu,\"packets_out\":%llu,\"bytes_out\":%llu}\n",
	        start, end, session_end_names[t->end], (unsigned long long)t->packets[DIR_INGRESS],
	        (unsigned long long)t->bytes[DIR_INGRESS],
	        (unsigned long long)t->packets[DIR_EGRESS],
	        (unsigned long long)t->bytes[DIR_EGRESS]);
}

/* An exporter's health (IPFIX, the store, ClickHouse): what it handed over, then
 * PREFIX_failures and PREFIX_backlog. */
static void health_fields(FILE *out, const char *sent, const char *prefix,
                          const struct export_stats *e)
{
	fprintf(out, ",\"%s\":%llu,\"%s_failures\":%llu,\"%s_backlog\":%llu", sent,
	        (unsigned long long)e->records, prefix, (unsigned long long)e->failures, prefix,
	        (unsigned long long)e->backlog);
}

static int json_report(struct sink *s, const struct report *r)
{
	struct json_sink *js = (struct json_sink *)s;
	bool changed = r->final || r->harvest_errors != js->last_errors ||
	               r->attach_errors != js->last_attach_errors ||
	               r->evicted != js->last_evicted ||
	               r->lost_link_events != js->last_lost_link_events ||
	               r->malformed_lines != js->last_malformed_lines ||
	               (r->export && r->export->failures != js->last_export_failures) ||
	               (r->store && r->store->failures != js->last_store_failures) ||
	               (r->clickhouse && r->clickhouse->failures != js->last_ch_failures);
	char now[32];

	fmt_time(r->now_real_ns, now);
	if (js->group == GROUP_USER) {
		size_t n;
		struct user_total *t =
		    user_totals_update(js->users, r->flows, r->nflows, r->gen, &n);

		for (size_t i = 0; i < n; i++)
			user_line(js->st.out, &t[i], now);
		free(t);
	} else if (!js->records) {
		for (size_t i = 0; i < r->nchanged; i++) /* packets now, or ending now */
			flow_line(js->st.out, r->changed[i], r, now);
		for (size_t i = 0; !r->changed && i < r->nflows; i++) /* a report made by hand */
			if (r->flows[i]->gen == r->gen || r->flows[i]->end)
				flow_line(js->st.out, r->flows[i], r, now);
	}
	for (size_t i = 0; i < r->ngone; i++)
		gone_line(js->st.out, &r->gone[i], r);
	for (size_t i = 0; i < r->nsessions; i++)
		session_line(js->st.out, &r->sessions[i]);
	for (int c = 0; c < CNT_ALL; c++)
		changed |= r->counters[c] != js->last[c];
	for (int c = 0; r->name_counters && c < NCNT_MAX; c++)
		changed |= r->name_counters[c] != js->last_names[c];
	if (changed) {
		fprintf(js->st.out, "{\"type\":\"counters\",\"time\":\"%s\"", now);
		for (int c = 0; c < CNT_ALL; c++)
			fprintf(js->st.out, ",\"%s\":%llu", counter_names[c],
			        (unsigned long long)r->counters[c]);
		fprintf(js->st.out,
		        ",\"harvest_errors\":%llu,\"attach_errors\":%lu,\"evicted\":%llu,"
		        "\"lost_link_events\":%lu,\"malformed_lines\":%lu",
		        (unsigned long long)r->harvest_errors, r->attach_errors,
		        (unsigned long long)r->evicted, r->lost_link_events, r->malformed_lines);
		for (int c = 0; r->name_counters && c < NCNT_MAX; c++)
			fprintf(js->st.out, ",\"%s\":%llu", naming_counter_names[c],
			        (unsigned long long)r->name_counters[c]);
		if (r->name_counters)
			memcpy(js->last_names, r->name_counters, sizeof(js->last_names));
		if (r->export) {
			health_fields(js->st.out, "exported", "export", r->export);
			js->last_export_failures = r->export->failures;
		}
		if (r->store) {
			health_fields(js->st.out, "stored", "store", r->store);
			js->last_store_failures = r->store->failures;
		}
		if (r->clickhouse) {
			health_fields(js->st.out, "clickhouse_sent", "clickhouse", r->clickhouse);
			js->last_ch_failures = r->clickhouse->failures;
		}
		fprintf(js->st.out, ",\"interfaces\":%d,\"final\":%s}\n", r->nifaces,
		        r->final ? "true" : "false");
		memcpy(js->last, r->counters, sizeof(js->last));
		js->last_errors = r->harvest_errors;
		js->last_attach_errors = r->attach_errors;
		js->last_evicted = r->evicted;
		js->last_lost_link_events = r->lost_link_events;
		js->last_malformed_lines = r->malformed_lines;
	}
	return out_check_report(js->st.out, &js->errors);
}

static void json_record(struct sink *s, const struct record *rec, const struct report *r)
{
	FILE *out = ((struct json_sink *)s)->st.out;
	char start[32], end[32];

	fmt_time(rec->start_ns + r->mono_to_real_ns, start);
	fmt_time(rec->end_ns + r->mono_to_real_ns, end);
	key_fields(out, "record", NULL, &rec->key, rec->user, rec->peer, rec->endpoint);
	dest_fields(out, &rec->dest);
	fprintf(out,
	        ",\"start\":\"%s\",\"end\":\"%s\",\"duration\":%.3f,\"end_reason\":\"%s\","
	        "\"packets\":%llu,\"bytes\":%llu,\"tcp_flags\":%u,\"rev_packets\":%llu,"
	        "\"rev_bytes\":%llu,\"rev_tcp_flags\":%u}\n",
	        start, end, (rec->end_ns - rec->start_ns) / 1e9, end_names[rec->end],
	        (unsigned long long)rec->packets, (unsigned long long)rec->bytes, rec->tcp_flags,
	        (unsigned long long)rec->rev_packets, (unsigned long long)rec->rev_bytes,
	        rec->rev_tcp_flags);
}

static void json_close(struct sink *s)
{
	out_errors_say(&((struct json_sink *)s)->errors, "JSON output");
	user_totals_free(((struct json_sink *)s)->users);
	free(s);
}

struct sink *sink_json_new(FILE *out, enum group_by group, bool records)
{
	struct json_sink *js = calloc(1, sizeof(*js));

	if (!js)
		return NULL;
	stream_sink_init(&js->st, out);
	js->st.s.report = json_report;
	js->st.s.changes_only = group != GROUP_USER; /* per-user totals sum every flow */
	js->st.s.close = json_close;
	js->group = group;
	if (group == GROUP_USER && !(js->users = user_totals_new())) {
		free(js);
		return NULL;
	}
	js->records = records;
	if (records)
		js->st.s.record = json_record;
	return &js->st.s;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Flow records: biflow pairing (ICMP echo request and reply too), the initiator by first
 * packet, each end reason with exact packets and bytes, uniflow, and the bound. */
#define CHECK_SUITE "records"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <netinet/in.h>
#include "check.h"
#include "core/records.h"

/* the old full-scan records, as the reference (records_ref.inc) */
#define records ref_records
#define records_new ref_records_new
#define records_free ref_records_free
#define records_add ref_records_add
#define records_emit ref_records_emit
#define records_evicted ref_records_evicted
struct records *records_new(const struct record_cfg *cfg);
void records_free(struct records *rt);
int records_add(struct records *rt, const struct flow_key *k, const struct flow_stats *st,
		const struct flow *f);
size_t records_emit(struct records *rt, __u64 now_ns, const int *gone, size_t ngone, bool final,
		    record_fn fn, void *ctx);
__u64 records_evicted(const struct records *rt);
#include "records_ref.inc"
#undef records
#undef records_new
#undef records_free
#undef records_add
#undef records_emit
#undef records_evicted
#undef TCP_FIN
#undef TCP_RST

#define S 1000000000ull /* ns per second */

/* IPv4 key on ifindex 2: 10.0.0.<a>:<sport> -> 10.0.0.<b>:<dport> (ICMP: type, code) */
static struct flow_key key(int dir, __u8 proto, int a, __u16 sport, int b, __u16 dport)
{
	struct flow_key k = {.ifindex = 2, .dir = dir, .ip_version = 4, .proto = proto};

	k.src[10] = k.src[11] = k.dst[10] = k.dst[11] = 0xff;
	k.src[12] = k.dst[12] = 10;
	k.src[15] = a;
	k.dst[15] = b;
	k.sport = sport;
	k.dport = dport;
	return k;
}

static int add(struct records *rt, struct flow_key k, __u64 pkts, __u64 bytes, __u64 first,
	       __u64 last, __u8 flags)
{
	struct flow_stats st = {pkts, bytes, first, last, flags, 0, {0}};

	return records_add(rt, &k, &st, NULL);
}

/* what records_emit handed out */
static struct record got[64];
static size_t ngot;

static void collect(const struct record *r, void *ctx)
{
	(void)ctx;
	if (ngot < 64)
		got[ngot++] = *r;
}

static size_t emit(struct records *rt, __u64 now, const int *gone, size_t ngone, bool final)
{
	ngot = 0;
	return records_emit(rt, now, gone, ngone, final, collect, NULL);
}

static struct records *table(size_t max, bool uniflow)
{
	struct record_cfg cfg = {.idle_s = 15, .active_s = 60, .tcp_linger_s = 2,
				 .uniflow = uniflow, .max = max};

	return records_new(&cfg);
}

/* "packets bytes rev_packets rev_bytes end" of a record, for one comparison */
static const char *counts(const struct record *r)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "%llu %llu %llu %llu %s", (unsigned long long)r->packets,
		 (unsigned long long)r->bytes, (unsigned long long)r->rev_packets,
		 (unsigned long long)r->rev_bytes, end_names[r->end]);
	return buf;
}

static void biflow_and_initiator(void)
{
	struct records *rt = table(0, false);

	/* the reply is harvested first but started later: the initiator is who sent first */
	add(rt, key(DIR_EGRESS, IPPROTO_TCP, 2, 80, 1, 4000), 2, 1000, 2 * S, 3 * S, 0x12);
	add(rt, key(DIR_INGRESS, IPPROTO_TCP, 1, 4000, 2, 80), 3, 180, 1 * S, 3 * S, 0x02);
	CHECK_INT("biflow: nothing due yet", emit(rt, 4 * S, NULL, 0, false), 0);
	CHECK_INT("biflow: one record at exit", emit(rt, 5 * S, NULL, 0, true), 1);
	CHECK_STR("biflow: initiator's counts first", counts(&got[0]), "3 180 2 1000 tunflow exit");
	CHECK_INT("initiator: the first packet's sender", got[0].key.src[15], 1);
	CHECK_INT("initiator: its direction", got[0].key.dir, DIR_INGRESS);
	CHECK_INT("initiator: its port", got[0].key.sport, 4000);
	CHECK_INT("biflow: tcp flags each way", got[0].tcp_flags << 8 | got[0].rev_tcp_flags,
		  0x0212);
	CHECK_INT("biflow: start", got[0].start_ns, 1 * S);
	CHECK_INT("biflow: end", got[0].end_ns, 3 * S);
	CHECK_INT("exit: the table is empty after", emit(rt, 6 * S, NULL, 0, true), 0);
	records_free(rt);
}

static void icmp_echo(void)
{
	struct records *rt = table(0, false);

	/* request 10.0.0.1 -> 10.0.0.2 (type 8), reply (type 0) the other way */
	add(rt, key(DIR_INGRESS, IPPROTO_ICMP, 1, 8, 2, 0), 4, 336, 1 * S, 2 * S, 0);
	add(rt, key(DIR_EGRESS, IPPROTO_ICMP, 2, 0, 1, 0), 4, 336, 1 * S + 1, 2 * S + 1, 0);
	/* a destination unreachable from the same host is a flow of its own */
	add(rt, key(DIR_EGRESS, IPPROTO_ICMP, 2, 3, 1, 3), 1, 56, 1 * S, 1 * S, 0);
	emit(rt, 3 * S, NULL, 0, true);
	CHECK_INT("icmp: echo in one record, the error in another", ngot, 2);
	for (size_t i = 0; i < ngot; i++) {
		if (got[i].key.sport == 8)
			CHECK_STR("icmp echo: request and reply paired", counts(&got[i]),
				  "4 336 4 336 tunflow exit");
		else
			CHECK_STR("icmp error: alone", counts(&got[i]), "1 56 0 0 tunflow exit");
	}
	/* ICMPv6: 128 and 129, reply seen first but later */
	struct flow_key req = key(DIR_INGRESS, IPPROTO_ICMPV6, 1, 128, 2, 0);
	struct flow_key rep = key(DIR_EGRESS, IPPROTO_ICMPV6, 2, 129, 1, 0);

	req.ip_version = rep.ip_version = 6;
	add(rt, rep, 1, 104, 5 * S, 5 * S, 0);
	add(rt, req, 1, 104, 4 * S, 4 * S, 0);
	emit(rt, 6 * S, NULL, 0, true);
	CHECK_INT("icmpv6 echo: one record", ngot, 1);
	CHECK_INT("icmpv6 echo: the request's type names it", got[0].key.sport, 128);
	CHECK_STR("icmpv6 echo: request first", counts(&got[0]), "1 104 1 104 tunflow exit");
	records_free(rt);
}

static void end_reasons(void)
{
	struct records *rt = table(0, false);
	int gone[] = {5};
	struct flow_key other = key(DIR_INGRESS, IPPROTO_UDP, 9, 53, 2, 53);

	/* idle: last packet at 1 s, idle timeout 15 s */
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 2, 53), 2, 120, 1 * S, 1 * S, 0);
	add(rt, key(DIR_EGRESS, IPPROTO_UDP, 2, 53, 1, 5000), 2, 300, 1 * S, 1 * S, 0);
	CHECK_INT("idle: not before 15 s", emit(rt, 15 * S, NULL, 0, false), 0);
	CHECK_INT("idle: at 16 s", emit(rt, 16 * S, NULL, 0, false), 1);
	CHECK_STR("idle: counts", counts(&got[0]), "2 120 2 300 idle timeout");

	/* TCP: RST, then the linger (2 s) */
	add(rt, key(DIR_INGRESS, IPPROTO_TCP, 1, 4001, 2, 81), 1, 40, 20 * S, 20 * S, 0x02);
	add(rt, key(DIR_EGRESS, IPPROTO_TCP, 2, 81, 1, 4001), 1, 40, 20 * S, 20 * S, 0x14);
	CHECK_INT("tcp rst: not within the linger", emit(rt, 21 * S, NULL, 0, false), 0);
	CHECK_INT("tcp rst: after it", emit(rt, 22 * S, NULL, 0, false), 1);
	CHECK_STR("tcp rst: counts", counts(&got[0]), "1 40 1 40 tcp end");
	/* TCP: FIN both ways */
	add(rt, key(DIR_INGRESS, IPPROTO_TCP, 1, 4002, 2, 82), 5, 500, 30 * S, 31 * S, 0x11);
	CHECK_INT("tcp fin: one way is not the end", emit(rt, 34 * S, NULL, 0, false), 0);
	add(rt, key(DIR_EGRESS, IPPROTO_TCP, 2, 82, 1, 4002), 4, 4000, 30 * S, 34 * S, 0x11);
	CHECK_INT("tcp fin both ways: after the linger", emit(rt, 36 * S, NULL, 0, false), 1);
	CHECK_STR("tcp fin: counts", counts(&got[0]), "5 500 4 4000 tcp end");

	/* active timeout (60 s): reported, then goes on in a new record */
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 6000, 2, 443), 10, 1000, 40 * S, 99 * S, 0);
	CHECK_INT("active: not before 60 s", emit(rt, 99 * S, NULL, 0, false), 0);
	CHECK_INT("active: at 60 s", emit(rt, 100 * S, NULL, 0, false), 1);
	CHECK_STR("active: counts so far", counts(&got[0]), "10 1000 0 0 active timeout");
	add(rt, key(DIR_EGRESS, IPPROTO_UDP, 2, 443, 1, 6000), 3, 3000, 101 * S, 102 * S, 0);
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 6000, 2, 443), 1, 100, 101 * S, 101 * S, 0);
	/* interface gone: ends every record of that interface */
	other.ifindex = 5;
	add(rt, other, 7, 700, 101 * S, 101 * S, 0);
	CHECK_INT("interface gone: only its records", emit(rt, 103 * S, gone, 1, false), 1);
	CHECK_STR("interface gone: counts", counts(&got[0]), "7 700 0 0 interface gone");
	CHECK_INT("interface gone: its ifindex", got[0].key.ifindex, 5);
	CHECK_INT("exit: the rest", emit(rt, 104 * S, NULL, 0, true), 1);
	CHECK_STR("exit: only what came after the active timeout, roles kept",
		  counts(&got[0]), "1 100 3 3000 tunflow exit");
	CHECK_INT("exit: a new record starts at its first packet", got[0].start_ns, 101 * S);
	records_free(rt);
}

static void uniflow(void)
{
	struct records *rt = table(0, true);

	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 2, 53), 2, 120, 1 * S, 1 * S, 0);
	add(rt, key(DIR_EGRESS, IPPROTO_UDP, 2, 53, 1, 5000), 3, 300, 1 * S, 1 * S, 0);
	emit(rt, 2 * S, NULL, 0, true);
	CHECK_INT("uniflow: a record each way", ngot, 2);
	CHECK_STR("uniflow: each its own counts",
		  got[0].key.dir == DIR_INGRESS ? counts(&got[0]) : counts(&got[1]),
		  "2 120 0 0 tunflow exit");
	CHECK_STR("uniflow: the other way",
		  got[0].key.dir == DIR_INGRESS ? counts(&got[1]) : counts(&got[0]),
		  "3 300 0 0 tunflow exit");
	records_free(rt);
}

static void evicted(void)
{
	struct records *rt = table(2, false);

	/* harvest 1: two open records, the one to .3 idle longest */
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 2, 53), 2, 120, 1 * S, 2 * S, 0);
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 3, 53), 1, 60, 1 * S, 1 * S, 0);
	CHECK_INT("bound: nothing due", emit(rt, 3 * S, NULL, 0, false), 0);
	/* harvest 2: a third record evicts the one to .3; the answer to .2 still pairs */
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 4, 53), 5, 500, 3 * S, 4 * S, 0);
	CHECK_INT("bound: one evicted", records_evicted(rt), 1);
	add(rt, key(DIR_EGRESS, IPPROTO_UDP, 3, 53, 1, 5000), 1, 90, 4 * S, 4 * S, 0);
	CHECK_INT("bound: a delta of an evicted record evicts nothing", records_evicted(rt), 1);
	CHECK_INT("bound: the evicted record goes at the next emit",
		  emit(rt, 5 * S, NULL, 0, false), 1);
	CHECK_STR("bound: evicted, with every delta before its emit", counts(&got[0]),
		  "1 60 1 90 evicted");
	CHECK_INT("bound: the longest idle went", got[0].key.dst[15], 3);
	/* harvest 3: .5 evicts .2 (last packet 2 s; .4's at 4 s): 'evicted' even at exit */
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 5, 53), 1, 60, 6 * S, 6 * S, 0);
	CHECK_INT("bound: two evicted in all", records_evicted(rt), 2);
	CHECK_INT("bound: exit emits the evicted and the open", emit(rt, 7 * S, NULL, 0, true), 3);
	for (size_t i = 0; i < ngot; i++) {
		int d = got[i].key.dst[15];

		CHECK_STR(d == 2 ? "bound: .2 evicted" : d == 4 ? "bound: .4 open at exit"
								: "bound: .5 open at exit",
			  counts(&got[i]), d == 2 ? "2 120 0 0 evicted"
				  : d == 4 ? "5 500 0 0 tunflow exit" : "1 60 0 0 tunflow exit");
	}
	records_free(rt);
}

/* Record ids: the run given (or now), sequence numbers from 1 in emit order. */
static void ids(void)
{
	struct record_cfg cfg = {.idle_s = 15, .active_s = 60, .tcp_linger_s = 2, .run = 77};
	struct records *rt = records_new(&cfg);
	char id[RECORD_ID_MAX];

	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 2, 53), 1, 60, 1 * S, 1 * S, 0);
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5001, 2, 53), 1, 60, 1 * S, 1 * S, 0);
	CHECK_INT("ids: two records", emit(rt, 30 * S, NULL, 0, false), 2);
	CHECK_INT("ids: run as given", got[0].run, 77);
	CHECK_INT("ids: seqs 1 and 2", got[0].seq + got[1].seq, 3);
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5002, 2, 53), 1, 60, 31 * S, 31 * S, 0);
	CHECK_INT("ids: one more", emit(rt, 50 * S, NULL, 0, false), 1);
	CHECK_INT("ids: next seq", got[0].seq, 3);
	record_id("gw-1", &got[0], id, sizeof(id));
	CHECK_STR("ids: text", id, "gw-1:77:3");
	records_free(rt);
	rt = table(0, false);
	add(rt, key(DIR_INGRESS, IPPROTO_UDP, 1, 5000, 2, 53), 1, 60, 1 * S, 1 * S, 0);
	emit(rt, 30 * S, NULL, 0, false);
	CHECK("ids: a run of now", got[0].run > 1700000000ull * S);
	records_free(rt);
}

/* A record as one line, to compare what two tables emitted. */
static void line_of(const struct record *r, void *ctx)
{
	GPtrArray *out = ctx;

	g_ptr_array_add(out, g_strdup_printf(
				     "%02x%02x:%u>%02x%02x:%u/%u d%u %s s%llu e%llu %llu %llu %llu %llu "
				     "%u %u",
				     r->key.src[14], r->key.src[15], r->key.sport, r->key.dst[14],
				     r->key.dst[15], r->key.dport, r->key.proto, r->key.dir,
				     end_names[r->end], (unsigned long long)r->start_ns,
				     (unsigned long long)r->end_ns, (unsigned long long)r->packets,
				     (unsigned long long)r->bytes, (unsigned long long)r->rev_packets,
				     (unsigned long long)r->rev_bytes, r->tcp_flags, r->rev_tcp_flags));
}

static int by_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* All lines, sorted (the order of one emit is not part of the contract). */
static char *lines(GPtrArray *v)
{
	GString *s = g_string_new(NULL);

	g_ptr_array_sort(v, by_str);
	for (guint i = 0; i < v->len; i++)
		g_string_append_printf(s, "%s\n", (char *)v->pdata[i]);
	g_ptr_array_set_size(v, 0);
	return g_string_free(s, FALSE);
}

/* Random harvests into the lists-based table and the old full-scan one: every emit
 * gives the same records (idle, active, TCP end with RST or FIN both ways, interface
 * gone, evicted, exit), with the deltas of each harvest inside its interval. */
static void same_as_full_scan(bool uniflow, size_t max, double idle_s, double active_s,
			      unsigned seed)
{
	struct record_cfg cfg = {.idle_s = idle_s, .active_s = active_s, .tcp_linger_s = idle_s < 1 ? 0.3 : 2,
				 .uniflow = uniflow, .max = max};
	struct records *rt = records_new(&cfg);
	struct ref_records *ref = ref_records_new(&cfg);
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free),
		  *b = g_ptr_array_new_with_free_func(g_free);
	int bad = 0;
	size_t total = 0, reasons[END_MAX] = {0};
	char *first_bad = NULL;

	for (int h = 0; h <= 400; h++) {
		__u64 t0 = h * S, now = t0 + S;
		bool final = h == 400;
		int gone[1] = {2 + h % 3};
		size_t ngone = h % 37 == 36;
		char *x, *y;

		for (int i = 0; !final && i < (int)(rand_r(&seed) % 40); i++) {
			int c = rand_r(&seed) % 300, up = rand_r(&seed) % 2, f = rand_r(&seed) % 50;
			__u8 proto = c % 3 ? IPPROTO_TCP : IPPROTO_UDP;
			struct flow_key k = up ? key(DIR_INGRESS, proto, 1, 1000 + c, 2, 443)
					       : key(DIR_EGRESS, proto, 2, 443, 1, 1000 + c);
			__u64 p = rand_r(&seed) % S, q = rand_r(&seed) % S;
			struct flow_stats st = {1 + rand_r(&seed) % 9, 40 + rand_r(&seed) % 1500,
						t0 + (p < q ? p : q), t0 + (p < q ? q : p),
						proto == IPPROTO_TCP ? (f == 0 ? 0x04 : f < 4 ? 0x11 : 0x10)
								     : 0,
						0, {0}};

			k.ifindex = 2 + c % 3;
			records_add(rt, &k, &st, NULL);
			ref_records_add(ref, &k, &st, NULL);
		}
		records_emit(rt, now, gone, ngone, final, line_of, a);
		ref_records_emit(ref, now, gone, ngone, final, line_of, b);
		total += a->len;
		for (guint i = 0; i < b->len; i++)
			for (int e = 1; e < END_MAX; e++)
				reasons[e] += strstr(b->pdata[i], end_names[e]) != NULL;
		x = lines(a);
		y = lines(b);
		if (strcmp(x, y) && !bad++)
			first_bad = g_strdup_printf("harvest %d:\nlists:\n%sfull scan:\n%s", h, x, y);
		g_free(x);
		g_free(y);
	}
	if (first_bad)
		fprintf(stderr, "%s", first_bad);
	g_free(first_bad);
	CHECK_INT("random: the same records as the full scan, every harvest", bad, 0);
	CHECK("random: many records", total > 1000);
	CHECK("random: idle, active and TCP ends all seen",
	      (active_s < cfg.idle_s || reasons[END_IDLE]) && reasons[END_TCP] &&
		  (active_s > 100 || reasons[END_ACTIVE]));
	CHECK("random: interface gone and exit seen", reasons[END_IFACE_GONE] && reasons[END_EXIT]);
	CHECK("random: evicted seen when bounded", !max || reasons[END_EVICTED]);
	CHECK_INT("random: the same evictions", records_evicted(rt), ref_records_evicted(ref));
	g_ptr_array_free(a, TRUE);
	g_ptr_array_free(b, TRUE);
	records_free(rt);
	ref_records_free(ref);
}

int main(void)
{
	ids();
	biflow_and_initiator();
	icmp_echo();
	end_reasons();
	uniflow();
	evicted();
	same_as_full_scan(false, 0, 5, 12, 1);
	same_as_full_scan(false, 30, 5, 12, 2);
	same_as_full_scan(true, 0, 5, 7, 3);
	same_as_full_scan(false, 0, 5, 3, 4);    /* active shorter than idle */
	same_as_full_scan(false, 0, 5, 1000, 5); /* no active timeout */
	same_as_full_scan(false, 0, 0.4, 0.7, 6); /* timeouts within one harvest */
	return check_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/* Datapath fuzz: millions of random and mutated packets through both entry points with
 * BPF_PROG_TEST_RUN. Every run must land in exactly one flow or one failure counter, and
 * the kernel's outcome must be the one a reference parser derives. The reference below
 * is written from the RFCs and docs/json.md ("Flow keys", `counters`), sharing nothing
 * with src/bpf/parse.bpf.h:
 *  - a sample (FUZZ_BPF_SAMPLE, default 120000) runs one by one: the flow the reference
 *    names must gain exactly that packet and its bytes, or the counter it names exactly 1;
 *  - the rest (FUZZ_BPF_RUNS in all, default 10000000) run on two threads while the main
 *    thread harvests: per counter, the kernel's count equals the reference's, and the
 *    packets and bytes harvested equal the reference's (map_full aside).
 * The seed is printed; FUZZ_BPF_SEED=N reproduces a run. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/datapath.h"
#include "pkt.h"

#define LO_IFINDEX 1 /* BPF_PROG_TEST_RUN runs packets on the namespace's loopback */
#define MAX_LEN 3400 /* BPF_PROG_TEST_RUN takes a page less head and tail room */
#define MAX_FLOWS (1 << 17)
#define HARVEST_EVERY 40000 /* runs between harvests: far below MAX_FLOWS */

static int passed, failed;

static void result(const char *name, bool ok, const char *why)
{
	if (ok) {
		passed++;
		printf("ok - fuzz_bpf: %s\n", name);
	} else {
		failed++;
		printf("not ok - fuzz_bpf: %s: %s\n", name, why);
	}
	fflush(stdout);
}

/* ---- PRNG: splitmix64 ---- */

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(next_rand(s) % n) : 0;
}

/* ---- Reference parser ---- */

enum { REF_FLOW = -1 };

struct ref {
	int outcome; /* REF_FLOW or a counter id */
	struct flow_key key;
	uint32_t bytes;
};

static unsigned int be16(const uint8_t *b)
{
	return (unsigned int)b[0] << 8 | b[1];
}

/* A header of n bytes at off that does not fit in the IP packet: bytes missing from the
 * frame, or only past the IP length field. */
static int short_by(size_t off, size_t n, size_t len)
{
	return off + n > len ? CNT_TRUNCATED : CNT_BAD_LEN;
}

/* Transport header (RFC 793 TCP, 768 UDP, 3828 UDP-Lite, 4960 SCTP, 792 ICMP,
 * 4443 ICMPv6): ports, or ICMP type and code for the family's own ICMP. */
static int ref_transport(const uint8_t *b, size_t len, size_t at, size_t ip_end, struct ref *r)
{
	size_t need = 0;
	int icmp = 0;

	switch (r->key.proto) {
	case 6: need = 20; break;
	case 17: case 136: need = 8; break;
	case 132: need = 12; break;
	case 1:
	case 58:
		if ((r->key.proto == 1 && r->key.ip_version == 4) ||
		    (r->key.proto == 58 && r->key.ip_version == 6)) {
			need = 4;
			icmp = 1;
		} else {
			r->key.sport = r->key.dport = 65535;
			return REF_FLOW;
		}
		break;
	default:
		return REF_FLOW;
	}
	if (at + need > ip_end)
		return short_by(at, need, len);
	if (icmp) {
		r->key.sport = b[at];
		r->key.dport = b[at + 1];
	} else {
		r->key.sport = be16(b + at);
		r->key.dport = be16(b + at + 2);
	}
	return REF_FLOW;
}

/* A fragment after the first: no transport header; protocols 1 and 58 get 65535. */
static int ref_later_fragment(struct ref *r)
{
	if (r->key.proto == 1 || r->key.proto == 58)
		r->key.sport = r->key.dport = 65535;
	return REF_FLOW;
}

/* RFC 791 IPv4, RFC 4302 AH (payload length in 4-octet units, minus 2). */
static int ref_ipv4(const uint8_t *b, size_t len, size_t l3, struct ref *r)
{
	size_t ihl, total, at, end;
	int steps = 0;
	uint8_t proto;

	if (len < l3 + 20)
		return CNT_TRUNCATED;
	if ((b[l3] >> 4) != 4)
		return CNT_NON_IP;
	ihl = 4 * (size_t)(b[l3] & 0x0f);
	if (ihl < 20)
		return CNT_BAD_IHL;
	total = be16(b + l3 + 2);
	if (total < ihl)
		return CNT_BAD_LEN;
	if (total > len - l3)
		return CNT_TRUNCATED;
	r->bytes = total;
	r->key.ip_version = 4;
	r->key.src[10] = r->key.src[11] = r->key.dst[10] = r->key.dst[11] = 0xff;
	memcpy(r->key.src + 12, b + l3 + 12, 4);
	memcpy(r->key.dst + 12, b + l3 + 16, 4);
	proto = b[l3 + 9];
	r->key.proto = proto;
	if (be16(b + l3 + 6) & 0x1fff)
		return ref_later_fragment(r);
	at = l3 + ihl;
	end = l3 + total;
	while (proto == 51) {
		if (steps == TUNFLOW_MAX_EXT_HDRS)
			return CNT_EXT_LIMIT;
		if (at + 8 > end)
			return short_by(at, 8, len);
		proto = b[at];
		at += 4 * ((size_t)b[at + 1] + 2);
		steps++;
	}
	if (at > end)
		return at > len ? CNT_TRUNCATED : CNT_BAD_LEN;
	r->key.proto = proto;
	return ref_transport(b, len, at, end, r);
}

/* RFC 8200 IPv6 and its extension headers (plus RFC 4302 AH, RFC 6275 mobility). */
static int is_ipv6_ext(uint8_t h)
{
	return h == 0 || h == 43 || h == 44 || h == 51 || h == 60 || h == 135;
}

static int ref_ipv6(const uint8_t *b, size_t len, size_t l3, struct ref *r)
{
	size_t total, at, end;
	int steps = 0;
	uint8_t nh;

	if (len < l3 + 40)
		return CNT_TRUNCATED;
	if ((b[l3] >> 4) != 6)
		return CNT_NON_IP;
	total = 40 + (size_t)be16(b + l3 + 4);
	if (total > len - l3)
		return CNT_TRUNCATED;
	r->bytes = total;
	r->key.ip_version = 6;
	memcpy(r->key.src, b + l3 + 8, 16);
	memcpy(r->key.dst, b + l3 + 24, 16);
	nh = b[l3 + 6];
	at = l3 + 40;
	end = l3 + total;
	for (; is_ipv6_ext(nh); steps++) {
		if (steps == TUNFLOW_MAX_EXT_HDRS)
			return CNT_EXT_LIMIT;
		if (at + 8 > end)
			return short_by(at, 8, len);
		if (nh == 44) { /* fragment: 8 bytes, offset in the top 13 bits of 2..3 */
			nh = b[at];
			if (be16(b + at + 2) >> 3) {
				r->key.proto = nh;
				return ref_later_fragment(r);
			}
			at += 8;
		} else if (nh == 51) {
			nh = b[at];
			at += 4 * ((size_t)b[at + 1] + 2);
		} else {
			nh = b[at];
			at += 8 * ((size_t)b[at + 1] + 1);
		}
	}
	if (at > end)
		return at > len ? CNT_TRUNCATED : CNT_BAD_LEN;
	r->key.proto = nh;
	return ref_transport(b, len, at, end, r);
}

static void reference(const uint8_t *b, size_t len, bool l2, int dir, struct ref *r)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->key.ifindex = LO_IFINDEX;
	r->key.dir = dir;
	if (l2) { /* IEEE 802.3, up to two 802.1Q (0x8100) / 802.1ad (0x88a8) tags */
		unsigned int type;
		int tags = 0;

		if (len < 14) {
			r->outcome = CNT_TRUNCATED;
			return;
		}
		type = be16(b + 12);
		off = 14;
		while ((type == 0x8100 || type == 0x88a8) && tags < TUNFLOW_MAX_VLAN) {
			if (off + 4 > len) {
				r->outcome = CNT_TRUNCATED;
				return;
			}
			type = be16(b + off + 2);
			off += 4;
			tags++;
		}
		r->outcome = type == 0x0800   ? ref_ipv4(b, len, off, r)
			     : type == 0x86dd ? ref_ipv6(b, len, off, r)
					      : CNT_NON_IP;
		return;
	}
	if (len < 1) {
		r->outcome = CNT_TRUNCATED;
		return;
	}
	r->outcome = (b[0] >> 4) == 4   ? ref_ipv4(b, len, 0, r)
		     : (b[0] >> 4) == 6 ? ref_ipv6(b, len, 0, r)
					: CNT_NON_IP;
}

/* ---- Packet generator ---- */

static const uint8_t protos[] = {6, 17, 136, 132, 1, 58, 51, 50, 47, 59, 0, 44, 60, 43, 135};
static const uint8_t v6_ext[] = {0, 43, 44, 51, 60, 135};

/* Overwrite one of the fields parsers trust with a random or nearby value. */
static void mutate_field(uint64_t *s, uint8_t *b, size_t len, const struct pkt_layout *lay)
{
	size_t l3 = lay->l3, at;

	switch (below(s, 8)) {
	case 0: /* IPv4 total length / IPv6 payload length */
		at = l3 + ((b[l3] >> 4) == 6 ? 4 : 2);
		break;
	case 1: /* IPv4 version/IHL, IPv6 version */
		at = l3;
		break;
	case 2: /* IPv4 fragment offset / flags; IPv6 next header */
		at = l3 + ((b[l3] >> 4) == 6 ? 6 : 6 + below(s, 2));
		break;
	case 3: /* IPv4 protocol */
		at = l3 + 9;
		break;
	case 4: /* first bytes of an extension header or transport header */
	case 5:
		at = lay->l4 > l3 + 40 && below(s, 2) ? l3 + 40 + below(s, 4) : lay->l4 + below(s, 4);
		break;
	case 6: /* the ethertype or a tag */
		at = l3 >= 2 ? l3 - 2 + below(s, 2) : 0;
		break;
	default: /* anywhere in the headers */
		at = below(s, lay->l4 + 24);
	}
	if (at < len)
		b[at] = below(s, 4) ? (uint8_t)next_rand(s) : (uint8_t)(b[at] + below(s, 5) - 2);
}

/* One packet into b (MAX_LEN bytes at most); returns its length (at least 14). */
static size_t gen_packet(uint64_t *s, bool l2, uint8_t *b)
{
	static __thread uint8_t tmp[PKT_MAX];
	struct pkt_spec p;
	struct pkt_layout lay;
	size_t len = 0;
	char a[64], d[64];
	int kind = below(s, 20);

	if (kind == 0) { /* random bytes, IP version nibble likely right */
		len = 14 + below(s, 120);
		for (size_t i = 0; i < len; i++)
			b[i] = next_rand(s);
		if (!l2 && below(s, 2))
			b[0] = (below(s, 2) ? 0x40 : 0x60) | (b[0] & 0x0f);
		if (l2 && below(s, 2)) {
			b[12] = below(s, 2) ? 0x08 : 0x86;
			b[13] = b[12] == 0x08 ? 0x00 : 0xdd;
		}
		return len;
	}
	memset(&p, 0, sizeof(p));
	p.l2 = l2;
	p.vlans = l2 ? below(s, 3) : 0;
	p.ipv = below(s, 2) ? 4 : 6;
	if (p.ipv == 4) {
		snprintf(a, sizeof(a), "192.0.2.%u", below(s, 4));
		snprintf(d, sizeof(d), "198.51.100.%u", below(s, 4));
		p.ip_opts = below(s, 4) ? 0 : 4 * below(s, 11);
		p.next = below(s, 4) ? 0 : below(s, 11);
		for (int i = 0; i < p.next; i++)
			p.ext[i] = 51;
	} else {
		snprintf(a, sizeof(a), "2001:db8::%x", below(s, 4));
		snprintf(d, sizeof(d), "2001:db8:1::%x", below(s, 4));
		p.next = below(s, 3) ? 0 : below(s, 11);
		for (int i = 0; i < p.next; i++)
			p.ext[i] = v6_ext[below(s, sizeof(v6_ext))];
		p.ext_size = below(s, 3) ? 0 : 8 * (1 + below(s, p.next > 3 ? 40 : 256));
	}
	p.src = a;
	p.dst = d;
	p.proto = below(s, 4) ? protos[below(s, sizeof(protos))] : (uint8_t)next_rand(s);
	p.sport = below(s, 8);
	p.dport = below(s, 3) ? 53 : (uint16_t)next_rand(s);
	p.tcp_flags = next_rand(s);
	p.frag = below(s, 3) ? FRAG_NONE : below(s, 2) ? FRAG_FIRST : FRAG_LATER;
	p.payload = below(s, 4) ? below(s, 64) : below(s, 1400);
	len = pkt_build(&p, tmp, &lay);
	if (!len || len > MAX_LEN) { /* a spec too big for a test run: a short one */
		p.next = 0;
		p.payload = below(s, 32);
		len = pkt_build(&p, tmp, &lay);
	}
	memcpy(b, tmp, len);
	/* mutations: a field, a cut, link padding after the IP packet */
	for (int n = below(s, 3) ? below(s, 4) : 0; n > 0; n--)
		mutate_field(s, b, len, &lay);
	if (!below(s, 6))
		len = lay.l3 + below(s, len - lay.l3 + 1);
	if (!below(s, 8) && len + 64 <= MAX_LEN) {
		size_t pad = below(s, 64);

		memset(b + len, 0, pad);
		len += pad;
	}
	if (len < 14) {
		memset(b + len, 0, 14 - len);
		len = 14;
	}
	return len;
}

/* ---- Running ---- */

static struct datapath dp;
static uint64_t harvested_packets, harvested_bytes;

static void collect(const struct flow_key *k, const struct flow_stats *st, void *ctx)
{
	(void)k;
	(void)ctx;
	harvested_packets += st->packets;
	harvested_bytes += st->bytes;
}

static int run1(bool l2, int dir, const uint8_t *b, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b, .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(dp_prog_fd(&dp, l2, dir), &o))
		return -errno;
	return (int)o.retval == -1 ? 0 : -EPROTO;
}

/* packets and bytes of one key in its family's active map, summed over CPUs */
static void key_totals(const struct flow_key *k, uint64_t *packets, uint64_t *bytes)
{
	static struct flow_stats *v;
	struct flow_key4 k4;
	const void *mk = k;

	if (!v)
		v = calloc(dp.ncpus, sizeof(*v));
	*packets = *bytes = 0;
	if (k->ip_version == 4) {
		dp_key_to4(k, &k4);
		mk = &k4;
	}
	if (bpf_map_lookup_elem(dp_flow_map(&dp, k->ip_version == 4), mk, v))
		return;
	for (int c = 0; c < dp.ncpus; c++) {
		*packets += v[c].packets;
		*bytes += v[c].bytes;
	}
}

static void hexdump(const uint8_t *b, size_t len)
{
	printf("#  packet (%zu bytes):", len);
	for (size_t i = 0; i < len && i < 160; i++)
		printf("%s%02x", i % 32 ? "" : "\n#   ", b[i]);
	printf("%s\n", len > 160 ? " ..." : "");
}

static const char *outcome_name(int o)
{
	return o == REF_FLOW ? "flow" : counter_names[o];
}

struct totals {
	uint64_t runs, refused, flow_packets, flow_bytes, counters[CNT_ALL];
};

static void tally(struct totals *t, const struct ref *r)
{
	t->runs++;
	if (r->outcome == REF_FLOW) {
		t->flow_packets++;
		t->flow_bytes += r->bytes;
	} else {
		t->counters[r->outcome]++;
	}
}

/* n runs one at a time, each checked against the reference on its own. 0 or -errno. */
static int sample_phase(uint64_t seed, uint64_t n, struct totals *t, uint64_t *mismatches)
{
	static uint8_t b[MAX_LEN + 64];
	uint64_t s = seed, since = 0;

	for (uint64_t i = 0; t->runs < n; i++) {
		bool l2 = below(&s, 2);
		int dir = below(&s, 2), err;
		size_t len = gen_packet(&s, l2, b);
		struct ref r;
		__u64 c0[CNT_ALL], c1[CNT_ALL];
		uint64_t p0 = 0, b0 = 0, p1 = 0, b1 = 0;
		char why[256] = "";

		reference(b, len, l2, dir, &r);
		if (dp_counters(&dp, c0))
			return -errno;
		if (r.outcome == REF_FLOW)
			key_totals(&r.key, &p0, &b0);
		err = run1(l2, dir, b, len);
		if (err == -EINVAL) { /* the test run refused the frame: not a run */
			t->refused++;
			continue;
		}
		if (err)
			return err;
		tally(t, &r);
		dp_counters(&dp, c1);
		if (r.outcome == REF_FLOW)
			key_totals(&r.key, &p1, &b1);
		for (int c = 0; c < CNT_PKT_MAX; c++)
			if (c1[c] - c0[c] != (__u64)(c == r.outcome))
				snprintf(why, sizeof(why), "counter %s +%llu", counter_names[c],
					 (unsigned long long)(c1[c] - c0[c]));
		if (r.outcome == REF_FLOW && (p1 - p0 != 1 || b1 - b0 != r.bytes))
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%sreference key gained %" PRIu64 " packets %" PRIu64
				 " bytes, want 1 and %u",
				 *why ? "; " : "", p1 - p0, b1 - b0, r.bytes);
		if (*why) {
			if (++*mismatches <= 5) {
				printf("# mismatch at sample run %" PRIu64 " (%s entry, dir %d): "
				       "reference says %s (proto %u ports %u>%u); kernel: %s\n",
				       i, l2 ? "L2" : "L3", dir, outcome_name(r.outcome), r.key.proto,
				       r.key.sport, r.key.dport, why);
				hexdump(b, len);
			}
		}
		if (++since >= HARVEST_EVERY) {
			long h = dp_harvest(&dp, collect, NULL, NULL);

			if (h < 0)
				return h;
			since = 0;
		}
	}
	return 0;
}

struct worker {
	pthread_t t;
	uint64_t seed, n;
	struct totals tot;
	int err;
};

static atomic_uint_fast64_t runs_done;

static void *bulk_thread(void *arg)
{
	struct worker *w = arg;
	static __thread uint8_t b[MAX_LEN + 64];
	uint64_t s = w->seed;

	for (uint64_t i = 0; w->tot.runs < w->n; i++) {
		bool l2 = below(&s, 2);
		int dir = below(&s, 2), err;
		size_t len = gen_packet(&s, l2, b);
		struct ref r;

		reference(b, len, l2, dir, &r);
		err = run1(l2, dir, b, len);
		if (err == -EINVAL) {
			w->tot.refused++;
			continue;
		}
		if (err) {
			w->err = err;
			break;
		}
		tally(&w->tot, &r);
		if ((i & 255) == 255)
			atomic_fetch_add(&runs_done, 256);
	}
	return NULL;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	uint64_t seed = env_u64("FUZZ_BPF_SEED", (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32);
	uint64_t runs = env_u64("FUZZ_BPF_RUNS", 10000000), sample = env_u64("FUZZ_BPF_SAMPLE", 120000);
	struct totals all = {0};
	__u64 c_start[CNT_ALL], c_end[CNT_ALL];
	uint64_t mismatches = 0;
	struct worker w[2];
	char why[512];
	double t0 = now_s(), t1;
	bool ok;
	int err;

	if (sample > runs)
		sample = runs;
	printf("# seed %" PRIu64 " (FUZZ_BPF_SEED=%" PRIu64 " reproduces), %" PRIu64
	       " runs, %" PRIu64 " checked one by one\n",
	       seed, seed, runs, sample);
	if (dp_open(&dp, MAX_FLOWS, true)) {
		printf("not ok - fuzz_bpf: load tunflow's BPF programs\n");
		return 1;
	}
	dp_harvest(&dp, collect, NULL, NULL);
	harvested_packets = harvested_bytes = 0;
	dp_counters(&dp, c_start);

	err = sample_phase(seed, sample, &all, &mismatches);
	snprintf(why, sizeof(why), "%" PRIu64 " of %" PRIu64 " runs differ (first ones above)",
		 mismatches, all.runs);
	if (err)
		snprintf(why, sizeof(why), "stopped at run %" PRIu64 ": %s", all.runs,
			 strerror(-err));
	t1 = now_s();
	printf("# sample: %" PRIu64 " runs (%" PRIu64 " refused by the test run) in %.1f s\n",
	       all.runs, all.refused, t1 - t0);
	result("sample: each run lands where the reference parser says (key, bytes or counter)",
	       !err && !mismatches && all.runs == sample, why);

	/* the rest on two threads, harvested concurrently */
	for (int i = 0; i < 2; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].seed = seed ^ (0x5bd1e995ULL * (i + 1)) << 17;
		w[i].n = (runs - all.runs) / 2 + (i ? (runs - all.runs) % 2 : 0);
		pthread_create(&w[i].t, NULL, bulk_thread, &w[i]);
	}
	for (uint64_t last = 0, joined[2] = {0, 0};;) {
		for (int i = 0; i < 2; i++)
			if (!joined[i] && pthread_tryjoin_np(w[i].t, NULL) != EBUSY)
				joined[i] = 1;
		if (joined[0] && joined[1])
			break;
		if (atomic_load(&runs_done) - last >= HARVEST_EVERY) {
			last = atomic_load(&runs_done);
			dp_harvest(&dp, collect, NULL, NULL);
		} else {
			usleep(2000);
		}
	}
	dp_harvest(&dp, collect, NULL, NULL);
	dp_counters(&dp, c_end);
	for (int i = 0; i < 2; i++) {
		all.runs += w[i].tot.runs;
		all.refused += w[i].tot.refused;
		all.flow_packets += w[i].tot.flow_packets;
		all.flow_bytes += w[i].tot.flow_bytes;
		for (int c = 0; c < CNT_PKT_MAX; c++)
			all.counters[c] += w[i].tot.counters[c];
		if (w[i].err)
			printf("# worker %d: test run failed: %s\n", i, strerror(-w[i].err));
	}
	printf("# %" PRIu64 " runs (%" PRIu64 " refused by the test run) in %.1f s; kernel: %" PRIu64
	       " packets in flows",
	       all.runs, all.refused, now_s() - t0, harvested_packets);
	for (int c = 0; c < CNT_PKT_MAX; c++)
		printf(", %s %llu", counter_names[c], (unsigned long long)(c_end[c] - c_start[c]));
	printf("\n");

	uint64_t landed = harvested_packets;
	for (int c = 0; c < CNT_PKT_MAX; c++)
		landed += c_end[c] - c_start[c];
	snprintf(why, sizeof(why), "flows %" PRIu64 " + counters %" PRIu64 " != runs %" PRIu64,
		 harvested_packets, landed - harvested_packets, all.runs);
	result("every run lands in exactly one flow or one counter (sum == runs)",
	       landed == all.runs && !w[0].err && !w[1].err, why);
	snprintf(why, sizeof(why), "%" PRIu64 " runs", all.runs);
	result("runs: FUZZ_BPF_RUNS (default 10000000) runs, of which FUZZ_BPF_SAMPLE (default "
	       "120000) one by one",
	       all.runs == runs && runs >= sample, why);

	ok = true;
	why[0] = 0;
	for (int c = 0; c < CNT_PKT_MAX; c++) {
		uint64_t got = c_end[c] - c_start[c];

		if (c == CNT_MAP_FULL)
			continue;
		if (got != all.counters[c]) {
			ok = false;
			snprintf(why + strlen(why), sizeof(why) - strlen(why),
				 "%s: kernel %" PRIu64 " reference %" PRIu64 "; ", counter_names[c], got,
				 all.counters[c]);
		}
	}
	uint64_t full = c_end[CNT_MAP_FULL] - c_start[CNT_MAP_FULL];
	if (harvested_packets + full != all.flow_packets) {
		ok = false;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "flow packets: kernel %" PRIu64 " + map_full %" PRIu64 ", reference %" PRIu64,
			 harvested_packets, full, all.flow_packets);
	}
	if (!full && harvested_bytes != all.flow_bytes) {
		ok = false;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 "; flow bytes: kernel %" PRIu64 ", reference %" PRIu64, harvested_bytes,
			 all.flow_bytes);
	}
	result("all runs: each counter, and packets and bytes in flows, equal the reference's",
	       ok, why);
	dp_close(&dp);
	printf("# fuzz_bpf: %d passed, %d failed (seed %" PRIu64 ")\n", passed, failed, seed);
	return failed ? 1 : 0;
}

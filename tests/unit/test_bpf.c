// SPDX-License-Identifier: GPL-2.0-only
/* Kernel-side unit tests: crafted packets through BPF_PROG_TEST_RUN on both entry
 * points, then a harvest; each case asserts the exact flow key and counters, or the
 * exact failure counter, that must result. Prints "ok - NAME" / "not ok - NAME: why". */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "core/datapath.h"
#include "tunflow.skel.h"
#include "pkt.h"

#define LO_IFINDEX 1 /* BPF_PROG_TEST_RUN runs packets on the namespace's loopback */

static struct datapath dp;
static int passed, failed;
static char why[512];

struct got {
	struct flow_key key;
	struct flow_stats st;
};
static struct got flows[64];
static int nflows;
static __u64 total_packets; /* for the concurrency test */

static void collect(const struct flow_key *k, const struct flow_stats *st, void *ctx)
{
	(void)ctx;
	total_packets += st->packets;
	if (nflows < 64) {
		flows[nflows].key = *k;
		flows[nflows].st = *st;
	}
	nflows++;
}

static void result(const char *name, bool ok)
{
	if (ok) {
		passed++;
		printf("ok - %s\n", name);
	} else {
		failed++;
		printf("not ok - %s: %s\n", name, why);
	}
	why[0] = 0;
}

static bool failf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return false;
}

/* Run one packet through a program; the program must leave its fate alone. */
static bool run(struct datapath *d, bool l2, int dir, const uint8_t *pkt, size_t len,
		__u32 gso_size, __u32 gso_segs)
{
	struct __sk_buff ctx = {.gso_size = gso_size, .gso_segs = gso_segs};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = len, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err = bpf_prog_test_run_opts(dp_prog_fd(d, l2, dir), &o);

	if (err)
		return failf("BPF_PROG_TEST_RUN: %s", strerror(errno));
	if ((int)o.retval != -1 /* TC_ACT_UNSPEC / TCX_NEXT */)
		return failf("program returned %d, not TC_ACT_UNSPEC", (int)o.retval);
	return true;
}

static bool harvest(struct datapath *d, __u64 before[CNT_ALL], __u64 delta[CNT_ALL])
{
	__u64 now[CNT_ALL];
	long n;

	nflows = 0;
	n = dp_harvest(d, collect, NULL, NULL);
	if (n < 0)
		return failf("harvest: %s", strerror(-n));
	if (dp_counters(d, now))
		return failf("counters: %s", strerror(errno));
	for (int c = 0; c < CNT_PKT_MAX; c++) {
		delta[c] = now[c] - before[c];
		before[c] = now[c];
	}
	return true;
}

static __u64 base[CNT_ALL];

struct expect {
	__u8 proto;
	__u16 sport, dport;
	__u64 packets, bytes;
	__u8 flags;
};

/* One packet (or one GSO packet) -> exactly this one flow, no failure counted. */
static bool check_flow(const struct pkt_spec *s, bool l2, int dir, int times, __u32 gso_size,
		       __u32 gso_segs, const struct expect *e)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	size_t len = pkt_build(s, buf, &lay);
	__u64 delta[CNT_ALL];
	struct flow_key k;

	if (!len)
		return failf("bad packet spec");
	for (int i = 0; i < times; i++)
		if (!run(&dp, l2, dir, buf, len, gso_size, gso_segs))
			return false;
	if (!harvest(&dp, base, delta))
		return false;
	for (int c = 0; c < CNT_PKT_MAX; c++)
		if (delta[c])
			return failf("counter %s = %llu, want 0", counter_names[c],
				     (unsigned long long)delta[c]);
	if (nflows != 1)
		return failf("%d flows, want 1", nflows);

	memset(&k, 0, sizeof(k));
	k.ifindex = LO_IFINDEX;
	k.dir = dir;
	k.ip_version = s->ipv;
	k.proto = e->proto;
	pkt_addr(s->src, k.src);
	pkt_addr(s->dst, k.dst);
	k.sport = e->sport;
	k.dport = e->dport;
	const struct got *g = &flows[0];
	if (memcmp(&g->key, &k, sizeof(k)))
		return failf("key: if %u dir %u v%u proto %u ports %u>%u, want if %u dir %u v%u "
			     "proto %u ports %u>%u",
			     g->key.ifindex, g->key.dir, g->key.ip_version, g->key.proto,
			     g->key.sport, g->key.dport, k.ifindex, k.dir, k.ip_version, k.proto,
			     k.sport, k.dport);
	if (g->st.packets != e->packets || g->st.bytes != e->bytes)
		return failf("%llu packets %llu bytes, want %llu and %llu",
			     (unsigned long long)g->st.packets, (unsigned long long)g->st.bytes,
			     (unsigned long long)e->packets, (unsigned long long)e->bytes);
	if (g->st.tcp_flags != e->flags)
		return failf("tcp_flags 0x%x, want 0x%x", g->st.tcp_flags, e->flags);
	if (!g->st.first_ns || g->st.last_ns < g->st.first_ns)
		return failf("timestamps first %llu last %llu", (unsigned long long)g->st.first_ns,
			     (unsigned long long)g->st.last_ns);
	return true;
}

/* A packet that must land in exactly one failure counter and no flow. */
static bool check_fail(bool l2, const uint8_t *buf, size_t len, int counter)
{
	__u64 delta[CNT_ALL];

	if (!run(&dp, l2, DIR_INGRESS, buf, len, 0, 0))
		return false;
	if (!harvest(&dp, base, delta))
		return false;
	if (nflows)
		return failf("%d flows, want none (first: proto %u %u>%u)", nflows,
			     flows[0].key.proto, flows[0].key.sport, flows[0].key.dport);
	for (int c = 0; c < CNT_PKT_MAX; c++)
		if (delta[c] != (c == counter))
			return failf("counter %s = %llu, want %d", counter_names[c],
				     (unsigned long long)delta[c], c == counter);
	return true;
}

static void name_case(char *out, size_t len, const char *what, bool l2)
{
	snprintf(out, len, "%s entry: %s", l2 ? "L2" : "L3", what);
}

#define V4A "192.0.2.1"
#define V4B "198.51.100.7"
#define V6A "2001:db8::1"
#define V6B "2001:db8:1::2"

/* Well-formed packets: same expectations on both entry points. */
static void well_formed(bool l2)
{
	struct {
		const char *name;
		struct pkt_spec s;
		int dir, times;
		__u8 proto;
		bool ports; /* key carries the spec's ports (or ICMP type/code) */
		__u8 flags;
	} cases[] = {
		{"IPv4 TCP SYN-ACK", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP, .sport = 443, .dport = 51000, .tcp_flags = 0x12, .payload = 100}, DIR_INGRESS, 1, IPPROTO_TCP, true, 0x12},
		{"IPv4 TCP egress, 3 packets", {.ipv = 4, .src = V4B, .dst = V4A, .proto = IPPROTO_TCP, .sport = 51000, .dport = 443, .tcp_flags = 0x10, .payload = 0}, DIR_EGRESS, 3, IPPROTO_TCP, true, 0x10},
		{"IPv4 UDP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 5353, .dport = 53, .payload = 33}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv4 ICMP echo", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMP, .sport = 8, .dport = 0, .payload = 56}, DIR_INGRESS, 1, IPPROTO_ICMP, true, 0},
		{"IPv4 ICMP unreachable 3/3", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMP, .sport = 3, .dport = 3, .payload = 28}, DIR_EGRESS, 1, IPPROTO_ICMP, true, 0},
		{"IPv4 options (IHL 8) TCP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP, .sport = 22, .dport = 40000, .tcp_flags = 0x18, .ip_opts = 12, .payload = 10}, DIR_INGRESS, 1, IPPROTO_TCP, true, 0x18},
		{"IPv4 options (IHL 15) UDP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .ip_opts = 40, .payload = 1}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv4 first fragment keeps ports", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 4000, .dport = 4001, .frag = FRAG_FIRST, .payload = 1472}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv4 later fragment: no ports", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 4000, .dport = 4001, .frag = FRAG_LATER, .payload = 500}, DIR_INGRESS, 1, IPPROTO_UDP, false, 0},
		{"IPv4 SCTP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_SCTP, .sport = 3868, .dport = 3869, .payload = 16}, DIR_INGRESS, 1, IPPROTO_SCTP, true, 0},
		{"IPv4 GRE (no ports)", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_GRE, .payload = 40}, DIR_INGRESS, 1, IPPROTO_GRE, false, 0},
		{"IPv6 TCP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_TCP, .sport = 443, .dport = 50000, .tcp_flags = 0x02}, DIR_INGRESS, 1, IPPROTO_TCP, true, 0x02},
		{"IPv6 UDP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 123, .dport = 123, .payload = 48}, DIR_EGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv6 UDP-Lite", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDPLITE, .sport = 7, .dport = 8, .payload = 8}, DIR_INGRESS, 1, IPPROTO_UDPLITE, true, 0},
		{"IPv6 ICMPv6 echo", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ICMPV6, .sport = 128, .dport = 0, .payload = 56}, DIR_INGRESS, 1, IPPROTO_ICMPV6, true, 0},
		{"IPv6 hop-by-hop + TCP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_TCP, .sport = 80, .dport = 1024, .tcp_flags = 0x11, .ext = {IPPROTO_HOPOPTS}, .next = 1}, DIR_INGRESS, 1, IPPROTO_TCP, true, 0x11},
		{"IPv6 routing + UDP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 1000, .dport = 2000, .ext = {IPPROTO_ROUTING}, .next = 1, .payload = 4}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv6 destination options + ICMPv6", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ICMPV6, .sport = 1, .dport = 4, .ext = {IPPROTO_DSTOPTS}, .next = 1, .payload = 8}, DIR_INGRESS, 1, IPPROTO_ICMPV6, true, 0},
		{"IPv6 AH + UDP", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 500, .dport = 4500, .ext = {IPPROTO_AH}, .next = 1}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv6 first fragment keeps ports", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 9, .dport = 10, .ext = {IPPROTO_FRAGMENT}, .next = 1, .frag = FRAG_FIRST, .payload = 1000}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv6 later fragment: no ports", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 9, .dport = 10, .ext = {IPPROTO_FRAGMENT}, .next = 1, .frag = FRAG_LATER, .payload = 300}, DIR_INGRESS, 1, IPPROTO_UDP, false, 0},
		{"IPv6 chain hop+dst+routing+fragment", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_TCP, .sport = 1, .dport = 2, .tcp_flags = 0x04, .ext = {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT}, .next = 4, .frag = FRAG_FIRST}, DIR_INGRESS, 1, IPPROTO_TCP, true, 0x04},
		{"IPv6 chain of 8 (the limit)", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 11, .dport = 12, .ext = {60, 60, 60, 60, 60, 60, 60, 60}, .next = 8}, DIR_INGRESS, 1, IPPROTO_UDP, true, 0},
		{"IPv6 no next header (59)", {.ipv = 6, .src = V6A, .dst = V6B, .proto = 59}, DIR_INGRESS, 1, 59, false, 0},
		{"IPv6 ESP (no ports)", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ESP, .payload = 64}, DIR_EGRESS, 1, IPPROTO_ESP, false, 0},
	};
	char name[160];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_spec s = cases[i].s;
		static uint8_t buf[PKT_MAX];
		struct pkt_layout lay;
		size_t len;

		s.l2 = l2;
		len = pkt_build(&s, buf, &lay);
		struct expect e = {
			.proto = cases[i].proto,
			.sport = cases[i].ports ? s.sport : 0,
			.dport = cases[i].ports ? s.dport : 0,
			.packets = cases[i].times,
			.bytes = (__u64)cases[i].times * (len - lay.l3),
			.flags = cases[i].flags,
		};
		name_case(name, sizeof(name), cases[i].name, l2);
		result(name, check_flow(&s, l2, cases[i].dir, cases[i].times, 0, 0, &e));
	}

	/* GSO: one skb stands for gso_segs wire packets, each with its own headers. */
	struct pkt_spec g4 = {.l2 = l2, .ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP,
			      .sport = 5201, .dport = 40000, .tcp_flags = 0x10, .payload = 2976};
	/* BPF_PROG_TEST_RUN takes at most about 3.7 KB, so three segments */
	struct expect e4 = {IPPROTO_TCP, 5201, 40000, 3, 40 + 2976 + 2 * 40, 0x10};
	name_case(name, sizeof(name), "IPv4 TCP GSO 3 x 992 (gso_segs set)", l2);
	result(name, check_flow(&g4, l2, DIR_EGRESS, 1, 992, 3, &e4));
	name_case(name, sizeof(name), "IPv4 TCP GSO, gso_segs 0 (virtio): computed", l2);
	result(name, check_flow(&g4, l2, DIR_INGRESS, 1, 1000, 0, &e4));
	struct pkt_spec g6 = {.l2 = l2, .ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
			      .sport = 443, .dport = 50000, .payload = 3 * 1200};
	struct expect e6 = {IPPROTO_UDP, 443, 50000, 3, 3 * (40 + 8 + 1200), 0};
	name_case(name, sizeof(name), "IPv6 UDP GSO 3 x 1200", l2);
	result(name, check_flow(&g6, l2, DIR_EGRESS, 1, 1200, 3, &e6));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void malformed(bool l2)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	char name[160], what[120];
	size_t len;

	/* Truncated at every header boundary (and inside each header). The test run
	 * needs 14 bytes at least, so cuts start there; and it refuses an IP ethertype
	 * without a whole IP header after it, so on L2 the cut packets carry a VLAN tag. */
	struct pkt_spec tcp4 = {.l2 = l2, .vlans = l2, .ipv = 4, .src = V4A, .dst = V4B,
				.proto = IPPROTO_TCP, .sport = 1, .dport = 2, .payload = 20};
	len = pkt_build(&tcp4, buf, &lay);
	size_t cuts4[] = {lay.l3, lay.l3 + 10, lay.l4, lay.l4 + 10, lay.l4 + 20, len - 1};
	for (size_t i = 0; i < sizeof(cuts4) / sizeof(cuts4[0]); i++) {
		if (cuts4[i] < 14)
			continue;
		snprintf(what, sizeof(what), "IPv4 TCP cut to %zu of %zu bytes -> truncated", cuts4[i],
			 len);
		name_case(name, sizeof(name), what, l2);
		result(name, check_fail(l2, buf, cuts4[i], CNT_TRUNCATED));
	}
	if (l2) {
		name_case(name, sizeof(name), "802.1Q tag cut off -> truncated", l2);
		result(name, check_fail(l2, buf, 16, CNT_TRUNCATED));
	}
	struct pkt_spec ext6 = {.l2 = l2, .vlans = l2, .ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
				.sport = 1, .dport = 2, .ext = {IPPROTO_HOPOPTS, IPPROTO_FRAGMENT},
				.next = 2, .frag = FRAG_FIRST, .payload = 4};
	len = pkt_build(&ext6, buf, &lay);
	size_t cuts6[] = {lay.l3 + 20, lay.l3 + 40, lay.l3 + 44, lay.l3 + 56, lay.l4,
			  lay.l4 + 4, len - 1};
	for (size_t i = 0; i < sizeof(cuts6) / sizeof(cuts6[0]); i++) {
		snprintf(what, sizeof(what), "IPv6 hop+frag UDP cut to %zu of %zu -> truncated",
			 cuts6[i], len);
		name_case(name, sizeof(name), what, l2);
		result(name, check_fail(l2, buf, cuts6[i], CNT_TRUNCATED));
	}

	/* IHL below 5 */
	len = pkt_build(&tcp4, buf, &lay);
	buf[lay.l3] = 0x44;
	name_case(name, sizeof(name), "IPv4 IHL 4 -> bad_ihl", l2);
	result(name, check_fail(l2, buf, len, CNT_BAD_IHL));

	/* Total length lying, three ways */
	len = pkt_build(&tcp4, buf, &lay);
	put16(buf + lay.l3 + 2, 12);
	name_case(name, sizeof(name), "IPv4 total length 12 (< header) -> bad_len", l2);
	result(name, check_fail(l2, buf, len, CNT_BAD_LEN));
	len = pkt_build(&tcp4, buf, &lay);
	put16(buf + lay.l3 + 2, 28);
	name_case(name, sizeof(name), "IPv4 total length 28 ends inside TCP -> bad_len", l2);
	result(name, check_fail(l2, buf, len, CNT_BAD_LEN));
	len = pkt_build(&tcp4, buf, &lay);
	put16(buf + lay.l3 + 2, len - lay.l3 + 100);
	name_case(name, sizeof(name), "IPv4 total length past the end -> truncated", l2);
	result(name, check_fail(l2, buf, len, CNT_TRUNCATED));
	struct pkt_spec u6 = {.l2 = l2, .ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
			      .sport = 1, .dport = 2, .payload = 10};
	len = pkt_build(&u6, buf, &lay);
	put16(buf + lay.l3 + 4, 4);
	name_case(name, sizeof(name), "IPv6 payload length 4 ends inside UDP -> bad_len", l2);
	result(name, check_fail(l2, buf, len, CNT_BAD_LEN));

	/* Extension-header chain one longer than tunflow follows */
	struct pkt_spec long6 = {.l2 = l2, .ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
				 .sport = 1, .dport = 2, .ext = {60, 60, 60, 60, 60, 60, 60, 60, 60},
				 .next = 9};
	len = pkt_build(&long6, buf, &lay);
	name_case(name, sizeof(name), "IPv6 chain of 9 extension headers -> ext_limit", l2);
	result(name, check_fail(l2, buf, len, CNT_EXT_LIMIT));

	/* Not IP at all */
	memset(buf, 0, 64);
	if (l2) {
		struct pkt_spec arp = {.l2 = 1, .ethertype = 0x0806};
		len = pkt_build(&arp, buf, &lay);
		result("L2 entry: ARP frame -> non_ip", check_fail(true, buf, len, CNT_NON_IP));
		struct pkt_spec lying = {.l2 = 1, .ipv = 6, .src = V6A, .dst = V6B,
					 .proto = IPPROTO_UDP};
		len = pkt_build(&lying, buf, &lay);
		buf[lay.l3] = 0x45; /* ethertype says IPv6, the header says 4 */
		result("L2 entry: IPv6 ethertype over an IPv4 header -> non_ip",
		       check_fail(true, buf, len, CNT_NON_IP));
		memset(buf, 0, 64);
		buf[12] = 0x81; /* VLAN tag, inner ethertype IPv4, and no IP byte at all */
		buf[16] = 0x08;
		result("L2 entry: VLAN tag then zero-length IP -> truncated",
		       check_fail(true, buf, 18, CNT_TRUNCATED));
	} else {
		result("L3 entry: all-zero packet (version 0) -> non_ip",
		       check_fail(false, buf, 20, CNT_NON_IP));
		buf[0] = 0x50;
		result("L3 entry: IP version 5 -> non_ip", check_fail(false, buf, 20, CNT_NON_IP));
	}
}

/* docs/json.md "Flow keys": ICMP type/code only where an ICMP header of the packet's
 * family was read, AH stepped over in both families, chains followed past byte 2048. */
static void key_semantics(bool l2)
{
#define NONE FLOW_ICMP_NONE
	struct {
		const char *name;
		struct pkt_spec s;
		__u8 proto;
		__u16 sport, dport;
		__u8 flags;
	} cases[] = {
		{"IPv4 ICMP echo request, later fragment: type/code 65535, not echo reply 0/0", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMP, .sport = 8, .frag = FRAG_LATER, .payload = 500}, IPPROTO_ICMP, NONE, NONE, 0},
		{"IPv4 ICMP echo request, first fragment: type 8 code 0", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMP, .sport = 8, .frag = FRAG_FIRST, .payload = 1472}, IPPROTO_ICMP, 8, 0, 0},
		{"IPv6 ICMPv6 echo request, later fragment: type/code 65535", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ICMPV6, .sport = 128, .ext = {IPPROTO_FRAGMENT}, .next = 1, .frag = FRAG_LATER, .payload = 300}, IPPROTO_ICMPV6, NONE, NONE, 0},
		{"protocol 58 over IPv4: no ICMP type/code read", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMPV6, .sport = 128, .dport = 3, .payload = 8}, IPPROTO_ICMPV6, NONE, NONE, 0},
		{"protocol 1 over IPv6: no ICMP type/code read", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ICMP, .sport = 8, .dport = 1, .payload = 8}, IPPROTO_ICMP, NONE, NONE, 0},
		{"IPv4 AH + UDP: AH stepped over as on IPv6", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 500, .dport = 4500, .ext = {IPPROTO_AH}, .next = 1, .payload = 20}, IPPROTO_UDP, 500, 4500, 0},
		{"IPv4 AH + ICMP echo request: type 8", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_ICMP, .sport = 8, .ext = {IPPROTO_AH}, .next = 1, .payload = 56}, IPPROTO_ICMP, 8, 0, 0},
		{"IPv4 options + AH + AH + TCP", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP, .sport = 179, .dport = 40001, .tcp_flags = 0x02, .ip_opts = 8, .ext = {IPPROTO_AH, IPPROTO_AH}, .next = 2}, IPPROTO_TCP, 179, 40001, 0x02},
		{"IPv6 AH + ICMPv6 echo request: type 128", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_ICMPV6, .sport = 128, .ext = {IPPROTO_AH}, .next = 1, .payload = 56}, IPPROTO_ICMPV6, 128, 0, 0},
		{"IPv4 later fragment of an AH packet: protocol 51", {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .ext = {IPPROTO_AH}, .next = 1, .frag = FRAG_LATER, .payload = 200}, IPPROTO_AH, 0, 0, 0},
		{"IPv6 later fragment of an AH packet: protocol 51", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 1, .dport = 2, .ext = {IPPROTO_FRAGMENT, IPPROTO_AH}, .next = 2, .frag = FRAG_LATER, .payload = 200}, IPPROTO_AH, 0, 0, 0},
		{"IPv6 3 x 800-byte destination options, UDP at byte 2440: followed", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 33, .dport = 44, .ext = {60, 60, 60}, .next = 3, .ext_size = 800, .payload = 10}, IPPROTO_UDP, 33, 44, 0},
		{"IPv6 8 x 416-byte headers, TCP at byte 3368: followed", {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_TCP, .sport = 80, .dport = 8080, .tcp_flags = 0x10, .ext = {0, 60, 43, 60, 60, 60, 60, 60}, .next = 8, .ext_size = 416}, IPPROTO_TCP, 80, 8080, 0x10},
	};
#undef NONE
	char name[200];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_spec s = cases[i].s;
		static uint8_t buf[PKT_MAX];
		struct pkt_layout lay;
		size_t len;

		s.l2 = l2;
		len = pkt_build(&s, buf, &lay);
		struct expect e = {cases[i].proto, cases[i].sport, cases[i].dport, 1, len - lay.l3,
				   cases[i].flags};
		name_case(name, sizeof(name), cases[i].name, l2);
		result(name, check_flow(&s, l2, DIR_INGRESS, 1, 0, 0, &e));
	}

	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	size_t len;
	struct pkt_spec ah9 = {.l2 = l2, .ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
			       .sport = 1, .dport = 2, .ext = {51, 51, 51, 51, 51, 51, 51, 51, 51},
			       .next = 9};
	len = pkt_build(&ah9, buf, &lay);
	name_case(name, sizeof(name), "IPv4 chain of 9 AH headers -> ext_limit", l2);
	result(name, check_fail(l2, buf, len, CNT_EXT_LIMIT));
	struct pkt_spec ah = {.l2 = l2, .ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
			      .sport = 1, .dport = 2, .ext = {IPPROTO_AH}, .next = 1, .payload = 40};
	len = pkt_build(&ah, buf, &lay);
	buf[lay.l3 + 21] = 20; /* AH of 88 bytes in a 92-byte IP packet, 16 bytes of padding */
	name_case(name, sizeof(name), "IPv4 AH past the IP length, within the frame -> bad_len", l2);
	result(name, check_fail(l2, buf, len + 16, CNT_BAD_LEN));
	len = pkt_build(&ah, buf, &lay);
	name_case(name, sizeof(name), "IPv4 AH cut inside -> truncated", l2);
	result(name, check_fail(l2, buf, lay.l3 + 24, CNT_TRUNCATED));
}

static void vlans(void)
{
	struct pkt_spec q = {.l2 = 1, .vlans = 1, .ipv = 4, .src = V4A, .dst = V4B,
			     .proto = IPPROTO_UDP, .sport = 67, .dport = 68, .payload = 300};
	struct pkt_spec qq = {.l2 = 1, .vlans = 2, .ipv = 6, .src = V6A, .dst = V6B,
			      .proto = IPPROTO_TCP, .sport = 179, .dport = 33000, .tcp_flags = 0x18,
			      .payload = 19};
	struct expect e1 = {IPPROTO_UDP, 67, 68, 1, 20 + 8 + 300, 0};
	struct expect e2 = {IPPROTO_TCP, 179, 33000, 1, 40 + 20 + 19, 0x18};

	result("L2 entry: 802.1Q VLAN IPv4 UDP", check_flow(&q, true, DIR_INGRESS, 1, 0, 0, &e1));
	result("L2 entry: QinQ (802.1ad + 802.1Q) IPv6 TCP",
	       check_flow(&qq, true, DIR_EGRESS, 1, 0, 0, &e2));
}

/* Several distinct flows in one harvest, and a full map counting what did not fit. */
static void map_full(void)
{
	struct datapath small;
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	__u64 b[CNT_ALL] = {0}, d[CNT_ALL];
	bool ok = true;

	if (dp_open(&small, 3, true)) {
		failf("cannot open a 3-flow datapath");
		result("map full: 3-entry map, 5 flows -> 3 flows + map_full 2", false);
		return;
	}
	for (int i = 0; i < 5 && ok; i++) {
		struct pkt_spec s = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
				     .sport = 1000 + i, .dport = 53, .payload = 10};
		size_t len = pkt_build(&s, buf, &lay);
		ok = run(&small, false, DIR_INGRESS, buf, len, 0, 0) &&
		     run(&small, false, DIR_INGRESS, buf, len, 0, 0);
	}
	if (ok)
		ok = harvest(&small, b, d);
	if (ok && (nflows != 3 || d[CNT_NO_MAP] || d[CNT_MAP_FULL] != 4))
		ok = failf("%d flows, map_full %llu; want 3 flows and 4 (2 packets x 2 flows)",
			   nflows, (unsigned long long)d[CNT_MAP_FULL]);
	for (int i = 0; ok && i < nflows; i++)
		if (flows[i].st.packets != 2)
			ok = failf("flow %d has %llu packets, want 2", i,
				   (unsigned long long)flows[i].st.packets);
	/* after a harvest the fresh map has room again */
	if (ok) {
		struct pkt_spec s = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
				     .sport = 999, .dport = 53};
		size_t len = pkt_build(&s, buf, &lay);
		ok = run(&small, false, DIR_INGRESS, buf, len, 0, 0) && harvest(&small, b, d);
		if (ok && (nflows != 1 || d[CNT_MAP_FULL]))
			ok = failf("after harvest: %d flows, map_full %llu", nflows,
				   (unsigned long long)d[CNT_MAP_FULL]);
	}
	dp_close(&small);
	result("map full: 3-entry map, 5 flows x 2 packets -> 3 flows + map_full 4, room again "
	       "after harvest",
	       ok);
}

/* The key the harvest must give for spec s sent on the L3 entry in direction dir. */
static void want_key(const struct pkt_spec *s, int dir, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = LO_IFINDEX;
	k->dir = dir;
	k->ip_version = s->ipv;
	k->proto = s->proto;
	pkt_addr(s->src, k->src);
	pkt_addr(s->dst, k->dst);
	k->sport = s->sport;
	k->dport = s->dport;
}

/* packets of a key in its family's map now (summed over CPUs), looked up in the other
 * family's map when other: 0 if absent */
static __u64 map_packets(struct datapath *d, const struct flow_key *k, bool other)
{
	struct flow_stats v[d->ncpus];
	struct flow_key4 k4;
	bool v4 = (k->ip_version == 4) != other;
	__u64 n = 0;

	if (v4)
		dp_key_to4(k, &k4);
	if (bpf_map_lookup_elem(dp_flow_map(d, v4), v4 ? (void *)&k4 : (void *)k, v))
		return 0;
	for (int c = 0; c < d->ncpus; c++)
		n += v[c].packets;
	return n;
}

static const struct got *find_flow(const struct flow_key *k)
{
	for (int i = 0; i < nflows && i < 64; i++)
		if (!memcmp(&flows[i].key, k, sizeof(*k)))
			return &flows[i];
	return NULL;
}

/* An IPv4 and an IPv6 flow on one interface: each in its family's map (IPv4 under the
 * 20-byte key), both out of the harvest with the struct flow_key of docs/json.md. */
static bool families(void)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec s4 = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_TCP,
			      .sport = 40001, .dport = 443, .tcp_flags = 0x02, .payload = 10};
	struct pkt_spec s6 = {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
			      .sport = 40002, .dport = 443, .payload = 30};
	struct flow_key k4, k6;
	const struct got *g4, *g6;
	__u64 d[CNT_ALL];
	size_t len;

	want_key(&s4, DIR_EGRESS, &k4);
	want_key(&s6, DIR_EGRESS, &k6);
	len = pkt_build(&s4, buf, &lay);
	for (int i = 0; i < 3; i++)
		if (!run(&dp, false, DIR_EGRESS, buf, len, 0, 0))
			return false;
	len = pkt_build(&s6, buf, &lay);
	for (int i = 0; i < 2; i++)
		if (!run(&dp, false, DIR_EGRESS, buf, len, 0, 0))
			return false;
	if (map_packets(&dp, &k4, false) != 3 || map_packets(&dp, &k4, true))
		return failf("IPv4 flow: %llu packets in the IPv4 map, %llu in the IPv6 map; want "
			     "3 and 0",
			     (unsigned long long)map_packets(&dp, &k4, false),
			     (unsigned long long)map_packets(&dp, &k4, true));
	if (map_packets(&dp, &k6, false) != 2 || map_packets(&dp, &k6, true))
		return failf("IPv6 flow: %llu packets in the IPv6 map, %llu in the IPv4 map; want "
			     "2 and 0",
			     (unsigned long long)map_packets(&dp, &k6, false),
			     (unsigned long long)map_packets(&dp, &k6, true));
	if (!harvest(&dp, base, d))
		return false;
	for (int c = 0; c < CNT_PKT_MAX; c++)
		if (d[c])
			return failf("counter %s = %llu, want 0", counter_names[c],
				     (unsigned long long)d[c]);
	g4 = find_flow(&k4);
	g6 = find_flow(&k6);
	if (nflows != 2 || !g4 || !g6)
		return failf("%d flows, IPv4 key %s, IPv6 key %s; want 2, both found", nflows,
			     g4 ? "found" : "missing", g6 ? "found" : "missing");
	if (g4->st.packets != 3 || g4->st.bytes != 3 * (20 + 20 + 10) || g4->st.tcp_flags != 0x02)
		return failf("IPv4: %llu packets %llu bytes flags 0x%x, want 3, 150, 0x2",
			     (unsigned long long)g4->st.packets, (unsigned long long)g4->st.bytes,
			     g4->st.tcp_flags);
	if (g6->st.packets != 2 || g6->st.bytes != 2 * (40 + 8 + 30))
		return failf("IPv6: %llu packets %llu bytes, want 2 and 156",
			     (unsigned long long)g6->st.packets, (unsigned long long)g6->st.bytes);
	if (!g4->st.first_ns || !g6->st.first_ns || g4->st.first_ns >= g6->st.first_ns)
		return failf("first_ns IPv4 %llu, IPv6 %llu: want both set, IPv4's first",
			     (unsigned long long)g4->st.first_ns,
			     (unsigned long long)g6->st.first_ns);
	return true;
}

/* A harvest swaps only the maps that hold flows: an empty one stays (no RCU wait). */
static bool empty_stays(void)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec s4 = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
			      .sport = 40003, .dport = 443, .payload = 10};
	int a4, a6;
	__u64 d[CNT_ALL];
	size_t len = pkt_build(&s4, buf, &lay);

	if (!harvest(&dp, base, d))
		return false;
	a4 = dp.v4.active;
	a6 = dp.v6.active;
	if (!run(&dp, false, DIR_EGRESS, buf, len, 0, 0) || !harvest(&dp, base, d))
		return false;
	if (nflows != 1 || flows[0].st.packets != 1)
		return failf("%d flows, want 1 of 1 packet", nflows);
	if (dp.v4.active == a4 || dp.v6.active != a6)
		return failf("IPv4 map %s, IPv6 map %s; want the IPv4 one swapped, the IPv6 one "
			     "kept",
			     dp.v4.active == a4 ? "kept" : "swapped",
			     dp.v6.active == a6 ? "kept" : "swapped");
	if (!harvest(&dp, base, d))
		return false;
	if (nflows || dp.v4.active == a4)
		return failf("empty harvest: %d flows, IPv4 map %s; want none, kept", nflows,
			     dp.v4.active == a4 ? "swapped back" : "kept");
	return true;
}

struct taken_seen {
	int a4, a6; /* the active maps before the harvest */
	bool called, swapped, before_flows;
};

static void on_taken(void *ctx)
{
	struct taken_seen *t = ctx;

	t->called = true;
	t->swapped = dp.v4.active != t->a4 && dp.v6.active != t->a6;
	t->before_flows = nflows == 0;
}

/* taken() comes after both families' swaps and before any flow of the drain: the names
 * ring is read when every drained packet's event is in it, and before its flow. */
static bool taken_order(void)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec s4 = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
			      .sport = 40007, .dport = 443, .payload = 10};
	struct pkt_spec s6 = {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
			      .sport = 40008, .dport = 443, .payload = 10};
	struct taken_seen t = {dp.v4.active, dp.v6.active, false, false, false};
	size_t len;
	long n;

	len = pkt_build(&s4, buf, &lay);
	if (!run(&dp, false, DIR_EGRESS, buf, len, 0, 0))
		return false;
	len = pkt_build(&s6, buf, &lay);
	if (!run(&dp, false, DIR_EGRESS, buf, len, 0, 0))
		return false;
	nflows = 0;
	n = dp_harvest(&dp, collect, on_taken, &t);
	if (n != 2 || nflows != 2)
		return failf("harvest: %ld flows, %d delivered; want 2", n, nflows);
	if (!t.called || !t.swapped || !t.before_flows)
		return failf("taken: called %d, after both swaps %d, before the flows %d; want 1 1 1",
			     t.called, t.swapped, t.before_flows);
	return true;
}

/* A flow put into a family's spare map (where a failed drain leaves flows) */
static bool put_in_spare(struct datapath *d, const struct flow_key *k)
{
	struct flow_stats v[d->ncpus];

	memset(v, 0, sizeof(v));
	v[0].packets = 5;
	v[0].bytes = 500;
	v[0].first_ns = v[0].last_ns = 1;
	if (bpf_map_update_elem(d->v6.fd[!d->v6.active], k, v, BPF_NOEXIST))
		return failf("cannot put a flow in the spare IPv6 map: %s", strerror(errno));
	return true;
}

/* Flows a failed drain left in the spare are not stranded while the family is idle: the
 * empty active map is swapped anyway, and they come out the harvest after. */
static bool dirty_spare(void)
{
	struct pkt_spec s = {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
			     .sport = 40004, .dport = 443};
	struct flow_key k;
	__u64 d[CNT_ALL];
	int a6;

	want_key(&s, DIR_INGRESS, &k);
	if (!harvest(&dp, base, d) || !put_in_spare(&dp, &k))
		return false;
	dp.v6.dirty = true; /* as drain() leaves it after a failed drain */
	a6 = dp.v6.active;
	if (!harvest(&dp, base, d))
		return false;
	if (dp.v6.active == a6 || dp.v6.dirty)
		return failf("IPv6 map %s, dirty %d; want swapped, 0",
			     dp.v6.active == a6 ? "kept" : "swapped", dp.v6.dirty);
	if (!harvest(&dp, base, d))
		return false;
	if (nflows != 1 || find_flow(&k) == NULL || flows[0].st.packets != 5)
		return failf("%d flows; want the spare's one flow of 5 packets", nflows);
	return true;
}

/* After dp_quiesce() (every hook detached), a harvest reads the maps in place, the
 * active one and a spare a failed drain left, and swaps nothing. */
static bool quiesce(void)
{
	struct datapath q;
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec s4 = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP,
			      .sport = 40005, .dport = 443, .payload = 10};
	struct pkt_spec s6 = {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
			      .sport = 40006, .dport = 443};
	__u64 b[CNT_ALL] = {0}, d[CNT_ALL];
	struct flow_key k4, k6;
	size_t len = pkt_build(&s4, buf, &lay);
	int a4, a6;
	bool ok;

	if (dp_open(&q, 64, false))
		return failf("cannot open a datapath");
	want_key(&s4, DIR_EGRESS, &k4);
	want_key(&s6, DIR_INGRESS, &k6);
	ok = run(&q, false, DIR_EGRESS, buf, len, 0, 0) && put_in_spare(&q, &k6);
	q.v6.dirty = true;
	a4 = q.v4.active;
	a6 = q.v6.active;
	if (ok && dp_quiesce(&q))
		ok = failf("dp_quiesce failed");
	if (ok)
		ok = harvest(&q, b, d);
	if (ok && (q.v4.active != a4 || q.v6.active != a6))
		ok = failf("a map was swapped after dp_quiesce");
	if (ok && (nflows != 2 || !find_flow(&k4) || !find_flow(&k6)))
		ok = failf("%d flows; want the IPv4 packet's and the spare's", nflows);
	if (ok)
		ok = run(&q, false, DIR_EGRESS, buf, len, 0, 0) && harvest(&q, b, d);
	if (ok && (nflows != 1 || flows[0].st.packets != 1))
		ok = failf("a run after it: %d flows; want 1 of 1 packet, read in place", nflows);
	dp_close(&q);
	return ok;
}

/* A full IPv4 map counts map_full; IPv6 flows have a map of their own and still land. */
static void map_full_v4(void)
{
	struct datapath small;
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	__u64 b[CNT_ALL] = {0}, d[CNT_ALL];
	struct flow_key k;
	bool ok = true;

	if (dp_open(&small, 2, false)) {
		failf("cannot open a 2-flow datapath");
		result("map full: IPv4 map full, IPv6 flows still counted", false);
		return;
	}
	for (int i = 0; i < 6 && ok; i++) {
		struct pkt_spec s = {.ipv = i < 4 ? 4 : 6,
				     .src = i < 4 ? V4A : V6A,
				     .dst = i < 4 ? V4B : V6B,
				     .proto = IPPROTO_UDP,
				     .sport = 2000 + i,
				     .dport = 443,
				     .payload = 10};
		size_t len = pkt_build(&s, buf, &lay);

		ok = run(&small, false, DIR_INGRESS, buf, len, 0, 0) &&
		     run(&small, false, DIR_INGRESS, buf, len, 0, 0) &&
		     run(&small, false, DIR_INGRESS, buf, len, 0, 0);
	}
	if (ok)
		ok = harvest(&small, b, d);
	if (ok && (nflows != 4 || d[CNT_NO_MAP] || d[CNT_MAP_FULL] != 6))
		ok = failf("%d flows, map_full %llu; want 4 flows (2 IPv4, 2 IPv6) and 6 (3 "
			   "packets x 2 IPv4 flows)",
			   nflows, (unsigned long long)d[CNT_MAP_FULL]);
	for (int i = 4; ok && i < 6; i++) {
		struct pkt_spec s = {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP,
				     .sport = 2000 + i, .dport = 443};
		const struct got *g;

		want_key(&s, DIR_INGRESS, &k);
		g = find_flow(&k);
		if (!g || g->st.packets != 3)
			ok = failf("IPv6 flow %d: %llu packets, want 3", i,
				   g ? (unsigned long long)g->st.packets : 0ull);
	}
	for (int i = 0; ok && i < nflows; i++)
		if (flows[i].key.ip_version == 4 && flows[i].st.packets != 3)
			ok = failf("IPv4 flow %u has %llu packets, want 3", flows[i].key.sport,
				   (unsigned long long)flows[i].st.packets);
	dp_close(&small);
	result("map full: 2-entry maps, 4 IPv4 + 2 IPv6 flows x 3 packets -> 4 flows + map_full "
	       "6, the IPv6 ones all counted",
	       ok);
}

/* Harvesting while packets keep arriving loses nothing and counts nothing twice. */
struct runner {
	const uint8_t *pkt;
	size_t len;
	int rounds, repeat;
	bool ok;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->pkt, .data_size_in = r->len,
		    .repeat = r->repeat);

	r->ok = true;
	for (int i = 0; i < r->rounds; i++)
		if (bpf_prog_test_run_opts(dp_prog_fd(&dp, false, DIR_EGRESS), &o))
			r->ok = false;
	return NULL;
}

static __u64 family_packets[2]; /* harvested, per family: [1] IPv4 */

static void collect_family(const struct flow_key *k, const struct flow_stats *st, void *ctx)
{
	collect(k, st, ctx);
	family_packets[k->ip_version == 4] += st->packets;
}

/* One IPv4 and one IPv6 flow, each from its own thread, harvested continuously. */
static void concurrent_harvest(void)
{
	static uint8_t buf6[PKT_MAX], buf4[PKT_MAX];
	struct pkt_layout lay;
	struct pkt_spec s6 = {.ipv = 6, .src = V6A, .dst = V6B, .proto = IPPROTO_UDP, .sport = 1,
			      .dport = 2, .payload = 100};
	struct pkt_spec s4 = {.ipv = 4, .src = V4A, .dst = V4B, .proto = IPPROTO_UDP, .sport = 1,
			      .dport = 2, .payload = 100};
	struct runner r6 = {buf6, 0, 10000, 100, false}, r4 = {buf4, 0, 10000, 100, false};
	__u64 d[CNT_ALL], want = (__u64)r6.rounds * r6.repeat;
	pthread_t t6, t4;
	int harvests = 0;
	bool ok = true, run6 = true, run4 = true;
	long n;

	r6.len = pkt_build(&s6, buf6, &lay);
	r4.len = pkt_build(&s4, buf4, &lay);
	total_packets = 0;
	family_packets[0] = family_packets[1] = 0;
	pthread_create(&t6, NULL, run_thread, &r6);
	pthread_create(&t4, NULL, run_thread, &r4);
	while (run6 || run4) {
		if (run6 && pthread_tryjoin_np(t6, NULL) != EBUSY)
			run6 = false;
		if (run4 && pthread_tryjoin_np(t4, NULL) != EBUSY)
			run4 = false;
		nflows = 0;
		n = dp_harvest(&dp, collect_family, NULL, NULL);
		if (n < 0)
			ok = failf("harvest: %s", strerror(-n));
		harvests++;
	}
	nflows = 0;
	if (dp_harvest(&dp, collect_family, NULL, NULL) < 0)
		ok = failf("last harvest failed");
	if (dp_counters(&dp, d))
		ok = failf("counters: %s", strerror(errno));
	for (int c = 0; ok && c < CNT_PKT_MAX; c++)
		if (d[c] != base[c])
			ok = failf("counter %s grew by %llu", counter_names[c],
				   (unsigned long long)(d[c] - base[c]));
	memcpy(base, d, sizeof(base));
	if (ok && (!r6.ok || !r4.ok))
		ok = failf("BPF_PROG_TEST_RUN failed");
	else if (ok && (family_packets[0] != want || family_packets[1] != want))
		ok = failf("IPv4 %llu, IPv6 %llu packets harvested over %d harvests, want %llu "
			   "each",
			   (unsigned long long)family_packets[1],
			   (unsigned long long)family_packets[0], harvests,
			   (unsigned long long)want);
	else if (ok)
		printf("# %llu packets, %d harvests while running\n",
		       (unsigned long long)total_packets, harvests);
	result("lossless harvest: 1000000 IPv4 and 1000000 IPv6 packets from two threads while "
	       "harvesting continuously, every one counted once",
	       ok);
}

/* Names capture: what reaches the ring buffer. */
static struct name_event got_ev[8];
static int ngot;

static int on_event(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (ngot < 8 && size >= NAME_EVENT_HDR)
		memcpy(&got_ev[ngot], data, size < sizeof(got_ev[0]) ? size : sizeof(got_ev[0]));
	ngot++;
	return 0;
}

static int send_dir(struct pkt_spec *sp, bool l2, int dir, int n, __u32 seq0, __u32 step)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	size_t len;

	sp->l2 = l2;
	len = pkt_build(sp, buf, &lay);
	for (int i = 0; i < n; i++) {
		__u32 seq = seq0 + i * step;

		if (sp->proto == IPPROTO_TCP) {
			buf[lay.l4 + 4] = seq >> 24;
			buf[lay.l4 + 5] = seq >> 16;
			buf[lay.l4 + 6] = seq >> 8;
			buf[lay.l4 + 7] = seq;
		}
		if (!run(&dp, l2, dir, buf, len, 0, 0))
			return -1;
	}
	return 0;
}

static int send_n(struct pkt_spec *sp, bool l2, int n, __u32 seq0, __u32 step)
{
	return send_dir(sp, l2, DIR_INGRESS, n, seq0, step);
}

static void names_capture(void)
{
	struct ring_buffer *rb = ring_buffer__new(dp_name_ring_fd(&dp), on_event, NULL, NULL);
	struct pkt_spec tcp = {.ipv = 4, .src = "192.0.2.77", .dst = "198.51.100.77",
			       .proto = IPPROTO_TCP, .sport = 61001, .dport = 8443,
			       .tcp_flags = 0x18, .payload = 100};
	struct pkt_spec ack = tcp, dns = {.ipv = 6, .src = "2001:db8::77", .dst = "2001:db8::53",
					  .proto = IPPROTO_UDP, .sport = 61002, .dport = 53,
					  .payload = 40};
	__u64 b[CNT_ALL], c[CNT_ALL], d[CNT_ALL];
	bool ok;

	if (!rb) {
		result("names capture: ring buffer", false);
		return;
	}
	ring_buffer__consume(rb); /* what the tests before left */
	dp_counters(&dp, b);
	ack.payload = 0;
	ack.tcp_flags = 0x10;
	for (int l2 = 0; l2 <= 1; l2++) {
		char name[160];

		tcp.sport = 61001 + l2 * 10;
		ack.sport = tcp.sport;
		dns.sport = 61002 + l2 * 10;
		ngot = 0;
		ok = !send_n(&ack, l2, 2, 1, 0) && !send_n(&tcp, l2, 5, 1000, 100);
		ring_buffer__consume(rb);
		ok = ok && ngot == 3;
		for (int i = 0; ok && i < 3; i++) {
			const struct name_event *e = &got_ev[i];

			ok = e->key.proto == IPPROTO_TCP && e->key.sport == tcp.sport &&
			     e->key.dport == 8443 && e->key.dir == DIR_INGRESS &&
			     e->seq == 1000 + 100u * i && e->len == 100 && e->pay_len == 100 &&
			     e->data[0] == 0 && e->data[99] == 99;
		}
		snprintf(name, sizeof(name),
			 "names capture (%s): 2 ACKs and 5 TCP packets with 100 bytes -> the 3 "
			 "first payloads, with key, sequence and bytes (got %d)",
			 l2 ? "L2" : "L3", ngot);
		result(name, ok);

		ngot = 0;
		ok = !send_dir(&dns, l2, DIR_EGRESS, 5, 0, 0);
		ring_buffer__consume(rb);
		snprintf(name, sizeof(name),
			 "names capture (%s): every packet of port 53, on egress (5 of 5, got %d)",
			 l2 ? "L2" : "L3", ngot);
		result(name, ok && ngot == 5 && got_ev[4].len == 40 &&
				 got_ev[4].key.ip_version == 6 && got_ev[4].key.dir == DIR_EGRESS);
	}
	/* across a harvest: the flow's state is in the LRU map, nothing more to capture */
	harvest(&dp, base, d);
	ngot = 0;
	tcp.sport = 61001;
	ok = !send_n(&tcp, false, 2, 5000, 100);
	ring_buffer__consume(rb);
	result("names capture: a flow that gave its 3 payloads gives none after a harvest",
	       ok && ngot == 0);
	/* user space says done: a fresh flow gives nothing */
	tcp.sport = 61003;
	{
		struct flow_key k = {.ifindex = LO_IFINDEX, .dir = DIR_INGRESS, .ip_version = 4,
				     .proto = IPPROTO_TCP, .sport = 61003, .dport = 8443};

		pkt_addr(tcp.src, k.src);
		pkt_addr(tcp.dst, k.dst);
		dp_names_done(&dp, &k, 1);
	}
	ngot = 0;
	ok = !send_n(&tcp, false, 2, 1, 100);
	ring_buffer__consume(rb);
	result("names capture: a flow user space marked done gives nothing", ok && ngot == 0);

	/* the ring full: counted in name_drops, every packet still in its flow */
	harvest(&dp, base, d);
	dp_counters(&dp, b);
	ngot = 0;
	tcp.payload = 1400;
	ok = true;
	total_packets = 0;
	for (int i = 0; ok && i < 4000; i++) {
		tcp.sport = 1000 + i;
		ok = !send_n(&tcp, false, 1, 1, 0);
		if (i % 1000 == 999) /* the flow map holds 1024 */
			harvest(&dp, base, d);
	}
	dp_counters(&dp, c);
	ring_buffer__consume(rb);
	{
		char name[200];
		__u64 drops = c[CNT_NAME_DROPS] - b[CNT_NAME_DROPS];

		snprintf(name, sizeof(name),
			 "names capture: 4000 new flows into a full ring: events %d + name_drops "
			 "%llu == 4000, drops > 0, 4000 packets in flows (%llu)",
			 ngot, (unsigned long long)drops, (unsigned long long)total_packets);
		result(name, ok && ngot + drops == 4000 && drops > 0 && total_packets == 4000);
	}
	ring_buffer__free(rb);
}

/* --names off: no ring to read, no capture. */
static void names_off(void)
{
	struct datapath off;
	struct pkt_spec tcp = {.ipv = 4, .src = "192.0.2.78", .dst = "198.51.100.78",
			       .proto = IPPROTO_TCP, .sport = 61100, .dport = 443,
			       .tcp_flags = 0x18, .payload = 100};
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	size_t len = pkt_build(&tcp, buf, &lay);
	int fd;
	bool ok;

	if (dp_open(&off, 1024, false)) {
		result("names off: load", false);
		return;
	}
	ok = dp_name_ring_fd(&off) == -1 && run(&off, false, DIR_INGRESS, buf, len, 0, 0);
	/* the ring exists at its smallest, and nothing was written to it */
	fd = bpf_map__fd(off.skel->maps.name_events);
	{
		struct ring_buffer *rb = ring_buffer__new(fd, on_event, NULL, NULL);

		ngot = 0;
		if (rb)
			ring_buffer__consume(rb);
		ring_buffer__free(rb);
	}
	result("names off: no ring buffer for user space, no event written", ok && ngot == 0);
	dp_close(&off);
}

/* New flows' first_ns: in the order the flows were created, all distinct (records tell
 * a connection's initiator by the earlier one: a request and its answer within one
 * millisecond must not tie), and at most a tick (1 ms; allow 50 for a timer running late
 * on a loaded machine) before the time they were sent. */
static bool stamps_in_order(void)
{
	static uint8_t buf[PKT_MAX];
	struct pkt_layout lay;
	struct timespec ts;
	__u64 delta[CNT_ALL], t0, t1, first[4] = {0};

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	for (int i = 0; i < 4; i++) {
		/* a request, its answer, and two more flows, back to back */
		struct pkt_spec s = {.ipv = 4, .src = i % 2 ? V4B : V4A, .dst = i % 2 ? V4A : V4B,
				     .proto = IPPROTO_UDP, .sport = i % 2 ? 53 : 40000 + i,
				     .dport = i % 2 ? 40000 + i - 1 : 53, .payload = 20};
		size_t len = pkt_build(&s, buf, &lay);

		if (!run(&dp, false, i % 2 ? DIR_INGRESS : DIR_EGRESS, buf, len, 0, 0))
			return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	if (!harvest(&dp, base, delta))
		return false;
	if (nflows != 4)
		return failf("%d flows, want 4", nflows);
	for (int f = 0; f < 4; f++) {
		const struct flow_key *k = &flows[f].key;
		int i = k->sport == 53 ? k->dport - 40000 + 1 : k->sport - 40000;

		if (i < 0 || i > 3 || first[i])
			return failf("unexpected flow sport %u dport %u", k->sport, k->dport);
		first[i] = flows[f].st.first_ns;
	}
	for (int i = 0; i < 4; i++) {
		if (first[i] + 50000000 < t0 || first[i] > t1)
			return failf("flow %d: first_ns %llu outside %llu - 50 ms .. %llu", i,
				     (unsigned long long)first[i], (unsigned long long)t0,
				     (unsigned long long)t1);
		if (i && first[i] <= first[i - 1])
			return failf("flow %d: first_ns %llu not after flow %d's %llu", i,
				     (unsigned long long)first[i], i - 1,
				     (unsigned long long)first[i - 1]);
	}
	return true;
}

int main(void)
{
	__u64 d[CNT_ALL];

	if (dp_open(&dp, 1024, true)) {
		printf("not ok - load tunflow's BPF programs\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	harvest(&dp, base, d);
	for (int l2 = 0; l2 <= 1; l2++) {
		well_formed(l2);
		malformed(l2);
		key_semantics(l2);
	}
	vlans();
	result("first_ns: 4 new flows: distinct, in the order created, at most a tick early",
	       stamps_in_order());
	map_full();
	result("families: an IPv4 and an IPv6 flow on one interface, each in its own map, "
	       "both harvested with their keys",
	       families());
	result("harvest: only a map with flows is swapped, an empty one stays", empty_stays());
	result("harvest: taken() after both swaps, before the first flow", taken_order());
	result("harvest: flows a failed drain left in the spare come out while the family is "
	       "idle",
	       dirty_spare());
	result("harvest: after dp_quiesce the maps are read in place, a dirty spare too",
	       quiesce());
	map_full_v4();
	concurrent_harvest();
	names_capture();
	names_off();
	dp_close(&dp);
	printf("# bpf unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

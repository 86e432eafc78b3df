// SPDX-License-Identifier: GPL-2.0-only
/* tunflow's own program, built once per ablation (bench datapath's "Where the hot path's
 * time goes"): the Makefile compiles this file several times, each with one switch, and
 * each build is src/bpf/tunflow.bpf.c with that one piece taken out:
 *   (none)                       the program as shipped
 *   TUNFLOW_ABLATE_DIRECT        the flow map is a plain per-CPU hash the program names,
 *                                not the inner map of the one-slot map-of-maps
 *   TUNFLOW_ABLATE_TWO_MAPS      no map-of-maps either, but two such maps and a global
 *                                that picks one: a lossless swap without the outer lookup
 *   TUNFLOW_ABLATE_NO_GSO        no read of skb->gso_size (a hook in tunflow.bpf.c)
 *   TUNFLOW_ABLATE_NO_STAMP      no last_ns and tcp_flags stores on a known flow, so no
 *                                clock load either (a hook in tunflow.bpf.c)
 *   TUNFLOW_ABLATE_FIXED_PARSE   parse_l3/parse_l2 replaced by a parser of fixed offsets
 *                                (no options, no extension headers, no length checks),
 *                                as bench/plain.bpf.c reads a packet
 * These builds count nonsense for some packets (the fixed parser reads an IPv6 packet's
 * extension header as its ports); they exist only to be timed. */
#include "../src/bpf/parse.bpf.h"

#if defined(TUNFLOW_ABLATE_DIRECT) || defined(TUNFLOW_ABLATE_TWO_MAPS)
#define ABLATE_MAP(name, key_bytes)                                                                \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                            \
		__uint(key_size, key_bytes);                                                       \
		__uint(value_size, sizeof(struct flow_stats));                                     \
		__uint(max_entries, 1024);                                                         \
	} name SEC(".maps")

/* In place of each outer map's inner map: flow_maps (struct flow_key) and, where the
 * program keeps IPv4 flows apart under a 20-byte key, flow_maps4. */
ABLATE_MAP(ablate_flows, sizeof(struct flow_key));
ABLATE_MAP(ablate_flows4, 20);

/* The map a lookup in an outer map stands for, told by the outer map's name (clang
 * folds the comparisons of literals), or NULL for any other lookup. */
#define ABLATE_OUTER(map)                                                                          \
	(!__builtin_strcmp(#map, "&flow_maps")    ? (void *)&ablate_flows                          \
	 : !__builtin_strcmp(#map, "&flow_maps4") ? (void *)&ablate_flows4                         \
	                                          : NULL)
#endif

#ifdef TUNFLOW_ABLATE_DIRECT
/* A lookup in an outer map gives its stand-in without a lookup; every other lookup is
 * the helper's, and a lookup in a stand-in is inlined as in any map the program names. */
#define bpf_map_lookup_elem(map, key)                                                              \
	(ABLATE_OUTER(map) ? ABLATE_OUTER(map) : bpf_map_lookup_elem(map, key))
#endif

#ifdef TUNFLOW_ABLATE_TWO_MAPS
/* The swap without a map-of-maps: two flow maps the program names per outer map, the
 * active one chosen by a global that user space would flip before waiting for an RCU
 * grace period (an update of any map-of-maps waits for one). The outer lookup gives the
 * first stand-in (only to be tested against NULL and passed on); a lookup in it is one
 * of two call sites, each with its map known to the verifier, so both are inlined.
 * Inserts all go to the first: this build is only timed on a hot flow. */
ABLATE_MAP(ablate_flows_b, sizeof(struct flow_key));
ABLATE_MAP(ablate_flows4_b, 20);
volatile __u32 ablate_active;

/* The asm statements (no-op moves: one, or two) differ, so clang cannot merge the two
 * calls into one on a chosen map (the verifier would then call the helper instead of
 * inlining the lookup). */
static __always_inline void *ablate_lookup(void *a, void *b, void *key)
{
	void *r;

	if (ablate_active) {
		r = bpf_map_lookup_elem(b, key);
		asm volatile("%0 = %0\n%0 = %0" : "+r"(r));
	} else {
		r = bpf_map_lookup_elem(a, key);
		asm volatile("%0 = %0" : "+r"(r));
	}
	return r;
}

/* flows, the outer lookup's answer, is a stand-in known at compile time */
#define bpf_map_lookup_elem(map, key)                                                              \
	(ABLATE_OUTER(map) ? ABLATE_OUTER(map)                                                     \
	 : (void *)(map) == (void *)&ablate_flows                                                  \
	     ? ablate_lookup(&ablate_flows, &ablate_flows_b, key)                                  \
	 : (void *)(map) == (void *)&ablate_flows4                                                 \
	     ? ablate_lookup(&ablate_flows4, &ablate_flows4_b, key)                                \
	     : bpf_map_lookup_elem(map, key))
#endif

#ifdef TUNFLOW_ABLATE_FIXED_PARSE
/* IPv4 without options or IPv6 without extension headers, TCP or UDP ports right after:
 * what a hand-written counter reads, into tunflow's key and struct pkt. */
static __always_inline int fixed_parse(struct __sk_buff *skb, __u32 off, struct pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *h = data + off, *l4;

	if ((void *)(h + 1) > end)
		return CNT_TRUNCATED;
	if (h[0] >> 4 == 4) {
		struct iphdr *ip = (void *)h;

		l4 = h + 20;
		if ((void *)(l4 + 20) > end)
			return CNT_TRUNCATED;
		p->key.ip_version = 4;
		p->key.proto = ip->protocol;
		map_ipv4(p->key.src, ip->saddr);
		map_ipv4(p->key.dst, ip->daddr);
		p->l3_len = bpf_ntohs(ip->tot_len);
		p->hdr_len = 40;
	} else {
		struct ipv6hdr *ip6 = (void *)h;

		l4 = h + 40;
		if ((void *)(l4 + 20) > end)
			return CNT_TRUNCATED;
		p->key.ip_version = 6;
		p->key.proto = ip6->nexthdr;
		__builtin_memcpy(p->key.src, &ip6->saddr, 16);
		__builtin_memcpy(p->key.dst, &ip6->daddr, 16);
		p->l3_len = 40 + bpf_ntohs(ip6->payload_len);
		p->hdr_len = 60;
	}
	p->key.sport = (__u16)l4[0] << 8 | l4[1];
	p->key.dport = (__u16)l4[2] << 8 | l4[3];
	p->tcp_flags = l4[13];
	return PARSE_OK;
}

/* handle() calls these instead of parse.bpf.h's (already included: its guard keeps
 * tunflow.bpf.c's include from bringing the names back) */
#define parse_l3(skb, off, p, copy) fixed_parse(skb, off, p)
#define parse_l2(skb, p, copy) fixed_parse(skb, ETH_HLEN, p)
#endif

#include "../src/bpf/tunflow.bpf.c"

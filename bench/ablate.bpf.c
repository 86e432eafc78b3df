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
struct ablate_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(key_size, sizeof(struct flow_key));
	__uint(value_size, sizeof(struct flow_stats));
	__uint(max_entries, 1024);
};
struct ablate_map ablate_flows SEC(".maps");
#endif

#ifdef TUNFLOW_ABLATE_DIRECT

/* A lookup in the outer map gives ablate_flows without a lookup; every other lookup is
 * the helper's. Decided by the map's type at compile time: flow_maps is an anonymous
 * struct, so only &flow_maps has its type. */
#define bpf_map_lookup_elem(map, key)                                                              \
	__builtin_choose_expr(__builtin_types_compatible_p(typeof(map), typeof(&flow_maps)),       \
	                      (void *)&ablate_flows, bpf_map_lookup_elem(map, key))
#endif

#ifdef TUNFLOW_ABLATE_TWO_MAPS
/* The swap without a map-of-maps: two flow maps the program names, the active one
 * chosen by a global that user space would flip before waiting for an RCU grace period
 * (an update of any map-of-maps waits for one). The outer lookup gives ablate_flows
 * (only to be tested against NULL and passed on); a lookup in that map is one of two
 * call sites, each with its map known to the verifier, so both are inlined. Inserts all
 * go to ablate_flows: this build is only timed on a hot flow. */
struct ablate_map ablate_flows_b SEC(".maps");
volatile __u32 ablate_active;

/* The asm statements (no-op moves: one, or two) differ, so clang cannot merge the two calls into one on a chosen
 * map (the verifier would then call the helper instead of inlining the lookup). */
static __always_inline void *ablate_lookup(void *key)
{
	void *r;

	if (ablate_active) {
		r = bpf_map_lookup_elem(&ablate_flows_b, key);
		asm volatile("%0 = %0\n%0 = %0" : "+r"(r));
	} else {
		r = bpf_map_lookup_elem(&ablate_flows, key);
		asm volatile("%0 = %0" : "+r"(r));
	}
	return r;
}

#define bpf_map_lookup_elem(map, key)                                                              \
	__builtin_choose_expr(                                                                     \
	    __builtin_types_compatible_p(typeof(map), typeof(&flow_maps)), (void *)&ablate_flows,  \
	    __builtin_choose_expr(__builtin_types_compatible_p(typeof(map), void *),               \
	                          ablate_lookup(key), bpf_map_lookup_elem(map, key)))
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

// SPDX-License-Identifier: GPL-2.0-only
/* The reference for the datapath comparison: a plain per-CPU hash flow counter doing
 * one lookup and one update per packet (IPv4 without options, fixed offsets, L3 entry).
 * The key is the 44-byte struct flow_key (tunflow's IPv6 key); plain20_l3 is the same
 * with the 20-byte struct flow_key4 tunflow's IPv4 flows have: what the key's length
 * costs in hashing and comparing. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "../src/flow.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(key_size, sizeof(struct flow_key));
	__uint(value_size, sizeof(struct flow_stats));
	__uint(max_entries, 131072);
} plain_flows SEC(".maps");

/* The reference's whole accounting: one lookup, and one update for a new flow. */
static __always_inline int plain_count(void *map, const void *key, __u64 len)
{
	struct flow_stats *st = bpf_map_lookup_elem(map, key), init = {};

	if (st) {
		st->packets++;
		st->bytes += len;
		return TC_ACT_UNSPEC;
	}
	init.packets = 1;
	init.bytes = len;
	bpf_map_update_elem(map, key, &init, BPF_NOEXIST);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int plain_l3(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *p = data;
	struct flow_key k;

	if (data + 24 > end)
		return TC_ACT_UNSPEC;
	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.src + 12, p + 12, 4);
	__builtin_memcpy(k.dst + 12, p + 16, 4);
	k.proto = p[9];
	k.sport = (__u16)p[20] << 8 | p[21];
	k.dport = (__u16)p[22] << 8 | p[23];
	return plain_count(&plain_flows, &k, skb->len);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(key_size, sizeof(struct flow_key4));
	__uint(value_size, sizeof(struct flow_stats));
	__uint(max_entries, 131072);
} plain20_flows SEC(".maps");

SEC("tc")
int plain20_l3(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *p = data;
	struct flow_key4 k;

	if (data + 24 > end)
		return TC_ACT_UNSPEC;
	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.src, p + 12, 4);
	__builtin_memcpy(k.dst, p + 16, 4);
	k.proto = p[9];
	k.sport = (__u16)p[20] << 8 | p[21];
	k.dport = (__u16)p[22] << 8 | p[23];
	return plain_count(&plain20_flows, &k, skb->len);
}

/* The reference for IPv6 packets: the same counter on tunflow's 44-byte key, with the
 * IPv6 addresses read from the fixed header and the ports right after it (no extension
 * headers), at the L3 entry (plain6_l3) or after an Ethernet header (plain6_l2). */
static __always_inline int plain6(struct __sk_buff *skb, __u32 off)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *p = data + off;
	struct flow_key k;

	if ((void *)(p + 44) > end)
		return TC_ACT_UNSPEC;
	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.src, p + 8, 16);
	__builtin_memcpy(k.dst, p + 24, 16);
	k.proto = p[6];
	k.sport = (__u16)p[40] << 8 | p[41];
	k.dport = (__u16)p[42] << 8 | p[43];
	return plain_count(&plain_flows, &k, skb->len);
}

SEC("tc")
int plain6_l3(struct __sk_buff *skb) { return plain6(skb, 0); }

SEC("tc")
int plain6_l2(struct __sk_buff *skb) { return plain6(skb, 14); }

/* The same counter as an IPv6 flow counter must be to find the ports behind extension
 * headers: it steps over hop-by-hop, routing, fragment, AH and destination options (at
 * most TUNFLOW_MAX_EXT_HDRS), checking nothing but what the verifier demands (no length
 * field, no later fragment, no error counted); plain6x_l3 and plain6x_l2. */
#define PLAIN_EXT_MASK (1ULL << 0 | 1ULL << 43 | 1ULL << 44 | 1ULL << 51 | 1ULL << 60)

static __always_inline int plain6x(struct __sk_buff *skb, __u32 off)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u8 *p = data + off, *h;
	struct flow_key k;
	__u32 cur = off + 40;
	__u8 next;

	if ((void *)(p + 40) > end)
		return TC_ACT_UNSPEC;
	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.src, p + 8, 16);
	__builtin_memcpy(k.dst, p + 24, 16);
	next = p[6];
#pragma unroll
	for (int i = 0; i < TUNFLOW_MAX_EXT_HDRS; i++) {
		if (!(next < 64 && (PLAIN_EXT_MASK >> next) & 1))
			goto upper;
		if (cur > 2048)
			return TC_ACT_UNSPEC;
		h = data + cur;
		if ((void *)(h + 8) > end)
			return TC_ACT_UNSPEC;
		cur += next == 44 ? 8 : next == 51 ? ((__u32)h[1] + 2) * 4 : ((__u32)h[1] + 1) * 8;
		next = h[0];
	}
	if (next < 64 && (PLAIN_EXT_MASK >> next) & 1)
		return TC_ACT_UNSPEC; /* more headers than it follows */
upper:
	if (cur > 2048)
		return TC_ACT_UNSPEC;
	h = data + cur;
	if ((void *)(h + 4) > end)
		return TC_ACT_UNSPEC;
	k.proto = next;
	k.sport = (__u16)h[0] << 8 | h[1];
	k.dport = (__u16)h[2] << 8 | h[3];
	return plain_count(&plain_flows, &k, skb->len);
}

SEC("tc")
int plain6x_l3(struct __sk_buff *skb) { return plain6x(skb, 0); }

SEC("tc")
int plain6x_l2(struct __sk_buff *skb) { return plain6x(skb, 14); }

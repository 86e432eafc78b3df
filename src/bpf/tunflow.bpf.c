// SPDX-License-Identifier: GPL-2.0-only
/* tunflow's tc classifier: four thin entry points (L2/L3 link x ingress/egress) over the
 * shared parser in parse.bpf.h. It only observes: every entry returns TC_ACT_UNSPEC,
 * which is TCX_NEXT under tcx, so the packet's fate is left to whatever runs next. */
#include "parse.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The active flow map. User space swaps a fresh map into slot 0 at every harvest; the
 * kernel returns from that update only when no program run can still see the old map,
 * which user space then drains with no writer racing it. */
struct flows_inner {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(key_size, sizeof(struct flow_key));
	__uint(value_size, sizeof(struct flow_stats));
	__uint(max_entries, 1); /* set from --max-flows */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct flows_inner);
} flow_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 id)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &id);

	if (c)
		*c += 1;
}

/* Flow time of this packet. Live: CLOCK_MONOTONIC, tick-granular (coarse) or precise.
 * Replay: the capture's timestamp of the packet, which user space passes in skb->tstamp
 * (nanoseconds), so first and last seen are the capture's own. */
static __always_inline __u64 pkt_time(struct __sk_buff *skb, const bool coarse)
{
	if (tunflow_replay)
		return skb->tstamp;
	return coarse ? bpf_ktime_get_coarse_ns() : bpf_ktime_get_ns();
}

static __always_inline void add(struct flow_stats *st, __u64 segs, __u64 bytes, __u8 flags,
                                __u64 now)
{
	st->packets += segs;
	st->bytes += bytes;
	st->tcp_flags |= flags;
	st->last_ns = now; /* this CPU's slot of an entry another CPU created keeps first_ns
	                    * 0: the merge in user space takes the other CPUs' first_ns */
}

static __always_inline void account(struct __sk_buff *skb, struct pkt *p)
{
	__u32 zero = 0, gso_size = skb->gso_size;
	__u64 segs = 1, bytes = p->l3_len, now;
	struct flow_stats *st;
	void *flows;

	/* A GSO packet is gso_segs wire packets, each repeating the headers. Packets from
	 * untrusted sources (tun with a virtio-net header) leave gso_segs to be computed. */
	if (gso_size) {
		segs = skb->gso_segs;
		if (!segs && p->l3_len > p->hdr_len)
			segs = (p->l3_len - p->hdr_len + gso_size - 1) / gso_size;
		if (segs > 1)
			bytes += (segs - 1) * p->hdr_len;
		else
			segs = 1;
	}

	flows = bpf_map_lookup_elem(&flow_maps, &zero);
	if (!flows) {
		count(CNT_NO_MAP);
		return;
	}
	/* The hot path stamps last_ns with the tick-granular clock (about 2 ns here against
	 * about 21 ns for bpf_ktime_get_ns in a VM with mitigations); a new flow gets the
	 * precise time. Both are CLOCK_MONOTONIC; user space keeps last >= first. */
	st = bpf_map_lookup_elem(flows, &p->key);
	if (st) {
		add(st, segs, bytes, p->tcp_flags, pkt_time(skb, true));
		return;
	}
	now = pkt_time(skb, false);

	struct flow_stats init = {
	    .packets = segs,
	    .bytes = bytes,
	    .first_ns = now,
	    .last_ns = now,
	    .tcp_flags = p->tcp_flags,
	};
	long err = bpf_map_update_elem(flows, &p->key, &init, BPF_NOEXIST);

	if (!err)
		return;
	if (err == -17 /* EEXIST: another CPU created it first */) {
		st = bpf_map_lookup_elem(flows, &p->key);
		if (st) {
			add(st, segs, bytes, p->tcp_flags, now);
			return;
		}
	}
	count(CNT_MAP_FULL);
}

static __always_inline int handle(struct __sk_buff *skb, const bool l2, const __u8 dir)
{
	struct pkt p;
	int ret;

	__builtin_memset(&p, 0, sizeof(p));
	p.key.ifindex = skb->ifindex;
	p.key.dir = dir;

	ret = l2 ? parse_l2(skb, &p, false) : parse_l3(skb, 0, &p, false);
	if (ret == PARSE_RETRY) {
		__builtin_memset(&p, 0, sizeof(p));
		p.key.ifindex = skb->ifindex;
		p.key.dir = dir;
		ret = l2 ? parse_l2(skb, &p, true) : parse_l3(skb, 0, &p, true);
	}
	if (ret == PARSE_OK)
		account(skb, &p);
	else if (tunflow_replay) /* user space counts it */
		return ret == PARSE_SNAPPED ? TUNFLOW_REPLAY_SNAPPED : ret;
	else
		count(ret);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int tunflow_l3_in(struct __sk_buff *skb) { return handle(skb, false, DIR_INGRESS); }

SEC("tc")
int tunflow_l3_eg(struct __sk_buff *skb) { return handle(skb, false, DIR_EGRESS); }

SEC("tc")
int tunflow_l2_in(struct __sk_buff *skb) { return handle(skb, true, DIR_INGRESS); }

SEC("tc")
int tunflow_l2_eg(struct __sk_buff *skb) { return handle(skb, true, DIR_EGRESS); }

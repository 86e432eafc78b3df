// SPDX-License-Identifier: GPL-2.0-only
/* tunflow's tc classifier: four thin entry points (L2/L3 link x ingress/egress) over the
 * shared parser in parse.bpf.h. It only observes: every entry returns TC_ACT_UNSPEC,
 * which is TCX_NEXT under tcx, so the packet's fate is left to whatever runs next. */
#include "parse.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* The active flow maps: IPv4 flows in flow_maps4 (struct flow_key4, 20 bytes to hash
 * and compare), IPv6 flows in flow_maps (struct flow_key); a map-of-maps holds inner
 * maps of one key size only, hence two. User space swaps a fresh map into slot 0 of
 * each at every harvest; the kernel returns from that update only when no program run
 * can still see the old map, which user space then drains with no writer racing it. */
#define FLOW_MAPS(outer, key_type)                                                                 \
	struct outer##_inner {                                                                     \
		__uint(type, BPF_MAP_TYPE_PERCPU_HASH);                                            \
		__uint(key_size, sizeof(key_type));                                                \
		__uint(value_size, sizeof(struct flow_stats));                                     \
		__uint(max_entries, 1); /* set from --max-flows */                                 \
	};                                                                                         \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                                          \
		__uint(max_entries, 1);                                                            \
		__type(key, __u32);                                                                \
		__array(values, struct outer##_inner);                                             \
	} outer SEC(".maps")

FLOW_MAPS(flow_maps, struct flow_key);
FLOW_MAPS(flow_maps4, struct flow_key4);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The hot path's clock: CLOCK_MONOTONIC, advanced every TICK_NS by a BPF timer that
 * user space starts once (tunflow_clock_start). Reading it is one load; the helper it
 * replaces, bpf_ktime_get_coarse_ns(), cost 18 ns a packet on a VM with retpolines and
 * ticks only every jiffy (4 ms at HZ=250).
 *
 * A new flow's first_ns comes from stamp_ns instead: one atomic fetch-and-add, where
 * bpf_ktime_get_ns() cost ~90 ns per insert on that VM. Every insert takes the next
 * value, so the stamps of all flows, on every CPU, are distinct and in the order the
 * flows were created: records tell a connection's initiator by the earlier first_ns,
 * which a millisecond clock alone would tie. The timer pulls stamp_ns up to the time
 * at every tick: a stamp is at most a tick behind the time (like last_ns), and ahead of
 * it only at more than one new flow per nanosecond. */
#define TICK_NS 1000000
#define CLOCK_MONOTONIC 1

struct tick {
	struct bpf_timer timer;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tick);
} ticker SEC(".maps");

__u64 tick_ns;
__u64 stamp_ns SEC(".data.stamp"); /* its own map: inserts on one CPU do not take the
                                    * hot path's tick_ns cache line from another */

/* The tick's time into stamp_ns, unless inserts took it past already. */
static __always_inline void pull_stamp(__u64 now)
{
	for (int i = 0; i < 4; i++) {
		__u64 old = stamp_ns;

		if (old >= now || __sync_val_compare_and_swap(&stamp_ns, old, now) == old)
			return;
	}
}

static int on_tick(void *map __attribute__((unused)), __u32 *key __attribute__((unused)),
                   struct tick *t)
{
	__u64 now = bpf_ktime_get_ns();

	tick_ns = now;
	pull_stamp(now);
	bpf_timer_start(&t->timer, TICK_NS, 0);
	return 0;
}

/* Run once by user space (BPF_PROG_TEST_RUN) after loading: 0, or which step failed. */
SEC("tc")
int tunflow_clock_start(struct __sk_buff *skb __attribute__((unused)))
{
	__u32 zero = 0;
	struct tick *t = bpf_map_lookup_elem(&ticker, &zero);

	if (!t)
		return 1;
	tick_ns = bpf_ktime_get_ns();
	pull_stamp(tick_ns);
	if (bpf_timer_init(&t->timer, &ticker, CLOCK_MONOTONIC))
		return 2;
	if (bpf_timer_set_callback(&t->timer, on_tick))
		return 3;
	if (bpf_timer_start(&t->timer, TICK_NS, 0))
		return 4;
	return 0;
}

static __always_inline void count(__u32 id)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &id);

	if (c)
		*c += 1;
}

/* --names: set by user space before load. Off, the verifier prunes the capture code and
 * the hot path is today's. */
const volatile bool names_on = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* set from user space; a page when names are off */
} name_events SEC(".maps");

/* flow key -> packets with payload it may still give (NAME_CAP_PKTS at first); kept
 * across map swaps; 0: done (named, hopeless, or all given). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536); /* set from user space */
	__type(key, struct flow_key);
	__type(value, __u8);
} cap_state SEC(".maps");

/* One event being built (bpf_ringbuf_output then copies only what was filled). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct name_event);
} name_scratch SEC(".maps");

/* The capture code, off the hot path: called for a flow's new entry and while its
 * slot's cap is not CAP_DONE. Returns the slot's new cap. packets: what the slot holds
 * with this packet. */
static __noinline int capture(struct __sk_buff *skb, struct pkt *p, __u64 packets)
{
	__u32 zero = 0, pay_off, pay_len, len;
	struct name_event *ev;
	__u8 th[4], *left, init = NAME_CAP_PKTS - 1;
	bool dns;

	if (p->key.proto != IPPROTO_TCP && p->key.proto != IPPROTO_UDP)
		return CAP_DONE;
	dns = p->key.sport == NAME_DNS_PORT || p->key.dport == NAME_DNS_PORT;
	if (!dns && packets > NAME_CAP_WINDOW)
		return CAP_DONE;
	if (!p->l4_off)
		return CAP_UNKNOWN; /* a later fragment */
	/* hdr_len holds the IP headers and the TCP header with its options (or UDP's 8
	 * bytes): what is left of the IP packet is payload. No payload (a handshake, an
	 * ACK): nothing to name yet, and nothing read. */
	if (p->l3_len <= p->hdr_len)
		return CAP_UNKNOWN;
	pay_len = p->l3_len - p->hdr_len;
	if (pay_len > p->l4_end - p->l4_off)
		return CAP_UNKNOWN;
	pay_off = p->l4_end - pay_len;
	ev = bpf_map_lookup_elem(&name_scratch, &zero);
	if (!ev)
		return CAP_UNKNOWN;
	ev->seq = 0;
	if (p->key.proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, p->l4_off + 4, th, sizeof(th)))
			return CAP_UNKNOWN;
		ev->seq = (__u32)th[0] << 24 | (__u32)th[1] << 16 | (__u32)th[2] << 8 | th[3];
	}
	if (!dns) {
		/* A flow new to cap_state is created with this packet already taken: one
		 * update, no lookup after it (a lookup again only when another CPU won). */
		left = bpf_map_lookup_elem(&cap_state, &p->key);
		if (!left) {
			left = &init;
			if (bpf_map_update_elem(&cap_state, &p->key, &init, BPF_NOEXIST)) {
				left = bpf_map_lookup_elem(&cap_state, &p->key);
				if (!left)
					return CAP_UNKNOWN;
			}
		}
		if (!*left)
			return CAP_DONE;
		if (left != &init)
			*left -= 1;
	}
	len = pay_len < NAME_CAP_BYTES ? pay_len : NAME_CAP_BYTES;
	/* len is 1..NAME_CAP_BYTES (a power of two): the mask shows the verifier so */
	len = ((len - 1) & (NAME_CAP_BYTES - 1)) + 1;
	if (bpf_skb_load_bytes(skb, pay_off, ev->data, len))
		return CAP_UNKNOWN;
	ev->key = p->key;
	ev->pay_len = pay_len;
	ev->len = len;
	ev->pad = 0;
	if (bpf_ringbuf_output(&name_events, ev, NAME_EVENT_HDR + len, 0))
		count(CNT_NAME_DROPS);
	return dns || *left ? CAP_UNKNOWN : CAP_DONE;
}

/* Flow time of this packet. Live: the millisecond clock for a packet of a known flow
 * (last), the next stamp for a new flow (first). Replay: the capture's timestamp of the
 * packet (replay_ts), so first and last seen are the capture's own. */
static __always_inline __u64 pkt_time(const bool last)
{
	if (tunflow_replay)
		return replay_ts;
	return last ? tick_ns : __sync_fetch_and_add(&stamp_ns, 1);
}

/* Set only by bench builds (bench/ablate.bpf.c), to time the hot path without it. */
#ifdef TUNFLOW_ABLATE_NO_GSO
#define TUNFLOW_GSO_SIZE(skb) 0
#else
#define TUNFLOW_GSO_SIZE(skb) (skb)->gso_size
#endif

static __always_inline void add(struct flow_stats *st, __u64 segs, __u64 bytes, __u8 flags,
                                __u64 now)
{
	st->packets += segs;
	st->bytes += bytes;
#ifndef TUNFLOW_ABLATE_NO_STAMP /* set only by bench builds (bench/ablate.bpf.c) */
	st->tcp_flags |= flags;
	st->last_ns = now; /* this CPU's slot of an entry another CPU created keeps first_ns
	                    * 0: the merge in user space takes the other CPUs' first_ns */
#else
	(void)flags, (void)now;
#endif
}

/* v4: the packet is IPv4 (p->key.ip_version 4), accounted in flow_maps4 under its short
 * key. A constant in each of handle()'s two calls, so that each family has call sites of
 * its own: one site seeing both maps would make the verifier give up inlining the
 * lookup and calling the map's functions directly. */
static __always_inline void account(struct __sk_buff *skb, struct pkt *p, const bool v4)
{
	__u32 zero = 0, gso_size = TUNFLOW_GSO_SIZE(skb);
	__u64 segs = 1, bytes = p->l3_len, now;
	struct flow_stats *st;
	struct flow_key4 k4;
	void *flows, *key = &p->key;

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

	if (v4) {
		k4.ifindex = p->key.ifindex;
		k4.dir = p->key.dir;
		k4.proto = p->key.proto;
		k4.pad = 0;
		__builtin_memcpy(k4.src, p->key.src + 12, 4);
		__builtin_memcpy(k4.dst, p->key.dst + 12, 4);
		k4.sport = p->key.sport;
		k4.dport = p->key.dport;
		key = &k4;
		flows = bpf_map_lookup_elem(&flow_maps4, &zero);
	} else {
		flows = bpf_map_lookup_elem(&flow_maps, &zero);
	}
	if (!flows) {
		count(CNT_NO_MAP);
		return;
	}
	/* The hot path stamps last_ns with the timer's clock (within TICK_NS); a new flow
	 * takes the next stamp. Both are CLOCK_MONOTONIC; user space keeps last >= first. */
	st = bpf_map_lookup_elem(flows, key);
	if (st) {
		add(st, segs, bytes, p->tcp_flags, pkt_time(true));
		if (names_on && st->cap != CAP_DONE)
			st->cap = capture(skb, p, st->packets);
		return;
	}
	now = pkt_time(false);

	struct flow_stats init = {
	    .packets = segs,
	    .bytes = bytes,
	    .first_ns = now,
	    .last_ns = now,
	    .tcp_flags = p->tcp_flags,
	};
	if (names_on)
		init.cap = capture(skb, p, segs);
	long err = bpf_map_update_elem(flows, key, &init, BPF_NOEXIST);

	if (!err)
		return;
	if (err == -17 /* EEXIST: another CPU created it first */) {
		st = bpf_map_lookup_elem(flows, key);
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
	if (ret == PARSE_OK && p.key.ip_version == 4)
		account(skb, &p, true);
	else if (ret == PARSE_OK)
		account(skb, &p, false);
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

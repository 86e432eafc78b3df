/* SPDX-License-Identifier: GPL-2.0-only */
/* Packet parsing for tunflow's tc programs: Ethernet/VLAN, IPv4 (IHL, fragments, AH),
 * IPv6 (extension headers, fragments), TCP/UDP/UDP-Lite/SCTP ports, ICMP type/code.
 * The key semantics are docs/json.md's "Flow keys"; tests/unit/fuzz_bpf.c checks them
 * against a reference parser written separately from the RFCs.
 *
 * Every header is read through hdr_at(). A parse runs first in direct mode, reading
 * the linear skb area in place; if a header lies beyond the linear area (GSO/GRO
 * packets, paged tun writes) or past MAX_DIRECT_OFF it answers PARSE_RETRY and the
 * caller parses the packet again in copy mode, where every header is copied out with
 * bpf_skb_load_bytes().
 * Keeping the two modes in separate, fully inlined instances keeps the verifier's
 * path count linear instead of doubling at every header. */
#ifndef TUNFLOW_PARSE_BPF_H
#define TUNFLOW_PARSE_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "../flow.h"

#define PARSE_OK (-1)
#define PARSE_RETRY (-2)   /* header out of direct reach: parse again in copy mode */
#define PARSE_SNAPPED (-3) /* replay: a header lies past what the capture kept */

/* Replay of a capture (tunflow -r), set by user space before load; live, it is false and
 * the verifier prunes every branch it guards. A replayed packet may have been cut short
 * by the capture's snap length: replay_wire is then the length it had on the wire,
 * skb->len what the capture kept, and lengths are checked against the wire's. */
const volatile bool tunflow_replay = false;

/* Replay: user space writes the packet's wire length and capture time (nanoseconds) here,
 * through the mapped .bss, before each test run. They could come in the test run's
 * __sk_buff context (wire_len, tstamp), but passing one costs the kernel about 0.24 µs a
 * packet, a tenth of a replay. */
__u64 replay_wire, replay_ts;

/* The packet's length on the wire. */
static __always_inline __u64 wire_len(struct __sk_buff *skb)
{
	__u64 len; /* 64 bits: the load zero-extends, and clang need not after the barrier */

	/* two loads, not one from a selected offset: the verifier refuses a context access
	 * at a computed offset */
	if (tunflow_replay) {
		len = replay_wire;
	} else {
		len = skb->len;
		barrier_var(len);
	}
	return len;
}

/* Direct reads stop here (the verifier needs a bound on packet pointers); a header
 * further in is read in copy mode, which has no such bound. */
#define MAX_DIRECT_OFF 2048

#ifndef IPPROTO_MH
#define IPPROTO_MH 135
#endif
#define ETH_P_8021Q_BE bpf_htons(ETH_P_8021Q)
#define ETH_P_8021AD_BE bpf_htons(ETH_P_8021AD)
#define IP_OFFSET_MASK 0x1fff

/* What a parse yields besides the key. */
struct pkt {
	struct flow_key key;
	__u32 l3_len;  /* IP total length of this skb's packet */
	__u32 hdr_len; /* IP header(s) + L4 header: what each GSO segment repeats */
	__u32 l4_off;  /* TCP/UDP/UDP-Lite/SCTP: where the L4 header starts, from skb->data */
	__u32 l4_end;  /* ... and where the IP packet ends (names capture) */
	__u8 tcp_flags;
} __attribute__((aligned(8))); /* zeroed and copied 8 bytes at a time */

/* len bytes at off from skb->data into *ptr: true, or false if they are not there. In
 * direct mode *ptr points into the packet; in copy mode the bytes are copied into buf.
 * (A pointer or NULL would cost a test of the packet pointer against NULL per header.) */
static __always_inline bool hdr_at(struct __sk_buff *skb, __u64 off, __u32 len, void *buf,
                                   void **ptr, const bool copy)
{
	if (copy) {
		*ptr = buf;
		return !bpf_skb_load_bytes(skb, off, buf, len);
	}
	if (off > MAX_DIRECT_OFF)
		return false;

	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;

	*ptr = data + off;
	return *ptr + len <= end;
}

/* Why hdr_at() gave nothing: past the end of the packet, or only past what direct mode
 * reads (the linear area, MAX_DIRECT_OFF). */
static __always_inline int miss(struct __sk_buff *skb, __u64 off, __u32 len, const bool copy)
{
	if (off + len > wire_len(skb))
		return CNT_TRUNCATED;
	if (tunflow_replay && off + len > skb->len)
		return PARSE_SNAPPED; /* whole on the wire, cut by the capture */
	return copy ? CNT_TRUNCATED : PARSE_RETRY;
}

#define HDR_OR_RETURN(ptr, skb, off, len, buf, copy)                                               \
	do {                                                                                       \
		if (!hdr_at(skb, off, len, buf, (void **)&ptr, copy))                              \
			return miss(skb, off, len, copy);                                          \
	} while (0)

/* Protocol 1 or 58 whose ICMP header tunflow did not read (a fragment after the first,
 * or ICMP numbered for the other family): FLOW_ICMP_NONE, never a real type 0 code 0. */
static __always_inline int icmp_unread(struct pkt *p)
{
	if (p->key.proto == IPPROTO_ICMP || p->key.proto == IPPROTO_ICMPV6) {
		p->key.sport = FLOW_ICMP_NONE;
		p->key.dport = FLOW_ICMP_NONE;
	}
	return PARSE_OK;
}

/* Ports (or ICMP type/code) and L4 header length. l4_end is where the IP packet ends. */
static __always_inline int parse_l4(struct __sk_buff *skb, __u64 off, __u64 l4_end, struct pkt *p,
                                    const bool copy)
{
	__u8 buf[20];
	__u8 *h;
	__u32 need;

	switch (p->key.proto) {
	case IPPROTO_TCP:
		need = 20;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		need = 8;
		break;
	case IPPROTO_SCTP:
		need = 12;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		/* ICMP over IPv4 and ICMPv6 over IPv6 only */
		if ((p->key.proto == IPPROTO_ICMP) != (p->key.ip_version == 4))
			return icmp_unread(p);
		need = 4;
		break;
	default:
		return PARSE_OK; /* counted by protocol number only */
	}
	if (off + need > l4_end)
		return off + need > wire_len(skb) ? CNT_TRUNCATED : CNT_BAD_LEN;
	HDR_OR_RETURN(h, skb, off, need, buf, copy);

	if (need == 4) {
		p->key.sport = h[0]; /* ICMP type */
		p->key.dport = h[1]; /* ICMP code */
		p->hdr_len += 8;
		return PARSE_OK;
	}
	p->key.sport = (__u16)h[0] << 8 | h[1];
	p->key.dport = (__u16)h[2] << 8 | h[3];
	p->l4_off = off;
	p->l4_end = l4_end;
	if (need == 20) {
		__u32 doff = (h[12] >> 4) * 4;

		p->tcp_flags = h[13];
		p->hdr_len += doff > 20 ? doff : 20;
	} else {
		p->hdr_len += need;
	}
	return PARSE_OK;
}

/* 16 bytes of address in two 8-byte loads and stores, where a memcpy from a header
 * clang takes for 4-aligned moves 4 at a time: packet reads need no alignment on the
 * architectures tunflow runs on (the 4-byte ones are already unaligned at L3), and the
 * key in struct pkt is 8-aligned. */
static __always_inline void copy_addr(__u8 *dst, const void *src)
{
	const __u64 *s = src;
	__u64 *d = (__u64 *)dst;

	d[0] = s[0];
	d[1] = s[1];
}

static __always_inline void map_ipv4(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

/* IP total length against the bytes actually there. A GSO packet's length field may be
 * 0 (BIG TCP: zero_len); then the skb's length stands for it. */
static __always_inline int check_len(struct __sk_buff *skb, __u32 off, __u32 tot, __u32 hlen,
                                     bool zero_len, struct pkt *p)
{
	__u32 avail = wire_len(skb) - off;

	if (zero_len && skb->gso_size)
		tot = avail;
	if (tot < hlen)
		return CNT_BAD_LEN;
	if (tot > avail)
		return CNT_TRUNCATED;
	p->l3_len = tot;
	return PARSE_OK;
}

static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 off, struct pkt *p,
                                      const bool copy, const bool ver_read)
{
	struct iphdr buf, *ip;
	__u8 ebuf[8], *eh, next;
	__u64 cur, end;
	__u32 hlen;
	int ret, i;

	HDR_OR_RETURN(ip, skb, off, sizeof(*ip), &buf, copy);
	if (!ver_read && ip->version != 4)
		return CNT_NON_IP;
	if (ip->ihl < 5)
		return CNT_BAD_IHL;
	hlen = ip->ihl * 4;
	ret = check_len(skb, off, bpf_ntohs(ip->tot_len), hlen, !ip->tot_len, p);
	if (ret != PARSE_OK)
		return ret;

	p->key.ip_version = 4;
	p->key.proto = next = ip->protocol;
	map_ipv4(p->key.src, ip->saddr);
	map_ipv4(p->key.dst, ip->daddr);
	p->hdr_len = hlen;
	if (bpf_ntohs(ip->frag_off) & IP_OFFSET_MASK)
		return icmp_unread(p); /* later fragment: addresses and protocol only */

	/* AH (RFC 4302) authenticates but does not hide what follows: step over it to
	 * the protocol it carries, as over IPv6's AH extension header. */
	cur = off + hlen;
	end = off + p->l3_len;
#pragma unroll
	for (i = 0; i < TUNFLOW_MAX_EXT_HDRS; i++) {
		if (next != IPPROTO_AH)
			goto upper;
		if (cur + 8 > end)
			return cur + 8 > wire_len(skb) ? CNT_TRUNCATED : CNT_BAD_LEN;
		HDR_OR_RETURN(eh, skb, cur, 8, ebuf, copy);
		next = eh[0];
		cur += ((__u32)eh[1] + 2) * 4;
	}
	if (next == IPPROTO_AH)
		return CNT_EXT_LIMIT;
upper:
	if (cur > end)
		return cur > wire_len(skb) ? CNT_TRUNCATED : CNT_BAD_LEN;
	p->key.proto = next;
	p->hdr_len = cur - off;
	return parse_l4(skb, cur, end, p, copy);
}

/* IPv6 extension headers tunflow steps over: hop-by-hop 0, routing 43, fragment 44,
 * AH 51, destination options 60 (one bit test), mobility 135. */
#define EXT_HDR_MASK                                                                               \
	(1ULL << IPPROTO_HOPOPTS | 1ULL << IPPROTO_ROUTING | 1ULL << IPPROTO_FRAGMENT |            \
	 1ULL << IPPROTO_AH | 1ULL << IPPROTO_DSTOPTS)

static __always_inline bool is_ext_hdr(__u8 next)
{
	return next < 64 ? (EXT_HDR_MASK >> next) & 1 : next == IPPROTO_MH;
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 off, struct pkt *p,
                                      const bool copy, const bool ver_read)
{
	struct ipv6hdr buf __attribute__((aligned(8))), *ip6; /* copy_addr() loads 8 bytes */
	__u8 ebuf[8] __attribute__((aligned(8)));
	__u8 *eh;
	__u64 cur, end;
	__u8 next;
	int ret, i;

	HDR_OR_RETURN(ip6, skb, off, sizeof(*ip6), &buf, copy);
	if (!ver_read && ip6->version != 6)
		return CNT_NON_IP;
	ret = check_len(skb, off, 40 + bpf_ntohs(ip6->payload_len), 40, !ip6->payload_len, p);
	if (ret != PARSE_OK)
		return ret;

	p->key.ip_version = 6;
	copy_addr(p->key.src, &ip6->saddr);
	copy_addr(p->key.dst, &ip6->daddr);
	next = ip6->nexthdr;
	cur = off + 40;
	end = off + p->l3_len;

#pragma unroll
	for (i = 0; i < TUNFLOW_MAX_EXT_HDRS; i++) {
		if (!is_ext_hdr(next))
			goto upper;
		if (cur + 8 > end)
			return cur + 8 > wire_len(skb) ? CNT_TRUNCATED : CNT_BAD_LEN;
		HDR_OR_RETURN(eh, skb, cur, 8, ebuf, copy);
		if (next == IPPROTO_FRAGMENT) {
			next = eh[0];
			cur += 8;
			/* one 2-byte load: eh is 2-aligned (ebuf, or a packet read that
			 * needs no alignment) */
			if (*(__u16 *)(eh + 2) & bpf_htons(0xfff8)) {
				/* later fragment: addresses and protocol only */
				p->key.proto = next;
				p->hdr_len = cur - off;
				return icmp_unread(p);
			}
			continue;
		}
		cur += next == IPPROTO_AH ? ((__u32)eh[1] + 2) * 4 : ((__u32)eh[1] + 1) * 8;
		next = eh[0];
	}
	if (is_ext_hdr(next))
		return CNT_EXT_LIMIT;
upper:
	if (cur > end)
		return cur > wire_len(skb) ? CNT_TRUNCATED : CNT_BAD_LEN;
	p->key.proto = next;
	p->hdr_len = cur - off;
	return parse_l4(skb, cur, end, p, copy);
}

/* L3 links: the packet starts at the IP header; the version nibble tells the family. */
static __always_inline int parse_l3(struct __sk_buff *skb, __u32 off, struct pkt *p,
                                    const bool copy)
{
	__u8 buf[1], *v;

	HDR_OR_RETURN(v, skb, off, 1, buf, copy);
	switch (v[0] >> 4) { /* read: the parsers need not test the version again */
	case 4:
		return parse_ipv4(skb, off, p, copy, true);
	case 6:
		return parse_ipv6(skb, off, p, copy, true);
	}
	return CNT_NON_IP;
}

/* L2 links: Ethernet, up to two 802.1Q/802.1ad tags, then IPv4 or IPv6. */
static __always_inline int parse_l2(struct __sk_buff *skb, struct pkt *p, const bool copy)
{
	struct ethhdr buf, *eth;
	__be16 proto;
	__u32 off = ETH_HLEN;
	__u8 vbuf[4], *vlan;
	int i;

	HDR_OR_RETURN(eth, skb, 0, ETH_HLEN, &buf, copy);
	proto = eth->h_proto;
	for (i = 0; i < TUNFLOW_MAX_VLAN; i++) {
		if (proto != ETH_P_8021Q_BE && proto != ETH_P_8021AD_BE)
			break;
		HDR_OR_RETURN(vlan, skb, off, 4, vbuf, copy);
		__builtin_memcpy(&proto, vlan + 2, 2);
		off += 4;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(skb, off, p, copy, false);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(skb, off, p, copy, false);
	return CNT_NON_IP;
}

#endif

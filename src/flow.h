/* SPDX-License-Identifier: GPL-2.0-only */
/* The only ABI between the kernel program and user space: flow key, per-CPU flow
 * stats and failure counter ids. Fixed-width types, explicit padding, size asserts. */
#ifndef TUNFLOW_FLOW_H
#define TUNFLOW_FLOW_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <stddef.h>
#include <linux/types.h>
#endif

enum flow_dir {
	DIR_INGRESS = 0,
	DIR_EGRESS = 1,
};

/* Addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d). For ICMP and
 * ICMPv6, sport holds the type and dport the code, or both FLOW_ICMP_NONE. Ports are in
 * host byte order. */
struct flow_key {
	__u32 ifindex;
	__u8 dir;        /* enum flow_dir */
	__u8 ip_version; /* 4 or 6 */
	__u8 proto;      /* IP protocol / IPv6 upper-layer header number */
	__u8 pad;        /* always zero */
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
};

/* The key of an IPv4 flow in the kernel: IPv4 flows have maps of their own
 * (flow_maps4), whose 20-byte key the kernel hashes and compares faster than the 44
 * bytes of struct flow_key. The same fields as flow_key's for ip_version 4: addresses
 * as on the wire (network byte order), ports in host byte order. User space turns it
 * back into a struct flow_key (IPv4-mapped) before anything else sees it. */
struct flow_key4 {
	__u32 ifindex;
	__u8 dir;   /* enum flow_dir */
	__u8 proto; /* IP protocol */
	__u16 pad;  /* always zero */
	__u8 src[4];
	__u8 dst[4];
	__u16 sport;
	__u16 dport;
};

struct flow_stats {
	__u64 packets;  /* wire packets: a GSO packet counts as its segments */
	__u64 bytes;    /* L3 bytes: sum of the IP total lengths of those packets */
	__u64 first_ns; /* CLOCK_MONOTONIC of the first packet: the program's millisecond
	                 * clock, distinct per flow in the order flows were created */
	__u64 last_ns;  /* ... of the last packet (the millisecond clock) */
	__u8 tcp_flags; /* OR of the TCP flags seen */
	__u8 cap;       /* names capture state of this CPU's slot: CAP_UNKNOWN or CAP_DONE
	                 * (the kernel's own; user space ignores it) */
	__u8 pad[6];
};

/* flow_stats.cap: the hot path of an established flow pays one compare against
 * CAP_DONE; anything else goes to the capture code, which asks the cap_state map. */
#define CAP_UNKNOWN 0
#define CAP_DONE 1

/* Per-CPU failure counters, one slot each. Every packet the program sees either
 * lands in a flow or in exactly one of these. */
enum counter_id {
	CNT_NON_IP = 0, /* not IPv4/IPv6 (ARP, LLDP, unknown ethertype or version) */
	CNT_TRUNCATED,  /* a header runs past the end of the packet */
	CNT_BAD_IHL,    /* IPv4 header length below 20 bytes */
	CNT_BAD_LEN,    /* IP length field shorter than the headers it must hold */
	CNT_EXT_LIMIT,  /* more than TUNFLOW_MAX_EXT_HDRS IPv6 extension (IPv4 AH) headers */
	CNT_MAP_FULL,   /* flow map full: packet counted here instead of in a flow */
	CNT_NO_MAP,     /* no active flow map installed (never expected) */
	/* Not packet outcomes: the packet was counted in its flow as well. */
	CNT_NAME_DROPS, /* names capture: ring buffer full, an event was dropped */
	CNT_MAX,
};

/* The counters a packet lands in (one each), before the ones that count something else. */
#define CNT_PKT_MAX CNT_NAME_DROPS

/* Replay only (tunflow -r): the program counts nothing itself but returns why a packet
 * is in no flow, for user space to count: a counter id (enum counter_id), or this for a
 * packet the capture's snap length cut before the end of its headers ("snapped"); a
 * packet in a flow (or counted as map_full, no_map) returns TC_ACT_UNSPEC, as live. */
#define TUNFLOW_REPLAY_SNAPPED 100

/* sport and dport of a protocol 1 or 58 flow whose ICMP header was not read: fragments
 * after the first, ICMP (1) over IPv6, ICMPv6 (58) over IPv4. No ICMP type is above 255. */
#define FLOW_ICMP_NONE 0xffff

#define TUNFLOW_MAX_EXT_HDRS 8 /* IPv6 extension headers (IPv4 AH headers) followed */
#define TUNFLOW_MAX_VLAN 2     /* 802.1Q / 802.1ad tags skipped on L2 links */

/* Names capture (--names on): the payload start of a flow's first NAME_CAP_PKTS packets
 * that carry payload, in each direction, and every packet of UDP or TCP port 53, go to
 * user space through the name_events ring buffer. cap_state (LRU, keyed by flow key)
 * holds how many packets a flow may still give across harvests; user space sets it to
 * 0 once a connection is named or hopeless. A flow is not captured beyond its first
 * NAME_CAP_WINDOW packets in one harvest (pure ACKs of a download). */
#define NAME_CAP_PKTS 3
#define NAME_CAP_BYTES 2048
#define NAME_CAP_WINDOW 32
#define NAME_DNS_PORT 53

/* One ring-buffer event: a header, then len bytes of payload (the event is cut there). */
struct name_event {
	struct flow_key key;
	__u32 seq;     /* TCP: sequence number of the first payload byte; UDP: 0 */
	__u32 pay_len; /* the packet's payload length (len may be less) */
	__u16 len;     /* bytes of data[] that follow */
	__u16 pad;     /* always zero */
	__u8 data[NAME_CAP_BYTES];
};
#define NAME_EVENT_HDR 56 /* offsetof(struct name_event, data) */

#ifndef __BPF__
_Static_assert(offsetof(struct name_event, data) == NAME_EVENT_HDR, "name_event header");
_Static_assert(sizeof(struct flow_key) == 44, "flow_key layout");
_Static_assert(offsetof(struct flow_key, src) == 8, "flow_key.src offset");
_Static_assert(offsetof(struct flow_key, sport) == 40, "flow_key.sport offset");
_Static_assert(sizeof(struct flow_key4) == 20, "flow_key4 layout");
_Static_assert(offsetof(struct flow_key4, src) == 8, "flow_key4.src offset");
_Static_assert(offsetof(struct flow_key4, sport) == 16, "flow_key4.sport offset");
_Static_assert(sizeof(struct flow_stats) == 40, "flow_stats layout");
_Static_assert(offsetof(struct flow_stats, tcp_flags) == 32, "flow_stats.tcp_flags offset");
#endif

#endif

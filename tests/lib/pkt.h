/* SPDX-License-Identifier: GPL-2.0-only */
/* Crafting test packets: Ethernet (with VLAN tags) or raw IP, IPv4 (with options,
 * fragments, AH) or IPv6 (with extension headers), TCP/UDP/UDP-Lite/SCTP/ICMP/other. */
#ifndef TUNFLOW_TEST_PKT_H
#define TUNFLOW_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 65600

enum frag { FRAG_NONE, FRAG_FIRST, FRAG_LATER };

struct pkt_spec {
	int l2;              /* prepend an Ethernet header */
	int vlans;           /* 0, 1 (802.1Q) or 2 (802.1ad outer + 802.1Q inner) */
	uint16_t ethertype;  /* non-zero: this ethertype and no IP at all */
	int ipv;             /* 4 or 6 */
	const char *src, *dst;
	uint8_t proto;
	uint16_t sport, dport; /* ports, or ICMP type and code */
	uint8_t tcp_flags;
	int ip_opts;         /* IPv4 option bytes (multiple of 4, at most 40) */
	uint8_t ext[16];     /* IPv6 extension headers, in order (IPPROTO_HOPOPTS, ...); IPv4:
			      * IPPROTO_AH only (a later fragment carries none of them) */
	int next;            /* how many of ext[] */
	int ext_size;        /* bytes of each hop-by-hop, routing, destination options header
			      * (a multiple of 8, 8 to 2048); 0: 16 */
	enum frag frag;
	int payload;         /* bytes after the L4 header */
};

struct pkt_layout {
	size_t l3;  /* offset of the IP header */
	size_t l4;  /* offset of the L4 header (after extension headers) */
	size_t end; /* total length */
};

/* Build the packet into buf (PKT_MAX bytes); returns its length, 0 on a bad spec. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, struct pkt_layout *lay);
/* L4 header length the builder writes for a protocol. */
size_t pkt_l4_len(uint8_t proto);
/* Parse "192.0.2.1" or "2001:db8::1" into 16 bytes the way tunflow keys hold them
 * (IPv4 mapped). Returns the IP version or 0. */
int pkt_addr(const char *s, uint8_t out[16]);

#endif

// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "pkt.h"

size_t pkt_l4_len(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return 20;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE: return 8;
	case IPPROTO_SCTP: return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return 8;
	}
	return 0;
}

int pkt_addr(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out + 12) == 1) {
		out[10] = out[11] = 0xff;
		return 4;
	}
	return inet_pton(AF_INET6, s, out) == 1 ? 6 : 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, struct pkt_layout *lay)
{
	uint8_t a[16], b[16];
	size_t off = 0, l3, l4, l4len = s->frag == FRAG_LATER ? 0 : pkt_l4_len(s->proto);
	uint16_t eth_ip = s->ipv == 6 ? 0x86dd : 0x0800;

	/* at most this long; zero only that (all of PKT_MAX costs microseconds a packet) */
	size_t ext_max = s->ext_size > 24 ? (size_t)s->ext_size : 24;
	size_t span = 22 + 60 + (size_t)s->next * ext_max + 20 + (size_t)s->payload;

	if (s->next < 0 || s->next > 16 || s->payload < 0 || s->ext_size < 0 || span > PKT_MAX)
		return 0;
	memset(buf, 0, span);
	if (s->l2) {
		memcpy(buf, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
		off = 12;
		if (s->vlans == 2) {
			put16(buf + off, 0x88a8);
			put16(buf + off + 2, 100);
			off += 4;
		}
		if (s->vlans >= 1) {
			put16(buf + off, 0x8100);
			put16(buf + off + 2, 200);
			off += 4;
		}
		put16(buf + off, s->ethertype ? s->ethertype : eth_ip);
		off += 2;
	}
	l3 = off;
	if (s->ethertype) {
		memset(buf + off, 0xab, 28); /* an ARP-sized body */
		lay->l3 = lay->l4 = l3;
		return lay->end = off + 28;
	}
	if (pkt_addr(s->src, a) != s->ipv || pkt_addr(s->dst, b) != s->ipv)
		return 0;

	if (s->ipv == 4) {
		size_t hl = 20 + s->ip_opts, p = off + hl;

		if (s->ip_opts % 4 || s->ip_opts > 40)
			return 0;
		buf[off] = 0x40 | hl / 4;
		buf[off + 8] = 64;
		buf[off + 9] = s->next ? s->ext[0] : s->proto;
		for (int i = 0; i < s->next; i++) {
			if (s->ext[i] != IPPROTO_AH)
				return 0;
			if (s->frag == FRAG_LATER)
				continue;
			buf[p] = i + 1 < s->next ? s->ext[i + 1] : s->proto;
			buf[p + 1] = 4; /* (4 + 2) * 4 = 24 bytes */
			p += 24;
		}
		if (s->frag == FRAG_FIRST)
			put16(buf + off + 6, 0x2000);     /* MF, offset 0 */
		else if (s->frag == FRAG_LATER)
			put16(buf + off + 6, 185);        /* offset 1480 bytes, last */
		memcpy(buf + off + 12, a + 12, 4);
		memcpy(buf + off + 16, b + 12, 4);
		for (int i = 0; i < s->ip_opts; i++)
			buf[off + 20 + i] = 1; /* NOP options */
		l4 = p;
		put16(buf + off + 2, l4 - off + l4len + s->payload);
		put16(buf + off + 10, csum(buf + off, hl));
	} else {
		uint8_t next = s->proto;
		size_t p = off + 40;

		buf[off] = 0x60;
		buf[off + 7] = 64;
		memcpy(buf + off + 8, a, 16);
		memcpy(buf + off + 24, b, 16);
		buf[off + 6] = s->next ? s->ext[0] : s->proto;
		for (int i = 0; i < s->next; i++) {
			next = i + 1 < s->next ? s->ext[i + 1] : s->proto;
			buf[p] = next;
			if (s->ext[i] == IPPROTO_FRAGMENT) {
				if (s->frag == FRAG_FIRST)
					put16(buf + p + 2, 0x0001);    /* offset 0, M */
				else if (s->frag == FRAG_LATER)
					put16(buf + p + 2, 1480);      /* offset 1480, last */
				p += 8;
			} else if (s->ext[i] == IPPROTO_AH) {
				buf[p + 1] = 4; /* (4 + 2) * 4 = 24 bytes */
				p += 24;
			} else {
				size_t size = s->ext_size ? (size_t)s->ext_size : 16, q = p + 2;

				if (size % 8 || size > 2048)
					return 0;
				buf[p + 1] = size / 8 - 1;
				/* PadN options; a last odd byte stays 0, a Pad1 */
				for (size_t rem = size - 2; rem >= 2;) {
					size_t n = rem - 2 > 255 ? 255 : rem - 2;

					if (rem - 2 - n == 1)
						n--;
					buf[q] = 1;
					buf[q + 1] = n;
					q += n + 2;
					rem -= n + 2;
				}
				p += size;
			}
		}
		l4 = p;
		put16(buf + off + 4, l4 - off - 40 + l4len + s->payload);
	}
	if (l4len) {
		uint8_t *h = buf + l4;

		if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
			h[0] = s->sport;
			h[1] = s->dport;
		} else {
			put16(h, s->sport);
			put16(h + 2, s->dport);
		}
		if (s->proto == IPPROTO_TCP) {
			h[12] = 5 << 4;
			h[13] = s->tcp_flags;
			put16(h + 14, 65535);
		} else if (s->proto == IPPROTO_UDP) {
			put16(h + 4, l4len + s->payload);
		}
	}
	for (int i = 0; i < s->payload; i++)
		buf[l4 + l4len + i] = (uint8_t)i;
	/* transport checksums so that a real stack accepts what a test writes into a tun */
	if (l4len && (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
		      s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) &&
	    s->frag == FRAG_NONE) {
		size_t n = l4len + s->payload;
		uint8_t ph[40 + PKT_MAX];
		size_t phl;
		int co = s->proto == IPPROTO_TCP ? 16 : s->proto == IPPROTO_UDP ? 6 : 2;

		if (s->proto == IPPROTO_ICMP) {
			phl = 0;
		} else if (s->ipv == 4) {
			memcpy(ph, a + 12, 4);
			memcpy(ph + 4, b + 12, 4);
			ph[8] = 0;
			ph[9] = s->proto;
			put16(ph + 10, n);
			phl = 12;
		} else {
			memcpy(ph, a, 16);
			memcpy(ph + 16, b, 16);
			memset(ph + 32, 0, 8);
			ph[34] = n >> 8;
			ph[35] = n & 0xff;
			ph[39] = s->proto;
			phl = 40;
		}
		memcpy(ph + phl, buf + l4, n);
		uint16_t c = csum(ph, phl + n);
		if (s->proto == IPPROTO_UDP && !c)
			c = 0xffff;
		put16(buf + l4 + co, c);
	}
	lay->l3 = l3;
	lay->l4 = l4;
	lay->end = l4 + l4len + s->payload;
	return lay->end;
}

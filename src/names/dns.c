// SPDX-License-Identifier: GPL-2.0-only
/* DNS messages (RFC 1035 4.1): the question's name, and for a response every address
 * the answer section gives the question's name, directly or through a CNAME chain.
 *
 * Compressed names (RFC 1035 4.1.4) are read with the pointers going strictly
 * backwards: each pointer must point before the start of the piece of name being read,
 * so every name ends after at most a few hundred steps whatever the message holds, and
 * a pointer may not point into the header. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include "names/dns.h"

#define HDR 12
#define WIRE_MAX 255 /* a name in wire form, with its length bytes and the root */
#define RR_KEEP 64   /* answer records kept for the chain; the rest are checked only */
#define CHAIN_MAX 16 /* CNAMEs followed */
#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define C_IN 1

static unsigned get16(const __u8 *p) { return p[0] << 8 | p[1]; }
static __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* The name at *pos, in wire form, lowercase, uncompressed, into w (WIRE_MAX bytes):
 * its length, or -EBADMSG. *pos moves past the name where it is written (a pointer
 * counts two bytes). */
static int read_name(const __u8 *m, size_t len, size_t *pos, __u8 w[WIRE_MAX])
{
	size_t p = *pos, start = *pos, wl = 0;
	bool jumped = false;

	for (;;) {
		unsigned l;

		if (p >= len)
			return -EBADMSG;
		l = m[p];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (p + 1 >= len)
				return -EBADMSG;
			to = (l & 0x3f) << 8 | m[p + 1];
			if (to >= start || to < HDR)
				return -EBADMSG; /* forwards, a loop, or into the header */
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = start = to;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG; /* the extended label types (RFC 6891) */
		if (wl + 1 + l > WIRE_MAX || p + 1 + l > len)
			return -EBADMSG;
		w[wl++] = l;
		for (unsigned i = 0; i < l; i++) {
			__u8 c = m[p + 1 + i];

			w[wl++] = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
		}
		p += 1 + l;
		if (l == 0)
			break;
	}
	if (!jumped)
		*pos = p;
	return wl;
}

/* A wire-form name as text for name_clean(): 0, or -EBADMSG for a label holding a dot
 * (or anything name_clean refuses). The root gives "". */
static int wire_to_text(const __u8 *w, char out[NAME_BUF])
{
	char t[WIRE_MAX];
	size_t n = 0;

	out[0] = 0;
	for (size_t i = 0; w[i]; i += 1 + w[i]) {
		if (memchr(w + i + 1, '.', w[i]))
			return -EBADMSG;
		if (n)
			t[n++] = '.';
		memcpy(t + n, w + i + 1, w[i]);
		n += w[i];
	}
	if (n == 0)
		return 0;
	return name_clean(t, n, out);
}

struct rr {
	__u8 owner[WIRE_MAX], target[WIRE_MAX]; /* target: a CNAME's */
	int olen, tlen;
	__u16 type;
	__u32 ttl;
	__u8 addr[16];
};

static bool same(const __u8 *a, int alen, const __u8 *b, int blen)
{
	return alen == blen && !memcmp(a, b, alen);
}

int dns_parse(const __u8 *msg, size_t len, char qname[NAME_BUF], dns_answer_fn fn, void *ctx)
{
	static __thread struct rr rrs[RR_KEEP + 1]; /* the last: scratch */
	__u8 q[WIRE_MAX];
	size_t pos = HDR;
	unsigned qd, an, flags, kept = 0;
	int qlen = 0;

	qname[0] = 0;
	if (len < HDR)
		return -EBADMSG;
	flags = get16(msg + 2);
	qd = get16(msg + 4);
	an = get16(msg + 6);
	if (qd > 1)
		return -EBADMSG; /* RFC 9619: one question */
	if (qd) {
		qlen = read_name(msg, len, &pos, q);
		if (qlen < 0 || pos + 4 > len || wire_to_text(q, qname))
			return -EBADMSG;
		pos += 4; /* QTYPE, QCLASS */
	}
	if (!(flags & 0x8000))
		return 0; /* a query */
	if ((flags >> 11 & 0xf) != 0 || !qd)
		return 1; /* not a standard query's answer: nothing to read */
	for (unsigned i = 0; i < an; i++) {
		struct rr *r = &rrs[kept];
		unsigned type, class, rdlen;
		size_t rd;

		r->olen = read_name(msg, len, &pos, r->owner);
		if (r->olen < 0 || pos + 10 > len)
			return -EBADMSG;
		type = get16(msg + pos);
		class = get16(msg + pos + 2);
		r->ttl = get32(msg + pos + 4);
		rdlen = get16(msg + pos + 8);
		rd = pos += 10;
		if (pos + rdlen > len)
			return -EBADMSG;
		pos += rdlen;
		if (r->ttl > 0x7fffffff)
			r->ttl = 0; /* RFC 2181 8 */
		r->type = class == C_IN ? type : 0;
		if (r->type == T_A) {
			if (rdlen != 4)
				return -EBADMSG;
			memset(r->addr, 0, 10);
			r->addr[10] = r->addr[11] = 0xff;
			memcpy(r->addr + 12, msg + rd, 4);
		} else if (r->type == T_AAAA) {
			if (rdlen != 16)
				return -EBADMSG;
			memcpy(r->addr, msg + rd, 16);
		} else if (r->type == T_CNAME) {
			size_t t = rd;

			r->tlen = read_name(msg, rd + rdlen, &t, r->target);
			if (r->tlen < 0 || t != rd + rdlen)
				return -EBADMSG;
		} else {
			continue; /* other types (and classes) are not kept */
		}
		if (kept < RR_KEEP)
			kept++;
	}
	/* follow the chain from the question's name; each step's TTL bounds the rest */
	{
		const __u8 *cur = q;
		int clen = qlen;
		__u32 ttl = 0xffffffff;

		for (int step = 0; step <= CHAIN_MAX; step++) {
			const struct rr *next = NULL;

			for (unsigned i = 0; i < kept; i++) {
				const struct rr *r = &rrs[i];

				if (!same(r->owner, r->olen, cur, clen))
					continue;
				if (r->type == T_CNAME && !next)
					next = r;
				else if (r->type != T_CNAME && fn && qname[0])
					fn(qname, r->addr, r->ttl < ttl ? r->ttl : ttl, ctx);
			}
			if (!next)
				break;
			if (next->ttl < ttl)
				ttl = next->ttl;
			cur = next->target;
			clen = next->tlen;
		}
	}
	return 1;
}

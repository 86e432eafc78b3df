// SPDX-License-Identifier: GPL-2.0-only
/* The parsers of destination names (src/names/): name_clean, DNS messages and the DNS
 * cache, TLS ClientHello, HTTP/1.x Host, QUIC Initials. Captured vectors are in
 * tests/unit/data (README.md there says how each was made); the QUIC ones are the RFCs'
 * (names_vectors.h). */
#define CHECK_SUITE "names"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "names_vectors.h"
#include "names/dns.h"
#include "names/dnscache.h"
#include "names/http.h"
#include "names/name.h"
#include "names/quic.h"
#include "names/tls.h"

#define DATA "tests/unit/data/"

static size_t unhex(const char *h, __u8 *out)
{
	size_t n = 0;

	for (; h[0] && h[1]; h += 2)
		out[n++] = (__u8)strtoul((char[]){h[0], h[1], 0}, NULL, 16);
	return n;
}

static size_t slurp(const char *path, __u8 *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return 0;
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* ---- name_clean ---- */

static void test_name_clean(void)
{
	char out[NAME_BUF], big[300];
	struct {
		const char *in, *want; /* want NULL: refused */
	} cases[] = {
	    {"Example.COM.", "example.com"},
	    {"example.com:8443", "example.com"},
	    {"example.com:", "example.com"},
	    {"shop.example.:443", "shop.example"},
	    {"xn--bcher-kva.example", "xn--bcher-kva.example"},
	    {"_dmarc.mail-1.example", "_dmarc.mail-1.example"},
	    {"localhost", "localhost"},
	    {"a..b", NULL},
	    {".a", NULL},
	    {"", NULL},
	    {".", NULL},
	    {"a b.example", NULL},
	    {"[2001:db8::1]:443", NULL},
	    {"192.0.2.1", NULL},
	    {"192.0.2.1:80", NULL},
	    {"example.com:443x", NULL},
	    {"example.com:123456", NULL},
	    {"ex\xc3\xa4mple.com", NULL},
	    {"exa/mple.com", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[80];
		int r = name_clean(cases[i].in, strlen(cases[i].in), out);

		snprintf(what, sizeof(what), "name_clean '%s'", cases[i].in);
		CHECK_INT(what, r, cases[i].want ? 0 : -EBADMSG);
		CHECK_STR(what, out, cases[i].want ? cases[i].want : "");
	}
	CHECK_INT("name_clean: a NUL inside", name_clean("ex\0ample.com", 12, out), -EBADMSG);
	CHECK_INT("name_clean: the length given, not the NUL", name_clean("a.example", 1, out), 0);
	CHECK_STR("name_clean: the length given, not the NUL: name", out, "a");
	/* 253 bytes: four labels of 63 and one of 1 */
	memset(big, 'a', sizeof(big));
	for (int i = 63; i < 253; i += 64)
		big[i] = '.';
	CHECK_INT("name_clean: 253 bytes", name_clean(big, 253, out), 0);
	CHECK_INT("name_clean: 253 bytes kept", strlen(out), 253);
	big[253] = 'a';
	CHECK_INT("name_clean: 254 bytes", name_clean(big, 254, out), -EBADMSG);
	CHECK_INT("name_clean: 254 bytes with the root's dot",
	          (big[253] = '.', name_clean(big, 254, out)), 0);
	memset(big, 'b', 64);
	memcpy(big + 64, ".example", 8);
	CHECK_INT("name_clean: a 64-byte label", name_clean(big, 72, out), -EBADMSG);
	CHECK_INT("name_clean: a 63-byte label", name_clean(big + 1, 71, out), 0);
}

/* ---- DNS ---- */

struct answers {
	int n;
	char qname[4][NAME_BUF];
	__u8 addr[4][16];
	__u32 ttl[4];
};

static void on_answer(const char *qname, const __u8 addr[16], __u32 ttl, void *ctx)
{
	struct answers *a = ctx;

	if (a->n < 4) {
		snprintf(a->qname[a->n], NAME_BUF, "%s", qname);
		memcpy(a->addr[a->n], addr, 16);
		a->ttl[a->n] = ttl;
	}
	a->n++;
}

static const __u8 v4_192_0_2_10[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 10};
static const __u8 v6_db8_10[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

/* A message from hex with spaces; its length. */
static size_t msg(const char *spaced, __u8 *out)
{
	char h[4096];
	size_t n = 0;

	for (; *spaced && n < sizeof(h) - 1; spaced++)
		if (*spaced != ' ')
			h[n++] = *spaced;
	h[n] = 0;
	return unhex(h, out);
}

static void test_dns(void)
{
	__u8 m[2048];
	char qname[NAME_BUF];
	struct answers a = {0};
	size_t n;
	int bad = 0;

	/* dnsmasq's answers: www.shop.example CNAME shop.cdn.example (60 s) A/AAAA (30 s) */
	n = slurp(DATA "dns_dnsmasq_a.bin", m, sizeof(m));
	CHECK_INT("dns: dnsmasq A answer read", n, 80);
	CHECK_INT("dns: dnsmasq A answer", dns_parse(m, n, qname, on_answer, &a), 1);
	CHECK_STR("dns: dnsmasq A: the name asked", qname, "www.shop.example");
	CHECK_INT("dns: dnsmasq A: one address", a.n, 1);
	CHECK_STR("dns: dnsmasq A: named as asked, not the CNAME", a.qname[0], "www.shop.example");
	CHECK("dns: dnsmasq A: 192.0.2.10 as ::ffff:192.0.2.10",
	      !memcmp(a.addr[0], v4_192_0_2_10, 16));
	CHECK_INT("dns: dnsmasq A: the smallest TTL of the chain", a.ttl[0], 30);
	/* every shorter piece of it is malformed */
	for (size_t l = 0; l < n; l++)
		if (dns_parse(m, l, qname, on_answer, &a) != -EBADMSG)
			bad++;
	CHECK_INT("dns: dnsmasq A cut at every byte: malformed", bad, 0);

	memset(&a, 0, sizeof(a));
	n = slurp(DATA "dns_dnsmasq_aaaa.bin", m, sizeof(m));
	CHECK_INT("dns: dnsmasq AAAA answer", dns_parse(m, n, qname, on_answer, &a), 1);
	CHECK_INT("dns: dnsmasq AAAA: one address", a.n, 1);
	CHECK_STR("dns: dnsmasq AAAA: name", a.qname[0], "www.shop.example");
	CHECK("dns: dnsmasq AAAA: 2001:db8::10", !memcmp(a.addr[0], v6_db8_10, 16));
	CHECK_INT("dns: dnsmasq AAAA: TTL", a.ttl[0], 30);
	/* lying counts: three answers announced, two there */
	m[7] = 3;
	CHECK_INT("dns: more answers announced than there are", dns_parse(m, n, qname, NULL, NULL),
	          -EBADMSG);

	/* a query: the name, nothing else */
	n = msg(
	    "abcd 0100 0001 0000 0000 0000 03 576562 04 53686f70 07 6578616d706c65 00 0001 0001",
	    m);
	memset(&a, 0, sizeof(a));
	CHECK_INT("dns: a query", dns_parse(m, n, qname, on_answer, &a), 0);
	CHECK_STR("dns: a query: its name, lowercase", qname, "web.shop.example");
	CHECK_INT("dns: a query: no answers", a.n, 0);

	/* by hand: a.example CNAME b.example (300) CNAME c.example (50), c A 192.0.2.10
	 * (100), c AAAA 2001:db8::10 (7), and d.example A (not on the chain) */
	n = msg("0001 8180 0001 0005 0000 0000"
	        " 01 61 07 6578616d706c65 00 0001 0001"          /* 12: a.example */
	        " c00c 0005 0001 0000012c 0004 01 62 c00e"       /* a -> b.example */
	        " 01 62 c00e 0005 0001 00000032 0004 01 63 c00e" /* b -> c.example */
	        " 01 63 c00e 0001 0001 00000064 0004 c000020a"   /* c A */
	        " 01 63 c00e 001c 0001 00000007 0010 20010db8000000000000000000000010"
	        " 01 64 c00e 0001 0001 00000064 0004 c0000263", /* d A: not asked */
	        m);
	memset(&a, 0, sizeof(a));
	CHECK_INT("dns: CNAME chain", dns_parse(m, n, qname, on_answer, &a), 1);
	CHECK_INT("dns: CNAME chain: two addresses", a.n, 2);
	CHECK_STR("dns: CNAME chain: A named as asked", a.qname[0], "a.example");
	CHECK_INT("dns: CNAME chain: A's TTL is the chain's smallest", a.ttl[0], 50);
	CHECK("dns: CNAME chain: A", !memcmp(a.addr[0], v4_192_0_2_10, 16));
	CHECK_INT("dns: CNAME chain: AAAA's own TTL is smaller", a.ttl[1], 7);
	CHECK("dns: CNAME chain: AAAA", !memcmp(a.addr[1], v6_db8_10, 16));

	/* a CNAME loop: a -> b -> a, no address: bounded, a response without addresses */
	n = msg("0001 8180 0001 0002 0000 0000 01 61 07 6578616d706c65 00 0001 0001"
	        " c00c 0005 0001 0000012c 0004 01 62 c00e"
	        " 01 62 c00e 0005 0001 0000012c 0002 c00c",
	        m);
	memset(&a, 0, sizeof(a));
	CHECK_INT("dns: CNAME loop", dns_parse(m, n, qname, on_answer, &a), 1);
	CHECK_INT("dns: CNAME loop: no address", a.n, 0);

	/* compression: a pointer to itself, forwards, into the header */
	n = msg("0001 8180 0001 0001 0000 0000 01 61 07 6578616d706c65 00 0001 0001"
	        " c01b 0001 0001 00000064 0004 c000020a",
	        m);
	CHECK_INT("dns: a pointer to itself", dns_parse(m, n, qname, NULL, NULL), -EBADMSG);
	m[28] = 0x1d;
	CHECK_INT("dns: a pointer forwards", dns_parse(m, n, qname, NULL, NULL), -EBADMSG);
	m[28] = 0x02;
	CHECK_INT("dns: a pointer into the header", dns_parse(m, n, qname, NULL, NULL), -EBADMSG);
	m[28] = 0x0c;
	CHECK_INT("dns: the same, pointing back right", dns_parse(m, n, qname, NULL, NULL), 1);
	/* "x" then a pointer back to that "x": before the pointer, but a loop */
	n = msg("0001 8180 0001 0001 0000 0000 01 61 07 6578616d706c65 00 0001 0001"
	        " 01 78 c01b 0001 0001 00000064 0004 c000020a",
	        m);
	CHECK_INT("dns: a pointer back to its own name's start", dns_parse(m, n, qname, NULL, NULL),
	          -EBADMSG);
	/* a pointer to a name that itself ends in a pointer: x.a.example */
	n = msg("0001 8180 0001 0002 0000 0000 01 61 07 6578616d706c65 00 0001 0001"
	        " 01 78 c00c 0001 0001 00000064 0004 c000020a"
	        " c01b 0001 0001 00000064 0004 c000020a",
	        m);
	CHECK_INT("dns: a pointer to a compressed name", dns_parse(m, n, qname, NULL, NULL), 1);
	/* an A record of 5 bytes; a label holding a dot; two questions */
	n = msg("0001 8180 0001 0001 0000 0000 01 61 07 6578616d706c65 00 0001 0001"
	        " c00c 0001 0001 00000064 0005 c000020a00",
	        m);
	CHECK_INT("dns: an A of 5 bytes", dns_parse(m, n, qname, NULL, NULL), -EBADMSG);
	n = msg("0001 0100 0001 0000 0000 0000 03 612e62 07 6578616d706c65 00 0001 0001", m);
	CHECK_INT("dns: a label holding a dot", dns_parse(m, n, qname, NULL, NULL), -EBADMSG);
	n = msg("0001 0100 0002 0000 0000 0000 01 61 00 0001 0001 01 62 00 0001 0001", m);
	CHECK_INT("dns: two questions", dns_parse(m, n, qname, NULL, NULL), -EBADMSG);
	n = msg("0001 8180 0000 0000 0000 0000", m);
	CHECK_INT("dns: a response without question", dns_parse(m, n, qname, NULL, NULL), 1);
	CHECK_STR("dns: a response without question: no name", qname, "");
	CHECK_INT("dns: 11 bytes", dns_parse(m, 11, qname, NULL, NULL), -EBADMSG);
}

/* ---- DNS cache ---- */

#define S(x) ((__u64)(x)*1000000000ull)

static void test_dnscache(void)
{
	struct dnscache *c = dnscache_new(3, 60);
	__u8 x[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}, y[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
	__u8 z[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 3}, w[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 4};

	dnscache_add(c, "alice", x, "a.example", 300, S(0));
	dnscache_add(c, "bob", x, "b.example", 300, S(1));
	CHECK_STR("dnscache: the owner's own answer", dnscache_lookup(c, "alice", x, S(2)),
	          "a.example");
	CHECK_STR("dnscache: the owner's own answer (bob)", dnscache_lookup(c, "bob", x, S(2)),
	          "b.example");
	CHECK_STR("dnscache: someone else: anyone's newest", dnscache_lookup(c, "carol", x, S(2)),
	          "b.example");
	CHECK_STR("dnscache: no owner: anyone's newest", dnscache_lookup(c, NULL, x, S(2)),
	          "b.example");
	dnscache_add(c, "alice", x, "a2.example", 300, S(3));
	CHECK_STR("dnscache: the owner's newer answer replaces",
	          dnscache_lookup(c, "alice", x, S(4)), "a2.example");
	CHECK_STR("dnscache: and is now anyone's newest", dnscache_lookup(c, "carol", x, S(4)),
	          "a2.example");
	CHECK_INT("dnscache: one entry per owner and address", dnscache_size(c), 2);
	CHECK_STR("dnscache: another address: nothing", dnscache_lookup(c, "alice", y, S(4)), NULL);
	/* TTL 5 s kept 60 s (the minimum) */
	dnscache_add(c, "alice", y, "short.example", 5, S(10));
	CHECK_STR("dnscache: TTL 5 s, kept the minimum 60 s", dnscache_lookup(c, "alice", y, S(69)),
	          "short.example");
	CHECK_STR("dnscache: gone after 60 s", dnscache_lookup(c, "alice", y, S(70)), NULL);
	/* TTL 300 s: gone after 300 s; the owner's expired answer gives way to another's */
	CHECK_STR("dnscache: TTL 300 s: there before", dnscache_lookup(c, "bob", x, S(300)),
	          "b.example");
	CHECK_STR("dnscache: TTL 300 s: bob's gone, alice's still there",
	          dnscache_lookup(c, "bob", x, S(302)), "a2.example");
	CHECK_STR("dnscache: all gone", dnscache_lookup(c, "bob", x, S(304)), NULL);
	CHECK_INT("dnscache: no eviction yet", dnscache_evictions(c), 0);
	dnscache_free(c);

	/* least recently used out, counted; expired entries out without counting */
	c = dnscache_new(3, 0);
	dnscache_add(c, "u", x, "x.example", 100, S(0));
	dnscache_add(c, "u", y, "y.example", 100, S(0));
	dnscache_add(c, "u", z, "z.example", 100, S(0));
	CHECK_STR("dnscache: x used", dnscache_lookup(c, "u", x, S(1)), "x.example");
	dnscache_add(c, "u", w, "w.example", 100, S(2));
	CHECK_INT("dnscache: bounded", dnscache_size(c), 3);
	CHECK_INT("dnscache: one eviction", dnscache_evictions(c), 1);
	CHECK_STR("dnscache: the least recently used went", dnscache_lookup(c, "u", y, S(3)), NULL);
	CHECK_STR("dnscache: x stayed", dnscache_lookup(c, "u", x, S(3)), "x.example");
	CHECK_STR("dnscache: z stayed", dnscache_lookup(c, "u", z, S(3)), "z.example");
	CHECK_STR("dnscache: w is in", dnscache_lookup(c, "u", w, S(3)), "w.example");
	dnscache_add(c, "v", w, "w2.example", 100, S(4)); /* evicts x (least recently used) */
	CHECK_INT("dnscache: two evictions", dnscache_evictions(c), 2);
	CHECK_STR("dnscache: v's answer", dnscache_lookup(c, "v", w, S(5)), "w2.example");
	CHECK_STR("dnscache: u's answer for the same address", dnscache_lookup(c, "u", w, S(5)),
	          "w.example");
	dnscache_add(c, "u", x, "x.example", 100, S(500)); /* the oldest had expired */
	CHECK_INT("dnscache: an expired entry's eviction is not counted", dnscache_evictions(c), 2);
	dnscache_free(c);
	dnscache_free(NULL);
}

/* ---- TLS ---- */

/* A ClientHello handshake message: name (NULL: none), an ECH extension, a key share
 * of ks bytes for group 0x11ec (X25519MLKEM768) and one of 32 for x25519, and a padding
 * extension of pad bytes. Its length. */
static size_t build_ch(__u8 *o, const char *name, bool ech, size_t ks, size_t pad)
{
	size_t i = 4, ext;

#define P16(v) (o[i++] = (v) >> 8, o[i++] = (v)&0xff)
	P16(0x0303);
	for (int k = 0; k < 32; k++)
		o[i++] = 0x11 * k;
	o[i++] = 32;
	for (int k = 0; k < 32; k++)
		o[i++] = k;
	P16(6);
	P16(0x1301);
	P16(0x1302);
	P16(0x1303);
	o[i++] = 1;
	o[i++] = 0;
	ext = i;
	i += 2;
	if (name) {
		size_t l = strlen(name);

		P16(0x0000);
		P16(l + 5);
		P16(l + 3);
		o[i++] = 0;
		P16(l);
		memcpy(o + i, name, l);
		i += l;
	}
	P16(0x002b); /* supported_versions: TLS 1.3 */
	P16(3);
	o[i++] = 2;
	P16(0x0304);
	P16(0x000a); /* supported_groups */
	P16(6);
	P16(4);
	P16(0x11ec);
	P16(0x001d);
	P16(0x0033); /* key_share */
	P16(2 + 4 + ks + 4 + 32);
	P16(4 + ks + 4 + 32);
	P16(0x11ec);
	P16(ks);
	for (size_t k = 0; k < ks; k++)
		o[i++] = k * 7;
	P16(0x001d);
	P16(32);
	for (int k = 0; k < 32; k++)
		o[i++] = k * 3;
	if (ech) { /* outer ECH: type, cipher suite, config id, enc, payload */
		P16(0xfe0d);
		P16(1 + 4 + 1 + 2 + 32 + 2 + 200);
		o[i++] = 0;
		P16(0x0001);
		P16(0x0001);
		o[i++] = 0x42;
		P16(32);
		memset(o + i, 0xe1, 32);
		i += 32;
		P16(200);
		memset(o + i, 0xe2, 200);
		i += 200;
	}
	if (pad) {
		P16(0x0015);
		P16(pad);
		memset(o + i, 0, pad);
		i += pad;
	}
	o[ext] = (i - ext - 2) >> 8;
	o[ext + 1] = (i - ext - 2) & 0xff;
	o[0] = 1;
	o[1] = (i - 4) >> 16;
	o[2] = (i - 4) >> 8;
	o[3] = (i - 4) & 0xff;
#undef P16
	return i;
}

/* hs in TLS records, cut after each of the cuts (increasing; 0-terminated) */
static size_t records(__u8 *o, const __u8 *hs, size_t n, const size_t *cuts)
{
	size_t i = 0, from = 0;

	for (int k = 0;; k++) {
		size_t to = cuts[k] && cuts[k] < n ? cuts[k] : n;

		o[i++] = 0x16;
		o[i++] = 3;
		o[i++] = 1;
		o[i++] = (to - from) >> 8;
		o[i++] = (to - from) & 0xff;
		memcpy(o + i, hs + from, to - from);
		i += to - from;
		from = to;
		if (to == n)
			return i;
	}
}

/* Every prefix of buf: 0 until all of it is there, then 1 with want. */
static void every_cut(const char *what, const __u8 *buf, size_t n, const char *want)
{
	char name[NAME_BUF], t[120];
	bool ech;
	size_t first_bad = 0;
	int bad = 0;

	for (size_t l = 0; l < n; l++)
		if (tls_sni(buf, l, name, &ech) != 0 && !bad++)
			first_bad = l;
	snprintf(t, sizeof(t), "%s: every cut short of the end needs more (first wrong at %zu)",
	         what, first_bad);
	CHECK_INT(t, bad, 0);
	snprintf(t, sizeof(t), "%s: whole", what);
	CHECK_INT(t, tls_sni(buf, n, name, &ech), 1);
	CHECK_STR(t, name, want);
}

static void test_tls(void)
{
	static __u8 buf[8192], hs[4096];
	char name[NAME_BUF];
	bool ech = true;
	size_t n, h;

	n = slurp(DATA "clienthello_openssl.bin", buf, sizeof(buf));
	CHECK_INT("tls: OpenSSL's ClientHello read", n, 318);
	CHECK_INT("tls: OpenSSL's ClientHello", tls_sni(buf, n, name, &ech), 1);
	CHECK_STR("tls: OpenSSL's ClientHello: name", name, "shop.example");
	CHECK("tls: OpenSSL's ClientHello: no ECH", !ech);
	every_cut("tls: OpenSSL's ClientHello", buf, n, "shop.example");
	n = slurp(DATA "clienthello_gnutls.bin", buf, sizeof(buf));
	CHECK_INT("tls: GnuTLS's ClientHello read", n, 393);
	CHECK_INT("tls: GnuTLS's ClientHello", tls_sni(buf, n, name, &ech), 1);
	CHECK_STR("tls: GnuTLS's ClientHello: name", name, "cdn.example");
	CHECK_INT("tls: GnuTLS's ClientHello: application data behind it",
	          (memcpy(buf + n, "\x17\x03\x03\x00\x01\x00", 6), tls_sni(buf, n + 6, name, &ech)),
	          1);

	/* post-quantum: 1216-byte key share, about 1.8 KB, in one record and in two */
	h = build_ch(hs, "Shop.Example", false, 1216, 400);
	CHECK("tls: the post-quantum ClientHello is about 1.8 KB", h > 1750 && h < 1900);
	n = records(buf, hs, h, (size_t[]){0});
	every_cut("tls: post-quantum ClientHello in one record", buf, n, "shop.example");
	n = records(buf, hs, h, (size_t[]){1000, 0});
	every_cut("tls: post-quantum ClientHello in two records", buf, n, "shop.example");
	n = records(buf, hs, h, (size_t[]){2, 3, 700, 0});
	every_cut("tls: post-quantum ClientHello in four records, its header split", buf, n,
	          "shop.example");
	/* ECH: the outer name, marked */
	h = build_ch(hs, "public.example", true, 32, 0);
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: ECH-shaped ClientHello", tls_sni(buf, n, name, &ech), 1);
	CHECK_STR("tls: ECH-shaped ClientHello: the outer name", name, "public.example");
	CHECK("tls: ECH-shaped ClientHello: marked", ech);
	h = build_ch(hs, NULL, true, 32, 0);
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: ECH without server_name", tls_sni(buf, n, name, &ech), -ENOENT);
	CHECK("tls: ECH without server_name: marked", ech);
	/* a server name carrying a port: the name (some clients send it) */
	h = build_ch(hs, "shop.example:8443", false, 32, 0);
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: a server name with a port", tls_sni(buf, n, name, &ech), 1);
	CHECK_STR("tls: a server name with a port: stripped", name, "shop.example");
	h = build_ch(hs, "bad name.example", false, 32, 0);
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: a server name that is no host name", tls_sni(buf, n, name, &ech), -EBADMSG);
	CHECK_STR("tls: ... gives no name", name, "");
	h = build_ch(hs, "192.0.2.1", false, 32, 0);
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: an address as server name", tls_sni(buf, n, name, &ech), -EBADMSG);

	/* not ClientHellos */
	CHECK_INT("tls: HTTP", tls_sni((const __u8 *)"GET / HTTP/1.1\r\n", 16, name, &ech),
	          -EPROTO);
	CHECK_INT("tls: nothing yet", tls_sni(buf, 0, name, &ech), 0);
	CHECK_INT("tls: one byte 0x16", tls_sni(buf, 1, name, &ech), 0);
	CHECK_INT("tls: an application data record",
	          tls_sni((const __u8 *)"\x17\x03\x03\x00\x05hello", 10, name, &ech), -EPROTO);
	CHECK_INT("tls: a ServerHello",
	          tls_sni((const __u8 *)"\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9, name, &ech),
	          -EPROTO);
	CHECK_INT("tls: record version 3.9",
	          tls_sni((const __u8 *)"\x16\x03\x09\x00\x04\x01\x00\x00\x00", 9, name, &ech),
	          -EPROTO);
	/* malformed */
	h = build_ch(hs, "shop.example", false, 32, 0);
	n = records(buf, hs, h, (size_t[]){100, 0});
	buf[5 + 100] = 0x17; /* application data between the fragments */
	CHECK_INT("tls: another record inside the ClientHello", tls_sni(buf, n, name, &ech),
	          -EBADMSG);
	CHECK_INT("tls: an empty handshake record",
	          tls_sni((const __u8 *)"\x16\x03\x01\x00\x00\x16\x03\x01", 8, name, &ech),
	          -EBADMSG);
	n = records(buf, hs, h, (size_t[]){0});
	buf[5 + 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2 + 1] ^= 0x01; /* extensions' length, lying */
	CHECK_INT("tls: extensions' length lying", tls_sni(buf, n, name, &ech), -EBADMSG);
	/* server_name read, then a malformed extension: no name (found by fuzz_tls) */
	h = build_ch(hs, "shop.example", false, 32, 0);
	for (size_t k = 4; k + 1 < h; k++)
		if (hs[k] == 0x00 && hs[k + 1] == 0x33) { /* key_share, the last: one too long */
			hs[k + 3]++;
			break;
		}
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: a malformed extension after server_name", tls_sni(buf, n, name, &ech),
	          -EBADMSG);
	CHECK_STR("tls: a malformed extension after server_name: no name", name, "");
	h = build_ch(hs, NULL, false, 32, 0);
	n = records(buf, hs, h, (size_t[]){0});
	CHECK_INT("tls: no server_name", tls_sni(buf, n, name, &ech), -ENOENT);
	CHECK_INT("tls: record longer than 2^14",
	          tls_sni((const __u8 *)"\x16\x03\x01\x40\x01\x01\x00\x40\x00", 9, name, &ech),
	          -EBADMSG);
	/* the handshake bytes alone (QUIC's CRYPTO stream) */
	h = build_ch(hs, "quic.example", false, 1216, 0);
	CHECK_INT("tls: handshake bytes", tls_sni_handshake(hs, h, name, &ech), 1);
	CHECK_STR("tls: handshake bytes: name", name, "quic.example");
	CHECK_INT("tls: handshake bytes, cut", tls_sni_handshake(hs, h - 1, name, &ech), 0);
}

/* ---- HTTP ---- */

static void test_http(void)
{
	char name[NAME_BUF];
	struct {
		const char *req;
		int want;
		const char *name;
	} cases[] = {
	    {"GET / HTTP/1.1\r\nHost: Shop.Example:8080\r\nAccept: */*\r\n\r\n", 1, "shop.example"},
	    {"PURGE /x?y=1 HTTP/1.0\r\nUser-Agent: t\r\nhost:cdn.example\r\n\r\n", 1,
	     "cdn.example"},
	    {"BREW /pot HTTP/1.1\nHOST: \t a.example \t\nX: y\n\n", 1, "a.example"},
	    {"M-SEARCH * HTTP/1.1\r\nHost: upnp.example:1900\r\n\r\n", 1, "upnp.example"},
	    {"GET http://Proxy.Example:3128/x HTTP/1.1\r\nHost: other.example\r\n\r\n", 1,
	     "proxy.example"},
	    {"GET https://user:pw@Site.Example/ HTTP/1.1\r\n\r\n", 1, "site.example"},
	    {"CONNECT shop.example:443 HTTP/1.1\r\nHost: shop.example:443\r\n\r\n", 1,
	     "shop.example"},
	    {"GET / HTTP/1.1\r\nX-A: 1\r\n 2\r\nHost: folded-before.example\r\n\r\n", 1,
	     "folded-before.example"},
	    {"GET / HTTP/1.1\r\nHost: a.example\r\n b.example\r\n\r\n", -EBADMSG, ""},
	    {"GET / HTTP/1.1\r\nHost: a b.example\r\n\r\n", -EBADMSG, ""},
	    {"GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n", -ENOENT, ""},
	    {"GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n", -ENOENT, ""},
	    {"GET / HTTP/1.1\r\nHost:\r\n\r\n", -ENOENT, ""},
	    {"GET / HTTP/1.0\r\nUser-Agent: x\r\n\r\n", -ENOENT, ""},
	    {"GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", -ENOENT, ""},
	    {"GET / HTTP/2.0\r\nHost: a.example\r\n\r\n", -EPROTO, ""},
	    {"GET  / HTTP/1.1\r\nHost: a.example\r\n\r\n", -EPROTO, ""},
	    {"GET / HTTP/1.1 \r\nHost: a.example\r\n\r\n", -EPROTO, ""},
	    {"SSH-2.0-OpenSSH_9.2\r\n", -EPROTO, ""},
	    {"\x16\x03\x01\x00\x10", -EPROTO, ""},
	    {"GE", 0, ""},
	    {"GET /index.ht", 0, ""},
	    {"GET / HTTP/1.", 0, ""},
	    {"GET / HTTP/1.1\r", 0, ""},
	    {"GET / HTTP/1.1\r\nHo", 0, ""},
	    {"GET / HTTP/1.1\r\nHost: a.example", 0, ""},
	    {"GET / HTTP/1.1\r\nHost: a.example\r\n", 0, ""}, /* folded or not: to come */
	    {"GET / HTTP/1.1\r\nHost: a.example\r\nA", 1, "a.example"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char what[120];
		int r = http_host((const __u8 *)cases[i].req, strlen(cases[i].req), name);

		snprintf(what, sizeof(what), "http: '%.*s'", (int)strcspn(cases[i].req, "\r\n"),
		         cases[i].req);
		CHECK_INT(what, r, cases[i].want);
		CHECK_STR(what, name, cases[i].name);
	}
	/* a method longer than 32 bytes is not one */
	CHECK_INT("http: a 40-byte token",
	          http_host((const __u8 *)"ABCDEFGHIJABCDEFGHIJABCDEFGHIJABCDEFGHIJ / HTTP/1.1\r\n",
	                    53, name),
	          -EPROTO);
}

/* ---- QUIC ---- */

static size_t varint4(__u8 *o, __u32 v)
{
	o[0] = 0x80 | v >> 24;
	o[1] = v >> 16;
	o[2] = v >> 8;
	o[3] = v;
	return 4;
}

/* A CRYPTO frame of data[off..off+n) */
static size_t crypto_frame(__u8 *o, const __u8 *data, __u32 off, __u32 n)
{
	size_t i = 0;

	o[i++] = 0x06;
	i += varint4(o + i, off);
	i += varint4(o + i, n);
	memcpy(o + i, data + off, n);
	return i + n;
}

/* An Initial of frames padded to 1162 bytes, into out at its end: its length */
static size_t initial(__u8 *out, __u32 version, const __u8 *dcid, size_t dlen, __u32 pn,
                      const __u8 *frames, size_t flen)
{
	__u8 p[1400] = {0};
	int r;

	memcpy(p, frames, flen);
	r = quic_seal_initial(&(struct quic_seal){.version = version,
	                                          .dcid = dcid,
	                                          .dcid_len = dlen,
	                                          .scid = (const __u8 *)"\x01\x02\x03\x04",
	                                          .scid_len = 4,
	                                          .pn = pn,
	                                          .pn_len = 2},
	                      p, flen < 1162 ? 1162 : flen, out, 1500);
	return r < 0 ? 0 : r;
}

static void test_quic(void)
{
	static __u8 pkt[1500], want[1500], d[6000], hs[4096], fr[4096], pl[1200];
	__u8 dcid[8], dcid2[8] = {9, 8, 7, 6, 5, 4, 3, 2}, rcid[8] = {0xaa, 1, 2, 3, 4, 5, 6, 7};
	char name[NAME_BUF];
	bool ech = true;
	struct quic_state *q;
	size_t n, h, f, l1, l2;

	unhex(RFC_DCID, dcid);
	/* RFC 9001 A.2 */
	n = unhex(RFC9001_CLIENT_INITIAL, pkt);
	CHECK_INT("quic: RFC 9001 A.2 is 1200 bytes", n, 1200);
	q = quic_new();
	CHECK_INT("quic: RFC 9001 A.2 client Initial", quic_feed(q, pkt, n, name, &ech), 1);
	CHECK_STR("quic: RFC 9001 A.2: example.com", name, "example.com");
	CHECK("quic: RFC 9001 A.2: no ECH", !ech);
	CHECK_INT("quic: found once, found again", quic_feed(q, pkt, 10, name, &ech), 1);
	CHECK_STR("quic: found again: the name", name, "example.com");
	quic_free(q);
	/* sealing the RFC's plaintext gives the RFC's packet: the same keys, both ways */
	memset(pl, 0, sizeof(pl));
	f = unhex(RFC_CRYPTO_FRAME, pl);
	CHECK_INT("quic: RFC CRYPTO frame", f, 245);
	CHECK_INT("quic: sealing RFC 9001 A.2's payload",
	          quic_seal_initial(
	              &(struct quic_seal){
	                  .version = QUIC_V1, .dcid = dcid, .dcid_len = 8, .pn = 2, .pn_len = 4},
	              pl, 1162, want, sizeof(want)),
	          1200);
	CHECK("quic: sealing RFC 9001 A.2's payload: the RFC's bytes", !memcmp(want, pkt, 1200));
	/* RFC 9369 A.2 (v2) */
	n = unhex(RFC9369_CLIENT_INITIAL, pkt);
	q = quic_new();
	CHECK_INT("quic: RFC 9369 A.2 v2 client Initial", quic_feed(q, pkt, n, name, &ech), 1);
	CHECK_STR("quic: RFC 9369 A.2: example.com", name, "example.com");
	quic_free(q);
	CHECK_INT("quic: sealing RFC 9369 A.2's payload",
	          quic_seal_initial(
	              &(struct quic_seal){
	                  .version = QUIC_V2, .dcid = dcid, .dcid_len = 8, .pn = 2, .pn_len = 4},
	              pl, 1162, want, sizeof(want)),
	          1200);
	CHECK("quic: sealing RFC 9369 A.2's payload: the RFC's bytes", !memcmp(want, pkt, 1200));

	/* corrupted: every single-bit flip of a few bytes, a cut packet */
	n = unhex(RFC9001_CLIENT_INITIAL, pkt);
	{
		int wrong = 0;
		size_t at[] = {0, 6, 18, 20, 21, 40, 600, 1183, 1199};

		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			int r;

			q = quic_new();
			pkt[at[i]] ^= 0x10;
			r = quic_feed(q, pkt, n, name, &ech);
			if (r != -EBADMSG && r != -EPROTO)
				wrong++;
			pkt[at[i]] ^= 0x10;
			quic_free(q);
		}
		CHECK_INT("quic: a flipped bit anywhere: malformed", wrong, 0);
		for (size_t l = 0; l < n; l += 7) {
			q = quic_new();
			if (quic_feed(q, pkt, l, name, &ech) >= 0)
				wrong++;
			quic_free(q);
		}
		CHECK_INT("quic: cut anywhere: refused", wrong, 0);
	}
	q = quic_new();
	pkt[1199] ^= 1;
	CHECK_INT("quic: a wrong tag", quic_feed(q, pkt, n, name, &ech), -EBADMSG);
	pkt[1199] ^= 1;
	CHECK_INT("quic: a short header first",
	          quic_feed(q, (const __u8 *)"\x40\x01\x02", 3, name, &ech), -EPROTO);
	memcpy(want, pkt, n);
	want[1] = 0xff, want[4] = 0x1d; /* draft 29 */
	CHECK_INT("quic: another version", quic_feed(q, want, n, name, &ech), -EPROTO);
	want[1] = 0, want[4] = 1, want[5] = 21;
	CHECK_INT("quic: a 21-byte DCID", quic_feed(q, want, n, name, &ech), -EBADMSG);
	CHECK_INT("quic: after all that, the real one", quic_feed(q, pkt, n, name, &ech), 1);
	quic_free(q);

	/* a post-quantum ClientHello split across two Initials, the second part first */
	h = build_ch(hs, "split.example", false, 1216, 0);
	q = quic_new();
	f = crypto_frame(fr, hs, 900, h - 900);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	CHECK_INT("quic: split ClientHello, second half first", quic_feed(q, d, l1, name, &ech), 0);
	f = crypto_frame(fr, hs, 0, 900);
	l2 = initial(d, QUIC_V1, dcid, 8, 1, fr, f);
	CHECK_INT("quic: split ClientHello, then the first", quic_feed(q, d, l2, name, &ech), 1);
	CHECK_STR("quic: split ClientHello: name", name, "split.example");
	quic_free(q);
	/* out of order inside one packet, with PING, ACK, PADDING between */
	h = build_ch(hs, "order.example", false, 32, 0);
	f = crypto_frame(fr, hs, 200, h - 200);
	f += msg("01 02 05 00 01 00 00 01", fr + f); /* PING; ACK 5, 1 more range */
	f += crypto_frame(fr + f, hs, 0, 100);
	f += msg("00 00 03 02 00 00 00 00 01 02", fr + f); /* PADDING; ACK-ECN */
	f += crypto_frame(fr + f, hs, 100, 100);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	q = quic_new();
	CHECK_INT("quic: CRYPTO frames out of order in one packet", quic_feed(q, d, l1, name, &ech),
	          1);
	CHECK_STR("quic: out of order: name", name, "order.example");
	quic_free(q);
	/* coalesced: Initial (1st part), Initial (2nd part), a Handshake and a 0-RTT packet,
	 * which are skipped, in one datagram; v2 */
	h = build_ch(hs, "coalesced.example", false, 600, 0);
	f = crypto_frame(fr, hs, 0, 300);
	l1 = initial(d, QUIC_V2, dcid, 8, 0, fr, f);
	f = crypto_frame(fr, hs, 300, h - 300);
	l1 += initial(d + l1, QUIC_V2, dcid, 8, 1, fr, f);
	l1 += msg("f0 6b3343cf 08 0102030405060708 00 4014 0000000000000000000000000000000000000000"
	          "e0 6b3343cf 08 0102030405060708 00 4004 00000000",
	          d + l1);
	/* and an Initial of another connection behind them: ignored (RFC 9000 12.2) */
	l1 += initial(d + l1, QUIC_V2, dcid2, 8, 2, fr, f);
	CHECK_INT("quic: coalesced: the datagram's length", l1, 3 * 1202 + 37 + 21);
	q = quic_new();
	CHECK_INT("quic: coalesced Initials, Handshake and 0-RTT", quic_feed(q, d, l1, name, &ech),
	          1);
	CHECK_STR("quic: coalesced: name", name, "coalesced.example");
	quic_free(q);
	/* the client switches its DCID (to the server's) but keeps the first keys */
	h = build_ch(hs, "switch.example", false, 1216, 0);
	q = quic_new();
	f = crypto_frame(fr, hs, 0, 1000);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	CHECK_INT("quic: DCID change: first Initial", quic_feed(q, d, l1, name, &ech), 0);
	f = crypto_frame(fr, hs, 1000, h - 1000);
	memset(fr + f, 0, 1100);
	l1 = quic_seal_initial(&(struct quic_seal){.version = QUIC_V1,
	                                           .dcid = dcid2,
	                                           .dcid_len = 8,
	                                           .key_cid = dcid,
	                                           .key_cid_len = 8,
	                                           .pn = 1,
	                                           .pn_len = 1},
	                       fr, f + 1100, d, sizeof(d));
	CHECK_INT("quic: DCID change: the next Initial, new DCID, first keys",
	          quic_feed(q, d, l1, name, &ech), 1);
	CHECK_STR("quic: DCID change: name", name, "switch.example");
	quic_free(q);
	/* a Retry (RFC 9001 A.4, RFC 9369 A.4: for DCID 8394c8f03e515708, new SCID
	 * f067a5502a4262b5): the client's next Initials use keys from the Retry's SCID, even
	 * when their header names yet another DCID (the server's Initial's) */
	h = build_ch(hs, "retry.example", false, 1216, 0);
	for (int v = 0; v < 2; v++) {
		__u32 ver = v ? QUIC_V2 : QUIC_V1;
		__u8 scid[8], other[8] = {0x5e, 0x4e, 1, 2, 3, 4, 5, 6};
		size_t rn = msg(
		    v ? "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6"
		      : "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba",
		    want);
		char what[80];

		unhex("f067a5502a4262b5", scid);
		for (int forged = 0; forged < 2; forged++) {
			q = quic_new();
			f = crypto_frame(fr, hs, 0, 1000);
			l1 = initial(d, ver, dcid, 8, 0, fr, f);
			quic_feed(q, d, l1, name, &ech);
			want[rn - 1] ^= forged; /* a tag that does not verify */
			snprintf(what, sizeof(what), "quic: %s Retry, v%d",
			         forged ? "forged" : "RFC", v + 1);
			CHECK_INT(what, quic_feed_server(q, want, rn), 0);
			want[rn - 1] ^= forged;
			f = crypto_frame(fr, hs, 0, h);
			memset(fr + f, 0, 1000);
			l1 = quic_seal_initial(&(struct quic_seal){.version = ver,
			                                           .dcid = other,
			                                           .dcid_len = 8,
			                                           .key_cid = scid,
			                                           .key_cid_len = 8,
			                                           .pn_len = 2},
			                       fr, f + 1000, d, sizeof(d));
			snprintf(what, sizeof(what), "quic: %s Retry, v%d: the Initial after it",
			         forged ? "forged" : "RFC", v + 1);
			CHECK_INT(what, quic_feed(q, d, l1, name, &ech), forged ? -EBADMSG : 1);
			CHECK_STR(what, name, forged ? "" : "retry.example");
			quic_free(q);
		}
	}
	/* a forged Retry does not throw away what came before */
	q = quic_new();
	f = crypto_frame(fr, hs, 0, 1000);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	quic_feed(q, d, l1, name, &ech);
	n = msg("f0 00000001 04 01020304 08 aa01020304050607 746f6b656e"
	        " 00112233445566778899aabbccddeeff",
	        want);
	CHECK_INT("quic: a forged Retry", quic_feed_server(q, want, n), 0);
	f = crypto_frame(fr, hs, 1000, h - 1000);
	l1 = initial(d, QUIC_V1, dcid, 8, 1, fr, f);
	CHECK_INT("quic: a forged Retry: the rest of the ClientHello",
	          quic_feed(q, d, l1, name, &ech), 1);
	CHECK_STR("quic: a forged Retry: name", name, "retry.example");
	quic_free(q);
	/* the same without seeing the Retry: the new keys are found from the packet's DCID */
	q = quic_new();
	f = crypto_frame(fr, hs, 0, 1000);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	quic_feed(q, d, l1, name, &ech);
	f = crypto_frame(fr, hs, 0, h);
	l1 = initial(d, QUIC_V1, rcid, 8, 0, fr, f);
	CHECK_INT("quic: a Retry not seen", quic_feed(q, d, l1, name, &ech), 1);
	CHECK_STR("quic: a Retry not seen: name", name, "retry.example");
	CHECK_INT("quic: server garbage", quic_feed_server(q, (const __u8 *)"\x80\x01", 2),
	          -EPROTO);
	quic_free(q);
	/* frames an Initial may not carry; no server_name; not a ClientHello */
	q = quic_new();
	l1 = initial(d, QUIC_V1, dcid, 8, 0, (const __u8 *)"\x08\x00\x00", 3); /* STREAM */
	CHECK_INT("quic: a STREAM frame in an Initial", quic_feed(q, d, l1, name, &ech), -EBADMSG);
	quic_free(q);
	q = quic_new();
	h = build_ch(hs, NULL, false, 32, 0);
	f = crypto_frame(fr, hs, 0, h);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	CHECK_INT("quic: a ClientHello without server_name", quic_feed(q, d, l1, name, &ech),
	          -ENOENT);
	quic_free(q);
	q = quic_new();
	f = crypto_frame(fr, (const __u8 *)"\x02\x00\x00\x00", 0, 4);
	l1 = initial(d, QUIC_V1, dcid, 8, 0, fr, f);
	CHECK_INT("quic: a ServerHello in a client Initial", quic_feed(q, d, l1, name, &ech),
	          -EBADMSG);
	quic_free(q);
}

int main(void)
{
	test_name_clean();
	test_dns();
	test_dnscache();
	test_tls();
	test_http();
	test_quic();
	return check_done();
}

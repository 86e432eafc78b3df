// SPDX-License-Identifier: GPL-2.0-only
/* The naming core on crafted capture events (no kernel): TCP reassembly in sequence
 * order (a ClientHello over two segments, out of order), both directions of a
 * connection sharing the name, precedence TLS over HTTP over DNS, DNS answers per owner
 * (the same user's first, then anyone's), DNS flows named by their question, parse
 * failures counted. */
#define CHECK_SUITE "naming"
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "core/dest.h"
#include "core/flowtab.h"
#include "core/naming.h"

static size_t put16(__u8 *p, unsigned v)
{
	p[0] = v >> 8;
	p[1] = v;
	return 2;
}

/* A TLS 1.2-shaped ClientHello record for host, padded with a padding extension to
 * about total bytes. */
static size_t client_hello_ech(__u8 *b, const char *host, size_t pad, bool ech)
{
	size_t hl = strlen(host), o = 0, hs, ext;

	b[o++] = 0x16; /* handshake record, TLS 1.0 */
	b[o++] = 3;
	b[o++] = 1;
	o += 2; /* record length */
	hs = o;
	b[o++] = 1; /* ClientHello */
	o += 3;     /* handshake length */
	b[o++] = 3;
	b[o++] = 3;
	memset(b + o, 0x11, 32); /* random */
	o += 32;
	b[o++] = 0; /* session id */
	o += put16(b + o, 2);
	o += put16(b + o, 0x1301);
	b[o++] = 1; /* compression: null */
	b[o++] = 0;
	ext = o;
	o += 2;
	o += put16(b + o, 0); /* server_name */
	o += put16(b + o, hl + 5);
	o += put16(b + o, hl + 3);
	b[o++] = 0;
	o += put16(b + o, hl);
	memcpy(b + o, host, hl);
	o += hl;
	if (ech) { /* encrypted_client_hello, outer: type, cipher suite, config id, enc, payload */
		static const __u8 body[] = {0, 0, 1, 0, 1, 7, 0, 2, 0xaa, 0xbb, 0, 3, 1, 2, 3};

		o += put16(b + o, 0xfe0d);
		o += put16(b + o, sizeof(body));
		memcpy(b + o, body, sizeof(body));
		o += sizeof(body);
	}
	o += put16(b + o, 21); /* padding */
	o += put16(b + o, pad);
	memset(b + o, 0, pad);
	o += pad;
	put16(b + ext, o - ext - 2);
	b[hs + 1] = (o - hs - 4) >> 16;
	put16(b + hs + 2, o - hs - 4);
	put16(b + 3, o - 5);
	return o;
}

static size_t client_hello(__u8 *b, const char *host, size_t pad)
{
	return client_hello_ech(b, host, pad, false);
}

/* A DNS response: qname IN A, answered by addr (IPv4) with ttl. */
static size_t dns_response(__u8 *b, const char *qname, const __u8 v4[4], __u32 ttl)
{
	size_t o = 0;
	const char *p = qname;

	o += put16(b + o, 0x1234);
	o += put16(b + o, 0x8180);
	o += put16(b + o, 1);
	o += put16(b + o, 1);
	o += put16(b + o, 0);
	o += put16(b + o, 0);
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		b[o++] = l;
		memcpy(b + o, p, l);
		o += l;
		p += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	o += put16(b + o, 1);
	o += put16(b + o, 1);
	o += put16(b + o, 0xc00c); /* the question's name */
	o += put16(b + o, 1);
	o += put16(b + o, 1);
	o += put16(b + o, ttl >> 16);
	o += put16(b + o, ttl & 0xffff);
	o += put16(b + o, 4);
	memcpy(b + o, v4, 4);
	return o + 4;
}

static void v4(__u8 a[16], __u8 x, __u8 y, __u8 z, __u8 w)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = x;
	a[13] = y;
	a[14] = z;
	a[15] = w;
}

/* The key of a packet on ifindex 1: ingress = from the user (near) to far. */
static struct flow_key key(int dir, __u8 proto, const __u8 near[16], const __u8 far[16],
                           __u16 nport, __u16 fport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.ifindex = 1;
	k.dir = dir;
	k.ip_version = 4;
	k.proto = proto;
	memcpy(k.src, dir == DIR_INGRESS ? near : far, 16);
	memcpy(k.dst, dir == DIR_INGRESS ? far : near, 16);
	k.sport = dir == DIR_INGRESS ? nport : fport;
	k.dport = dir == DIR_INGRESS ? fport : nport;
	return k;
}

static struct name_event ev;

static void feed(struct naming *n, const struct flow_key *k, __u32 seq, const __u8 *data,
                 size_t len)
{
	memset(&ev, 0, NAME_EVENT_HDR);
	ev.key = *k;
	ev.seq = seq;
	ev.pay_len = len;
	ev.len = len > NAME_CAP_BYTES ? NAME_CAP_BYTES : len;
	memcpy(ev.data, data, ev.len);
	naming_event(n, &ev, NAME_EVENT_HDR + ev.len);
}

static struct flow flow_of(const struct flow_key *k, const char *user)
{
	struct flow f;

	memset(&f, 0, sizeof(f));
	f.key = *k;
	f.user = user;
	return f;
}

int main(void)
{
	struct naming_cfg cfg = {.dns_cache = 64, .dns_min_ttl = 60};
	struct naming *n = naming_new(&cfg, NULL, NULL);
	__u8 user[16], user2[16], web[16], dns[16], cdn[16], buf[4096];
	__u64 cnt[NCNT_MAX];
	struct flow f, g;
	size_t len;

	CHECK("naming_new", n != NULL);
	if (!n)
		return check_done();
	v4(user, 192, 0, 2, 10);
	v4(user2, 192, 0, 2, 11);
	v4(web, 203, 0, 113, 10);
	v4(dns, 198, 51, 100, 53);
	v4(cdn, 203, 0, 113, 20);

	/* a ClientHello of ~1700 bytes in two segments, the second first */
	len = client_hello(buf, "shop.example", 1600);
	struct flow_key tk = key(DIR_INGRESS, 6, user, web, 40000, 8443);
	struct flow_key tr = key(DIR_EGRESS, 6, user, web, 40000, 8443);

	feed(n, &tk, 1000 + 1000, buf + 1000, len - 1000);
	f = flow_of(&tk, NULL);
	naming_flow(n, &f, true);
	CHECK("second segment alone: no name", f.dest.name == NULL);
	feed(n, &tk, 1000, buf, 1000);
	naming_flow(n, &f, false);
	CHECK_STR("ClientHello over two segments, out of order: the name", f.dest.name,
	          "shop.example");
	CHECK_INT("... from tls", f.dest.name_src, NAME_TLS);
	g = flow_of(&tr, NULL);
	naming_flow(n, &g, true);
	CHECK_STR("the other direction carries it", g.dest.name, "shop.example");
	{
		/* a named connection reads nothing more: a malformed ClientHello later is not
		 * even looked at */
		size_t l = client_hello(buf, "x.example", 10);

		buf[43] = 0xff; /* its session id length lies */
		feed(n, &tr, 9, buf, l);
		naming_counters(n, cnt);
		CHECK_INT("a named connection's later bytes are not parsed",
		          cnt[NCNT_TLS_MALFORMED], 0);
	}

	/* DNS: alice and bob resolve different names to one address */
	struct flow_key da = key(DIR_EGRESS, 17, user, dns, 5000, 53);
	struct flow_key db = key(DIR_EGRESS, 17, user2, dns, 5001, 53);

	len = dns_response(buf, "alpha.example", cdn + 12, 30);
	feed(n, &da, 0, buf, len);
	/* owner: without users, the interface; give flows users to tell them apart */
	f = flow_of(&da, NULL);
	naming_flow(n, &f, true);
	CHECK_STR("a DNS flow carries its question", f.dest.name, "alpha.example");
	CHECK_INT("... from dns", f.dest.name_src, NAME_DNS);
	len = dns_response(buf, "beta.example", cdn + 12, 30);
	feed(n, &db, 0, buf, len);
	struct flow_key ca = key(DIR_INGRESS, 1, user, cdn, 8, 0);

	f = flow_of(&ca, NULL);
	naming_flow(n, &f, true);
	CHECK_STR("a flow to the answered address: the newest answer for its owner", f.dest.name,
	          "beta.example");
	CHECK_INT("... from dns", f.dest.name_src, NAME_DNS);

	/* precedence: a DNS-named connection whose ClientHello then comes: tls wins; an HTTP
	 * request on another connection: http over dns */
	struct flow_key hk = key(DIR_INGRESS, 6, user, cdn, 40001, 80);
	static const char req[] = "GET / HTTP/1.1\r\nHost: www.shop.example:80\r\n\r\n";

	f = flow_of(&hk, NULL);
	naming_flow(n, &f, true);
	CHECK_STR("before its first payload: the DNS name", f.dest.name, "beta.example");
	feed(n, &hk, 77, (const __u8 *)req, sizeof(req) - 1);
	naming_flow(n, &f, false);
	CHECK_STR("then the Host header, port stripped", f.dest.name, "www.shop.example");
	CHECK_INT("... from http", f.dest.name_src, NAME_HTTP);

	struct flow_key tk2 = key(DIR_INGRESS, 6, user, cdn, 40002, 443);

	f = flow_of(&tk2, NULL);
	naming_flow(n, &f, true);
	CHECK_INT("TLS connection, before the ClientHello: dns", f.dest.name_src, NAME_DNS);
	len = client_hello(buf, "cdn.example", 10);
	feed(n, &tk2, 5, buf, len);
	naming_flow(n, &f, false);
	CHECK_STR("then the SNI", f.dest.name, "cdn.example");
	CHECK_INT("... from tls over dns", f.dest.name_src, NAME_TLS);

	/* Encrypted Client Hello: the outer name, marked */
	struct flow_key ek = key(DIR_INGRESS, 6, user2, web, 40006, 443);

	len = client_hello_ech(buf, "public.example", 10, true);
	feed(n, &ek, 1, buf, len);
	f = flow_of(&ek, NULL);
	naming_flow(n, &f, true);
	CHECK_STR("ECH: the outer name", f.dest.name, "public.example");
	CHECK("ECH: marked", f.dest.ech && f.dest.name_src == NAME_TLS);
	CHECK("no ECH: not marked", !g.dest.ech);

	/* a Host header that is an address names nothing: the DNS name stays */
	struct flow_key hk2 = key(DIR_INGRESS, 6, user, cdn, 40005, 80);
	static const char req2[] = "GET / HTTP/1.1\r\nHost: 203.0.113.20\r\n\r\n";

	f = flow_of(&hk2, NULL);
	naming_flow(n, &f, true);
	feed(n, &hk2, 1, (const __u8 *)req2, sizeof(req2) - 1);
	naming_flow(n, &f, false);
	CHECK_STR("Host: an address: the DNS name stays", f.dest.name, "beta.example");
	CHECK_INT("... from dns", f.dest.name_src, NAME_DNS);

	/* failures are counted */
	static const __u8 bad_dns[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c};
	feed(n, &da, 0, bad_dns, sizeof(bad_dns));
	len = client_hello(buf, "x.example", 10);
	buf[43] = 0xff; /* a ClientHello whose session id length lies */
	struct flow_key tk3 = key(DIR_INGRESS, 6, user, web, 40003, 443);
	feed(n, &tk3, 1, buf, len);
	naming_counters(n, cnt);
	CHECK_INT("malformed DNS counted", cnt[NCNT_DNS_MALFORMED], 1);
	CHECK_INT("malformed TLS counted", cnt[NCNT_TLS_MALFORMED], 1);
	CHECK_INT("nothing else", cnt[NCNT_QUIC_MALFORMED] + cnt[NCNT_HTTP_MALFORMED], 0);

	/* a flow without DNS or first packets: no name, never another connection's */
	struct flow_key other = key(DIR_INGRESS, 6, user2, web, 40004, 443);

	f = flow_of(&other, NULL);
	naming_flow(n, &f, true);
	CHECK("another connection to a named address: no name", f.dest.name == NULL);
	naming_free(n);
	/* every counter has its name, as JSON, the table and /metrics print it */
	CHECK_STR("counter names: names_unstored", naming_counter_names[NCNT_NAMES_UNSTORED],
	          "names_unstored");
	CHECK_STR("counter names: names_unfollowed", naming_counter_names[NCNT_UNFOLLOWED],
	          "names_unfollowed");
	for (int c = 0; c < NCNT_MAX; c++)
		CHECK("counter names: each named", naming_counter_names[c] != NULL);
	return check_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/* --group-by user: per-user sums and each user's top remote addresses (the far side of
 * the tunnel), most bytes first, ties by address. */
#define CHECK_SUITE "group"
#include <stdlib.h>
#include "check.h"
#include "sinks/sink.h"

static struct flow mk(const char *user, int dir, int remote, __u64 pkts, __u64 bytes)
{
	struct flow f = {.user = user, .packets = pkts, .bytes = bytes, .rate_bps = bytes * 8.0};
	__u8 *far = dir == DIR_INGRESS ? f.key.dst : f.key.src;
	__u8 *near = dir == DIR_INGRESS ? f.key.src : f.key.dst;

	f.key.dir = dir;
	f.key.ip_version = 4;
	far[10] = far[11] = near[10] = near[11] = 0xff;
	far[12] = 203, far[14] = 113, far[15] = remote;
	near[12] = 10, near[15] = 1;
	return f;
}

static struct flow named(const char *user, int dir, int remote, __u64 bytes, const char *name)
{
	struct flow f = mk(user, dir, remote, 1, bytes);

	f.dest.name = name;
	f.dest.name_src = name ? NAME_TLS : NAME_NONE;
	return f;
}

/* Destinations by name where the flows have one: a name's addresses together (a CDN
 * serves it from several), an address's flows by name apart (it serves several sites),
 * the flows without a name by address. */
static void by_name(void)
{
	const char *carol = "carol", *shop = "shop.example", *blog = "blog.example";
	struct flow f[] = {
	    named(carol, DIR_INGRESS, 5, 300, shop),
	    named(carol, DIR_INGRESS, 6, 500, shop),
	    named(carol, DIR_EGRESS, 7, 250, shop),
	    named(carol, DIR_INGRESS, 5, 700, blog),
	    named(carol, DIR_INGRESS, 5, 600, NULL),
	    named(carol, DIR_INGRESS, 9, 100, NULL),
	    named(carol, DIR_INGRESS, 8, 700, "zz.example"),
	};
	struct flow *v[7];
	struct user_total *t;
	size_t n;

	f[1].dest.name_src = NAME_DNS;  /* the biggest of shop.example's flows */
	f[4].dest.name_src = NAME_HTTP; /* no name: its source is none */
	for (int i = 0; i < 7; i++)
		v[i] = &f[i];
	t = group_by_user(v, 7, &n);
	CHECK_INT("by name: one user", n, 1);
	CHECK_INT("by name: three top destinations of five", t[0].ntop, USER_TOP_DESTS);
	CHECK_STR("by name: top 1 is shop.example, its three addresses together", t[0].top[0].name,
	          "shop.example");
	CHECK_INT("by name: shop.example's source is its biggest flow's (dns)",
	          t[0].top[0].name_src, NAME_DNS);
	CHECK_INT("by name: shop.example's bytes", t[0].top[0].bytes, 1050);
	CHECK_INT("by name: shop.example's address is its biggest flow's (.6)",
	          t[0].top[0].addr[15], 6);
	CHECK_INT("by name: its ip version", t[0].top[0].ip_version, 4);
	/* blog.example and zz.example at 700: names in order */
	CHECK_STR("by name: top 2 is blog.example (.5's other site)", t[0].top[1].name,
	          "blog.example");
	CHECK_INT("by name: blog.example's bytes", t[0].top[1].bytes, 700);
	CHECK_INT("by name: blog.example's address", t[0].top[1].addr[15], 5);
	CHECK_STR("by name: top 3 is zz.example", t[0].top[2].name, "zz.example");
	CHECK_INT("by name: zz.example's source", t[0].top[2].name_src, NAME_TLS);
	free(t);
	/* the nameless by address, after a name of the same bytes */
	f[3].bytes = 600;
	f[6].bytes = 10;
	t = group_by_user(v, 7, &n);
	CHECK_STR("by name: a tie: the name first", t[0].top[1].name, "blog.example");
	CHECK("by name: then .5 without a name", !t[0].top[2].name);
	CHECK_INT("by name: .5's nameless bytes", t[0].top[2].bytes, 600);
	CHECK_INT("by name: .5", t[0].top[2].addr[15], 5);
	CHECK_INT("by name: .5 has no name source", t[0].top[2].name_src, NAME_NONE);
	free(t);
}

int main(void)
{
	const char *alice = "alice", *bob = "bob";
	struct flow f[] = {
	    mk(alice, DIR_INGRESS, 5, 1, 100), mk(alice, DIR_EGRESS, 5, 2, 300),
	    mk(alice, DIR_INGRESS, 7, 1, 400), mk(alice, DIR_INGRESS, 6, 1, 400),
	    mk(alice, DIR_INGRESS, 9, 1, 50),  mk(bob, DIR_INGRESS, 5, 3, 2000),
	    mk(NULL, DIR_EGRESS, 8, 1, 10),
	};
	struct flow *v[7];
	struct user_total *t;
	size_t n;

	for (int i = 0; i < 7; i++)
		v[i] = &f[i];
	t = group_by_user(v, 7, &n);
	CHECK_INT("three groups (the unattributed one too)", n, 3);
	CHECK_STR("most bytes first", t[0].user, "bob");
	CHECK_STR("then alice", t[1].user, "alice");
	CHECK("the unattributed last", t[2].user == NULL);
	CHECK_INT("alice: flows", t[1].flows, 5);
	CHECK_INT("alice: bytes in", t[1].bytes[DIR_INGRESS], 950);
	CHECK_INT("alice: bytes out", t[1].bytes[DIR_EGRESS], 300);
	CHECK_INT("alice: packets out", t[1].packets[DIR_EGRESS], 2);
	CHECK_INT("alice: rate", t[1].rate_bps, 1250 * 8);
	CHECK_INT("alice: three top remotes of four", t[1].ntop, USER_TOP_DESTS);
	/* .5: 100 in + 300 out = 400, ties .6 and .7 (400): lower address first */
	CHECK_INT("alice: top 1 is .5 (lowest of three at 400)", t[1].top[0].addr[15], 5);
	CHECK_INT("alice: top 2 is .6", t[1].top[1].addr[15], 6);
	CHECK_INT("alice: top 3 is .7", t[1].top[2].addr[15], 7);
	CHECK_INT("alice: top bytes", t[1].top[0].bytes + t[1].top[1].bytes + t[1].top[2].bytes,
	          1200);
	CHECK_INT("alice: ip version kept", t[1].top[0].ip_version, 4);
	CHECK_INT("bob: one remote", t[0].ntop, 1);
	CHECK_INT("bob: its bytes", t[0].top[0].bytes, 2000);
	free(t);
	t = group_by_user(v, 0, &n);
	CHECK_INT("no flows, no groups", n, 0);
	free(t);
	by_name();

	/* totals since start: the deltas of each report's fresh flows, kept when the flows
	 * are forgotten */
	{
		struct user_totals *ut = user_totals_new();

		for (int i = 0; i < 7; i++) {
			f[i].gen = 1;
			f[i].d_packets = f[i].packets;
			f[i].d_bytes = f[i].bytes;
		}
		free(user_totals_update(ut, v, 7, 1, &n));
		/* the next report: alice's first flow sends 10 more bytes; the others idle */
		f[0].gen = 2;
		f[0].d_packets = 1;
		f[0].d_bytes = 10;
		f[0].bytes += 10;
		free(user_totals_update(ut, v, 7, 2, &n));
		/* then every flow is forgotten */
		t = user_totals_update(ut, v, 0, 3, &n);
		CHECK_INT("since start: every user still there", n, 3);
		CHECK_STR("since start: bob first", t[0].user, "bob");
		CHECK_INT("since start: bob's bytes in", t[0].bytes[DIR_INGRESS], 2000);
		CHECK_INT("since start: alice's bytes in (idle flows not counted twice)",
		          t[1].bytes[DIR_INGRESS], 960);
		CHECK_INT("since start: alice's bytes out", t[1].bytes[DIR_EGRESS], 300);
		CHECK_INT("since start: alice's packets in", t[1].packets[DIR_INGRESS], 5);
		CHECK_INT("since start: no flow in memory", t[1].flows, 0);
		CHECK_INT("since start: the unattributed kept", t[2].bytes[DIR_EGRESS], 10);
		free(t);
		user_totals_free(ut);
	}
	return check_done();
}

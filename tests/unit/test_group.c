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

int main(void)
{
	const char *alice = "alice", *bob = "bob";
	struct flow f[] = {
		mk(alice, DIR_INGRESS, 5, 1, 100), mk(alice, DIR_EGRESS, 5, 2, 300),
		mk(alice, DIR_INGRESS, 7, 1, 400), mk(alice, DIR_INGRESS, 6, 1, 400),
		mk(alice, DIR_INGRESS, 9, 1, 50), mk(bob, DIR_INGRESS, 5, 3, 2000),
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
	CHECK_INT("alice: top bytes",
		  t[1].top[0].bytes + t[1].top[1].bytes + t[1].top[2].bytes, 1200);
	CHECK_INT("alice: ip version kept", t[1].top[0].ip_version, 4);
	CHECK_INT("bob: one remote", t[0].ntop, 1);
	CHECK_INT("bob: its bytes", t[0].top[0].bytes, 2000);
	free(t);
	t = group_by_user(v, 0, &n);
	CHECK_INT("no flows, no groups", n, 0);
	free(t);

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

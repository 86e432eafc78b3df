/* SPDX-License-Identifier: GPL-2.0-only */
/* The side rule (core/side.h): which end of a flow is the VPN user's, on a server's
 * session interface, on a VPN client's tun0, and forced by --side. */
#define CHECK_SUITE "side"
#include "check.h"
#include "core/flowtab.h"
#include "core/side.h"

static void v4(__u8 a[16], int x, int y, int z, int w)
{
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	a[12] = x;
	a[13] = y;
	a[14] = z;
	a[15] = w;
}

static struct flow_key key(int ifindex, int dir, const __u8 *src, const __u8 *dst)
{
	struct flow_key k = {.ifindex = ifindex, .dir = dir, .ip_version = 4, .proto = 6};

	memcpy(k.src, src, 16);
	memcpy(k.dst, dst, 16);
	k.sport = dir == DIR_EGRESS ? 40000 : 443;
	k.dport = dir == DIR_EGRESS ? 443 : 40000;
	return k;
}

int main(void)
{
	__u8 own[1][16], peer[1][16], remote[16], user[16], gw[16];
	const __u8 p32[1] = {128}, p24[1] = {120};
	struct flow_key out, in;

	v4(own[0], 192, 0, 2, 10);
	v4(remote, 198, 51, 100, 7);
	/* a client's tun0 (ifindex 5): the host's own address is near both ways */
	side_set_addrs(5, (const __u8(*)[16])own, p32, 1, NULL, 0);
	side_commit();
	out = key(5, DIR_EGRESS, own[0], remote);
	in = key(5, DIR_INGRESS, remote, own[0]);
	CHECK("client egress: far is the remote", !memcmp(flow_far(&out), remote, 16));
	CHECK("client ingress: far is the remote", !memcmp(flow_far(&in), remote, 16));
	CHECK("client ingress: near is the host", !memcmp(flow_near(&in), own[0], 16));
	CHECK_INT("client egress: the user sent it", flow_user_sent(&out), 1);
	CHECK_INT("client ingress: the user received it", flow_user_sent(&in), 0);
	CHECK_INT("client ingress: far port", flow_far_port(&in), 443);
	CHECK_INT("client ingress: near port", flow_near_port(&in), 40000);

	/* an interface without addresses known: server orientation, as before */
	v4(user, 192, 0, 2, 20);
	in = key(7, DIR_INGRESS, user, remote);
	out = key(7, DIR_EGRESS, remote, user);
	CHECK("unknown interface ingress: far is the destination", flow_far(&in) == in.dst);
	CHECK("unknown interface egress: far is the source", flow_far(&out) == out.src);

	/* a server interface with its own address that the flow does not involve */
	v4(own[0], 192, 0, 2, 1);
	side_set_addrs(8, (const __u8(*)[16])own, p24, 1, NULL, 0);
	side_commit();
	in = key(8, DIR_INGRESS, user, remote);
	CHECK("server, gateway address not involved: far is the destination",
	      flow_far(&in) == in.dst);

	/* ocserv's vpnsN: local 192.0.2.1 peer 192.0.2.20: the user talking to the gateway */
	memcpy(peer[0], user, 16);
	side_set_addrs(9, (const __u8(*)[16])own, p32, 1, (const __u8(*)[16])peer, 1);
	side_commit();
	in = key(9, DIR_INGRESS, user, own[0]);
	out = key(9, DIR_EGRESS, own[0], user);
	CHECK("ocserv, user to gateway: near is the peer", flow_near(&in) == in.src);
	CHECK("ocserv, gateway to user: near is the peer", flow_near(&out) == out.dst);

	/* a server's tun, 192.0.2.1/24: a user in the prefix pinging the gateway */
	in = key(8, DIR_INGRESS, user, own[0]);
	out = key(8, DIR_EGRESS, own[0], user);
	CHECK("server /24, user to gateway: the user is near", flow_near(&in) == in.src);
	CHECK("server /24, gateway to user: the user is near", flow_near(&out) == out.dst);
	/* ... and once it forwarded a flow, even one to outside its prefix stays server */
	in = key(8, DIR_INGRESS, user, remote);
	side_learn(&in);
	side_commit();
	in = key(8, DIR_INGRESS, remote, own[0]);
	CHECK("forwarding interface: server-side", flow_near(&in) == in.src);

	/* an OpenVPN client, 10.8.0.2/24: its gateway 10.8.0.1 is in the prefix */
	v4(own[0], 10, 8, 0, 2);
	v4(gw, 10, 8, 0, 1);
	side_set_addrs(11, (const __u8(*)[16])own, p24, 1, NULL, 0);
	side_commit();
	in = key(11, DIR_INGRESS, gw, own[0]);
	CHECK("client /24, before any remote: its gateway looks like the user",
	      flow_near(&in) == in.src);
	out = key(11, DIR_EGRESS, own[0], remote);
	CHECK("client /24: a remote site is far", flow_far(&out) == out.dst);
	side_learn(&out);
	side_commit();
	CHECK("client /24, having reached a remote: its gateway is far", flow_far(&in) == in.src);
	side_learn(&in);
	side_commit();
	CHECK("client /24: still so", flow_far(&in) == in.src);
	v4(own[0], 192, 0, 2, 1);

	/* a session interface (events named it) with the gateway's address only */
	side_set_addrs(10, (const __u8(*)[16])own, p32, 1, NULL, 0);
	side_commit();
	in = key(10, DIR_INGRESS, user, own[0]);
	CHECK("no session yet: the gateway's own address looks near", flow_near(&in) == in.dst);
	side_set_session(10);
	side_commit();
	CHECK_INT("session interface", side_is_session(10), 1);
	CHECK("session interface: the user is near", flow_near(&in) == in.src);

	/* forced */
	side_set_mode(SIDE_SERVER);
	in = key(5, DIR_INGRESS, remote, own[0]);
	v4(own[0], 192, 0, 2, 10);
	in = key(5, DIR_INGRESS, remote, own[0]);
	CHECK("--side server: far is the destination of ingress", flow_far(&in) == in.dst);
	side_set_mode(SIDE_CLIENT);
	in = key(7, DIR_INGRESS, remote, user);
	CHECK("--side client, no addresses: far is the source of ingress", flow_far(&in) == in.src);
	in = key(5, DIR_INGRESS, remote, own[0]);
	CHECK("--side client: the own address is near", flow_near(&in) == in.dst);

	/* a change shows from the commit on */
	side_set_mode(SIDE_AUTO);
	v4(own[0], 192, 0, 2, 30);
	side_set_addrs(12, (const __u8(*)[16])own, p32, 1, NULL, 0);
	in = key(12, DIR_INGRESS, remote, own[0]);
	CHECK("before the commit: server orientation", flow_near(&in) == in.src);
	side_commit();
	CHECK("after it: the own address is near", flow_near(&in) == in.dst);
	v4(own[0], 192, 0, 2, 10);

	/* gone, and snapshots released */
	side_set_mode(SIDE_AUTO);
	side_forget(5);
	side_commit();
	side_release();
	side_release();
	side_release();
	in = key(5, DIR_INGRESS, remote, own[0]);
	CHECK("forgotten interface: server orientation", flow_far(&in) == in.dst);
	side_reset();
	return check_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/* WireGuard peer sessions: a session adds only what came while it was open, closes with
 * its reason, and every open one closes at exit, in the order they started. */
#define CHECK_SUITE "peers"
#include <glib.h>
#include "check.h"
#include "core/peers.h"

int main(void)
{
	struct peers *ps = peers_new();
	const char *a = peers_intern(ps, "AAAA"), *b = peers_intern(ps, "BBBB");
	char copy[] = "AAAA";
	struct peer_session *v;
	size_t n;

	CHECK("interned once", peers_intern(ps, copy) == a);
	peers_add(ps, a, DIR_INGRESS, 1, 100); /* before its session: not counted */
	peers_open(ps, "wg0", a, "alice", peers_intern(ps, "198.51.100.2:51001"), 1000);
	peers_open(ps, "wg0", b, NULL, NULL, 500);
	peers_open(ps, "wg0", a, "alice", NULL, 2000); /* already open: kept */
	peers_add(ps, a, DIR_INGRESS, 4, 512);
	peers_add(ps, a, DIR_EGRESS, 4, 512);
	peers_add(ps, a, DIR_INGRESS, 2, 56);
	peers_add(ps, b, DIR_EGRESS, 3, 300);
	CHECK_INT("two open", peers_open_count(ps), 2);
	CHECK("nothing closed yet", !peers_take_closed(ps, &n) && n == 0);

	peers_close(ps, a, 9000, SESSION_REMOVED);
	peers_add(ps, a, DIR_INGRESS, 7, 700); /* after: not counted */
	v = peers_take_closed(ps, &n);
	CHECK_INT("one closed", n, 1);
	CHECK_STR("its user", v[0].user, "alice");
	CHECK_STR("its endpoint, from the start", v[0].endpoint, "198.51.100.2:51001");
	CHECK_STR("its interface", v[0].ifname, "wg0");
	CHECK_INT("start", v[0].start_ns, 1000);
	CHECK_INT("end", v[0].end_ns, 9000);
	CHECK_STR("reason", session_end_names[v[0].end], "peer removed");
	CHECK_INT("packets in", v[0].packets[DIR_INGRESS], 6);
	CHECK_INT("bytes in", v[0].bytes[DIR_INGRESS], 568);
	CHECK_INT("packets out", v[0].packets[DIR_EGRESS], 4);
	CHECK_INT("bytes out", v[0].bytes[DIR_EGRESS], 512);
	g_free(v);

	/* a again, fresh totals */
	peers_open(ps, "wg0", a, "alice", NULL, 10000);
	peers_add(ps, a, DIR_EGRESS, 1, 84);
	peers_close_all(ps, 20000);
	CHECK_INT("none open after exit", peers_open_count(ps), 0);
	v = peers_take_closed(ps, &n);
	CHECK_INT("two closed at exit", n, 2);
	CHECK("in the order they started", n == 2 && v[0].peer == b && v[1].peer == a);
	CHECK_STR("exit reason", session_end_names[v[1].end], "tunflow exit");
	CHECK_INT("a's new session starts over", v[1].bytes[DIR_EGRESS] + v[1].bytes[DIR_INGRESS],
	          84);
	CHECK_INT("b's bytes out", v[0].bytes[DIR_EGRESS], 300);
	CHECK_INT("end at exit", v[0].end_ns, 20000);
	g_free(v);
	peers_free(ps);
	return check_done();
}

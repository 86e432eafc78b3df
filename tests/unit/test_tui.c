// SPDX-License-Identifier: GPL-2.0-only
/* The full-screen view without a terminal: synthetic reports into the sink, its screen
 * read back from curses. Both directions of a connection on one line; per-user totals
 * that stay when the flows are forgotten; and at every width, an address is whole or
 * elided in the middle with the mark, never cut into another valid-looking address. */
#define CHECK_SUITE "tui"
#include <curses.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <glib.h>
#include "check.h"
#include "core/datapath.h"
#include "sinks/sink.h"
#include "sources/ifwatch.h"

static struct flow mk(const char *user, int dir, const char *near, const char *far, __u16 near_port,
                      __u16 far_port, __u64 bytes)
{
	struct flow f = {.user = user, .packets = bytes / 100, .bytes = bytes, .gen = 1};
	int v6 = strchr(near, ':') != NULL;
	__u8 n[16] = {0}, r[16] = {0};

	if (v6) {
		inet_pton(AF_INET6, near, n);
		inet_pton(AF_INET6, far, r);
	} else {
		n[10] = n[11] = r[10] = r[11] = 0xff;
		inet_pton(AF_INET, near, n + 12);
		inet_pton(AF_INET, far, r + 12);
	}
	f.key.ifindex = 1;
	f.key.dir = dir;
	f.key.ip_version = v6 ? 6 : 4;
	f.key.proto = 6;
	memcpy(dir == DIR_INGRESS ? f.key.src : f.key.dst, n, 16);
	memcpy(dir == DIR_INGRESS ? f.key.dst : f.key.src, r, 16);
	f.key.sport = dir == DIR_INGRESS ? near_port : far_port;
	f.key.dport = dir == DIR_INGRESS ? far_port : near_port;
	f.d_packets = f.packets;
	f.d_bytes = f.bytes;
	f.first_ns = f.last_ns = 1000000000;
	return f;
}

/* Line y of the screen, trailing blanks cut. */
static const char *line(int y, char *buf)
{
	int n = mvinnstr(y, 0, buf, 400);

	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static int report(struct sink *s, struct flow *f, size_t n, __u64 gen)
{
	static __u64 counters[CNT_ALL];
	struct flow *v[8];
	struct report r = {.flows = v,
	                   .nflows = n,
	                   .gen = gen,
	                   .interval_s = 1,
	                   .counters = counters,
	                   .nifaces = 1,
	                   .users = true};

	for (size_t i = 0; i < n; i++)
		v[i] = &f[i];
	return s->report(s, &r);
}

int main(void)
{
	static const char *const v6far = "[2001:db8:ffff:1234:5678:9abc:def0:1]:443";
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	struct tui_opts o = {0};
	struct flow f[] = {
	    mk("alice", DIR_INGRESS, "2001:db8::9", "2001:db8:ffff:1234:5678:9abc:def0:1", 3000,
	       443, 2600),
	    mk("alice", DIR_EGRESS, "2001:db8::9", "2001:db8:ffff:1234:5678:9abc:def0:1", 3000, 443,
	       90000),
	    mk("bob", DIR_INGRESS, "192.0.2.200", "203.0.113.80", 2000, 5201, 1000),
	};
	struct sink *s;
	char buf[512], want[512];
	int widths[] = {200, 100, 80, 64, 50, 40}, bad = 0;

	setenv("TERM", "xterm", 1);
	setenv("COLUMNS", "200", 1);
	setenv("LINES", "24", 1);
	s = sink_tui_new(out, in, &o);
	CHECK("a view on a terminal that is /dev/null", s != NULL);
	if (!s)
		return check_done();
	CHECK_INT("report", report(s, f, 3, 1), 0);
	CHECK_STR("200 columns: the header", line(1, buf),
	          "USER   IFACE PROTO LOCAL              REMOTE                                    "
	          "  SENT   RECV   PKTS DUR        2s    10s    40s");
	snprintf(want, sizeof(want),
	         "alice  %-5s tcp   [2001:db8::9]:3000 %s   2600  90000    926 0s", iface_name(1),
	         v6far);
	line(2, buf);
	buf[strlen(want)] = 0;
	CHECK_STR("both directions on one line, most first, exact numbers", buf, want);
	for (size_t i = 0; i < sizeof(widths) / sizeof(*widths); i++) {
		resize_term(24, widths[i]);
		report(s, f, 3, 1 + i);
		for (int y = 2; y <= 3; y++) {
			const char *l = line(y, buf);
			const char *full = y == 2 ? v6far : "203.0.113.80:5201";

			/* whole, or elided with the mark (".." without UTF-8) */
			if (!strstr(l, full) && !strstr(l, "\xe2\x80\xa6") && !strstr(l, "..")) {
				printf("# %d columns: '%s'\n", widths[i], l);
				bad++;
			}
			if (g_utf8_strlen(l, -1) > widths[i])
				bad++;
		}
	}
	CHECK_INT("every width: addresses whole or elided with the mark, lines in the width", bad,
	          0);
	resize_term(24, 80);
	report(s, f, 3, 10);
	line(2, buf);
	CHECK("80 columns: the IPv6 address elided in the middle",
	      !strncmp(buf, "alice  [2001:db8::9]:3000 [2001:db8:ffff:1", 42) &&
	          strstr(buf, "9abc:def0:1]:443   2.6k    90k"));
	s->close(s);

	/* the users view: totals since start, when every flow is forgotten */
	o.view = TUI_VIEW_USERS;
	s = sink_tui_new(out, in, &o);
	resize_term(24, 200);
	report(s, f, 3, 1);
	f[0].gen = f[1].gen = 2;
	f[0].d_bytes = 400;
	f[0].d_packets = 4;
	f[0].bytes += 400;
	f[0].packets += 4;
	f[1].d_bytes = f[1].d_packets = 0;
	report(s, f, 2, 2); /* bob forgotten; alice sent 400 more */
	report(s, f, 0, 3); /* every flow forgotten */
	CHECK_STR("users: header", line(1, buf),
	          "USER     CONNS   SENT   RECV   PKTS ACTIVE FIRST        2s    10s    40s");
	line(2, buf);
	buf[40] = 0;
	CHECK_STR("users: alice since start, no connection in memory", buf,
	          "alice        0   3000  90000    930 0s  ");
	line(3, buf);
	buf[40] = 0;
	CHECK_STR("users: bob kept", buf, "bob          0   1000      0     10 0s  ");
	s->close(s);

	/* a name for the far side: shown instead of the address, unless -n */
	for (int numeric = 0; numeric < 2; numeric++) {
		struct flow g =
		    mk("carol", DIR_INGRESS, "192.0.2.7", "198.51.100.9", 4000, 443, 500);

		g.dest.name = "www.example.com";
		g.dest.name_src = NAME_TLS;
		o.view = 0;
		o.numeric = numeric;
		s = sink_tui_new(out, in, &o);
		resize_term(24, 120);
		report(s, &g, 1, 1);
		line(2, buf);
		CHECK(numeric ? "-n: the address" : "the name with the port",
		      strstr(buf, numeric ? " 198.51.100.9:443 " : " www.example.com:443 ") !=
		          NULL);
		s->close(s);
	}
	return check_done();
}

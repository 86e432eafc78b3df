// SPDX-License-Identifier: GPL-2.0-only
/* WireGuard peers: the UAPI answer parser (a recorded wireguard-go answer, exactly; the
 * malformed ones, each refused with its reason), the longest-prefix lookup, the
 * "# Name =" lines, the socket read (missing, silent, malformed, errno) against a fake
 * UAPI server, and users_lookup() over it with session events.
 * With arguments "dump SOCKDIR IFACE": the peers read from a real socket, printed as
 * `wg show IFACE dump` prints them (without the preshared key and keepalive), for
 * tests/net/wireguard_peers.sh. */
#define CHECK_SUITE "wireguard"
#include "check.h"
#include "core/clock.h"
#include "sources/users_priv.h"
#include "sources/wireguard.h"
#include "util/log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* wireguard-go 0.0.20230223's answer to get=1 with two peers set by `wg set` (the
 * private key replaced). */
#define KEY_A_HEX "72e13874f997e84ea3c3e43dd8c38ed03584d93169c6ca8da66c90380186692f"
#define KEY_A "cuE4dPmX6E6jw+Q92MOO0DWE2TFpxsqNpmyQOAGGaS8="
#define KEY_B_HEX "71f46beb16ffb388c5a68e33d14babb465e03fb7f0afca22a1b3a0a60c290850"
#define KEY_B "cfRr6xb/s4jFpo4z0UurtGXgP7fwr8oiobOgpgwpCFA="
#define ZERO_HEX "0000000000000000000000000000000000000000000000000000000000000000"
static const char recorded[] = "private_key=" ZERO_HEX "\n"
                               "listen_port=51820\n"
                               "public_key=" KEY_A_HEX "\n"
                               "preshared_key=" ZERO_HEX "\n"
                               "protocol_version=1\n"
                               "endpoint=198.51.100.1:1234\n"
                               "last_handshake_time_sec=1700000000\n"
                               "last_handshake_time_nsec=123456789\n"
                               "tx_bytes=92\n"
                               "rx_bytes=148\n"
                               "persistent_keepalive_interval=0\n"
                               "allowed_ip=192.0.2.10/32\n"
                               "allowed_ip=2001:db8::10/128\n"
                               "public_key=" KEY_B_HEX "\n"
                               "preshared_key=" ZERO_HEX "\n"
                               "protocol_version=1\n"
                               "endpoint=[2001:db8::2]:51821\n"
                               "last_handshake_time_sec=0\n"
                               "last_handshake_time_nsec=0\n"
                               "tx_bytes=0\n"
                               "rx_bytes=0\n"
                               "persistent_keepalive_interval=0\n"
                               "allowed_ip=192.0.2.20/32\n"
                               "errno=0\n"
                               "\n";

static void addr(__u8 out[16], const char *s)
{
	int plen;

	if (!addr_parse(s, out, &plen))
		abort();
}

static int parse(const char *s, struct wg_dev *d, char *why)
{
	*why = 0;
	return wg_uapi_parse(s, strlen(s), d, why, 160);
}

static void test_recorded(void)
{
	struct wg_dev d = {0};
	char why[160], a[INET6_ADDRSTRLEN];
	__u8 x[16];

	CHECK_INT("recorded: parsed", parse(recorded, &d, why), 0);
	CHECK_INT("recorded: listen port", d.listen_port, 51820);
	CHECK_INT("recorded: peers", d.npeers, 2);
	if (d.npeers != 2)
		return;
	CHECK_STR("recorded: key A in base64 (as wg shows it)", d.peers[0].key, KEY_A);
	CHECK_STR("recorded: key B", d.peers[1].key, KEY_B);
	CHECK_STR("recorded: endpoint A", d.peers[0].endpoint, "198.51.100.1:1234");
	CHECK_INT("recorded: endpoint A port", d.peers[0].endpoint_port, 1234);
	addr(x, "198.51.100.1");
	CHECK("recorded: endpoint A address", !memcmp(d.peers[0].endpoint_addr, x, 16));
	CHECK_STR("recorded: endpoint B (IPv6)", d.peers[1].endpoint, "[2001:db8::2]:51821");
	CHECK_INT("recorded: handshake A", d.peers[0].handshake_sec, 1700000000);
	CHECK_INT("recorded: handshake A ns", d.peers[0].handshake_nsec, 123456789);
	CHECK_INT("recorded: rx A", d.peers[0].rx_bytes, 148);
	CHECK_INT("recorded: tx A", d.peers[0].tx_bytes, 92);
	CHECK_INT("recorded: allowed A", d.peers[0].nallowed, 2);
	CHECK_INT("recorded: allowed A[1] plen", d.peers[0].allowed[1].plen, 128);
	inet_ntop(AF_INET6, d.peers[0].allowed[1].addr, a, sizeof(a));
	CHECK_STR("recorded: allowed A[1]", a, "2001:db8::10");
	CHECK_INT("recorded: allowed A[0] plen (IPv4 /32 over 128 bits)",
	          d.peers[0].allowed[0].plen, 128);
	CHECK_INT("recorded: allowed B", d.peers[1].nallowed, 1);
	CHECK_INT("recorded: handshake B never", d.peers[1].handshake_sec, 0);
	CHECK("recorded: no name in a bare parse", !d.peers[0].name);
	wg_dev_clear(&d);
}

static void test_malformed(void)
{
	static const struct {
		const char *in, *why;
		int err;
	} t[] = {
	    {"", "the answer ends before errno=0 (0 lines)", -EINVAL},
	    {"errno=0\n", "line 1: no empty line after errno=0", -EINVAL},
	    {"errno=0\n\nlisten_port=1\n", "line 2: text after the answer's end", -EINVAL},
	    {"errno=1\n\n", "the interface answered errno=1", -EPROTO},
	    {"listen_port=1\n", "the answer ends before errno=0 (1 lines)", -EINVAL},
	    {"listen_port=1", "line 1: no newline at the end", -EINVAL},
	    {"listen_port=65536\nerrno=0\n\n", "line 1: a bad listen_port value", -EINVAL},
	    {"listen_port=-1\nerrno=0\n\n", "line 1: a bad listen_port value", -EINVAL},
	    {"listen_port= 1\nerrno=0\n\n", "line 1: a bad listen_port value", -EINVAL},
	    {"\nerrno=0\n\n", "line 1: an empty line before errno=", -EINVAL},
	    {"junk\nerrno=0\n\n", "line 1: not key=value", -EINVAL},
	    {"=1\nerrno=0\n\n", "line 1: not key=value", -EINVAL},
	    {"Public_Key=1\nerrno=0\n\n", "line 1: a key that is not lowercase letters", -EINVAL},
	    {"public_key=abc\nerrno=0\n\n", "line 1: public_key is not 64 hex digits", -EINVAL},
	    {"public_key=" KEY_A_HEX "0\nerrno=0\n\n", "line 1: public_key is not 64 hex digits",
	     -EINVAL},
	    {"public_key=72E13874F997E84EA3C3E43DD8C38ED03584D93169C6CA8DA66C90380186692F\n"
	     "errno=0\n\n",
	     "line 1: public_key is not 64 hex digits", -EINVAL},
	    {"allowed_ip=192.0.2.1/32\nerrno=0\n\n", "line 1: allowed_ip before any public_key",
	     -EINVAL},
	    {"public_key=" KEY_A_HEX "\nallowed_ip=192.0.2.1\nerrno=0\n\n",
	     "line 2: a bad allowed_ip value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\nallowed_ip=192.0.2.1/33\nerrno=0\n\n",
	     "line 2: a bad allowed_ip value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\nendpoint=192.0.2.1\nerrno=0\n\n",
	     "line 2: a bad endpoint value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\nendpoint=192.0.2.1:0\nerrno=0\n\n",
	     "line 2: a bad endpoint value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\nendpoint=[2001:db8::1:1\nerrno=0\n\n",
	     "line 2: a bad endpoint value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\nrx_bytes=18446744073709551616\nerrno=0\n\n",
	     "line 2: a bad rx_bytes value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\nlast_handshake_time_nsec=1000000000\nerrno=0\n\n",
	     "line 2: a bad last_handshake_time_nsec value", -EINVAL},
	    {"public_key=" KEY_A_HEX "\ntx_bytes=1 2\nerrno=0\n\n", "line 2: a bad tx_bytes value",
	     -EINVAL},
	};
	char name[96], why[160];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct wg_dev d = {0};

		snprintf(name, sizeof(name), "malformed %zu: refused", i);
		CHECK_INT(name, parse(t[i].in, &d, why), t[i].err);
		snprintf(name, sizeof(name), "malformed %zu: the reason", i);
		CHECK_STR(name, why, t[i].why);
		snprintf(name, sizeof(name), "malformed %zu: nothing kept", i);
		CHECK_INT(name, d.npeers, 0);
	}
	/* a NUL inside a line (the length says where the answer ends, not the NUL) */
	{
		static const char nul[] = "listen_port=1\0\nerrno=0\n\n";
		struct wg_dev d = {0};

		CHECK_INT("a NUL in a line: refused",
		          wg_uapi_parse(nul, sizeof(nul) - 1, &d, why, sizeof(why)), -EINVAL);
		CHECK_STR("a NUL in a line: the reason", why, "line 1: over-long, or a NUL");
	}
	/* a refused answer leaves what was there */
	{
		struct wg_dev d = {0};

		parse(recorded, &d, why);
		CHECK_INT("refused: the last good peers kept", parse("junk\n", &d, why), -EINVAL);
		CHECK_INT("refused: still 2 peers", d.npeers, 2);
		wg_dev_clear(&d);
	}
	/* unknown keys of a newer version are skipped */
	{
		struct wg_dev d = {0};

		CHECK_INT("newer keys: parsed",
		          parse("listen_port=1\nnew_thing=x\npublic_key=" KEY_A_HEX
		                "\nnew_peer_thing=y\nerrno=0\n\n",
		                &d, why),
		          0);
		CHECK_INT("newer keys: the peer", d.npeers, 1);
		wg_dev_clear(&d);
	}
}

static const char *peer_at(const struct wg_dev *d, const char *a)
{
	__u8 x[16];
	const struct wg_peer *p;

	addr(x, a);
	p = wg_dev_peer_of(d, x);
	return p ? p->key : NULL;
}

static void test_prefix(void)
{
	struct wg_dev d = {0};
	char why[160];

	/* A: 192.0.2.0/24 (written with host bits set: WireGuard clears them), 2001:db8::/32;
	 * B: 192.0.2.10/32 and 2001:db8:1::/48 */
	CHECK_INT("prefixes: parsed",
	          parse("public_key=" KEY_A_HEX "\nallowed_ip=192.0.2.77/24\n"
	                "allowed_ip=2001:db8::/32\n"
	                "public_key=" KEY_B_HEX "\nallowed_ip=192.0.2.10/32\n"
	                "allowed_ip=2001:db8:1::/48\nerrno=0\n\n",
	                &d, why),
	          0);
	CHECK_STR("longest prefix: the /32 wins", peer_at(&d, "192.0.2.10"), KEY_B);
	CHECK_STR("longest prefix: the /24 for the rest", peer_at(&d, "192.0.2.11"), KEY_A);
	CHECK_STR("longest prefix: outside", peer_at(&d, "198.51.100.1"), NULL);
	CHECK_STR("longest prefix: IPv6 /48", peer_at(&d, "2001:db8:1::5"), KEY_B);
	CHECK_STR("longest prefix: IPv6 /32", peer_at(&d, "2001:db8:2::5"), KEY_A);
	CHECK_STR("longest prefix: IPv6 outside", peer_at(&d, "2001:db9::1"), NULL);
	wg_dev_clear(&d);
	CHECK_INT("0.0.0.0/0: parsed",
	          parse("public_key=" KEY_A_HEX "\nallowed_ip=0.0.0.0/0\nerrno=0\n\n", &d, why), 0);
	CHECK_STR("0.0.0.0/0: any IPv4", peer_at(&d, "203.0.113.9"), KEY_A);
	CHECK_STR("0.0.0.0/0: not IPv6", peer_at(&d, "2001:db8::1"), NULL);
	wg_dev_clear(&d);
}

struct names {
	char got[512];
};

static void add_name(const char *key, const char *name, size_t len, void *ctx)
{
	struct names *n = ctx;
	size_t l = strlen(n->got);

	snprintf(n->got + l, sizeof(n->got) - l, "%.8s=%.*s;", key, (int)len, name);
}

static void test_names(void)
{
	static const char conf[] = "[Interface]\n"
	                           "# Name = server\n"
	                           "PrivateKey = qB4HSrnWFeSqBQZXn4Fd/LKwpRM+6W4c7GgS3VuVRVA=\n"
	                           "ListenPort = 51820\n"
	                           "\n"
	                           "# Name = alice\n"
	                           "[Peer]\n"
	                           "PublicKey = " KEY_A "\n"
	                           "AllowedIPs = 192.0.2.10/32\n"
	                           "[Peer]\n"
	                           "#name=bob smith \r\n"
	                           "publickey=" KEY_B "\n"
	                           "[Peer]\n"
	                           "PublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	struct names n = {""};
	char why[160] = "";

	CHECK_INT("names: parsed", wg_names_parse(conf, strlen(conf), add_name, &n, why, 160), 0);
	CHECK_STR("names: above [Peer] and inside it; none for the nameless", n.got,
	          "cuE4dPmX=alice;cfRr6xb/=bob smith;");
	n.got[0] = 0;
	CHECK_INT("names: a bad key refused",
	          wg_names_parse("[Peer]\nPublicKey = abc\n", 23, add_name, &n, why, 160), -EINVAL);
	CHECK_STR("names: its reason", why, "line 2: PublicKey is not a base64 key");
	CHECK_INT("names: a line without '='",
	          wg_names_parse("[Peer]\nnonsense\n", 16, add_name, &n, why, 160), -EINVAL);
	CHECK_STR("names: its reason", why, "line 2: not Key = Value");
	CHECK_INT("names: an unknown section",
	          wg_names_parse("[Peers]\n", 8, add_name, &n, why, 160), -EINVAL);
	CHECK_STR("names: nothing added from refused files", n.got, "");
}

/* A fake UAPI server: answers each connection with answer (NULL: says nothing). */
struct fake {
	int lfd;
	const char *answer;
	GThread *t;
	volatile bool stop;
};

static gpointer fake_run(gpointer p)
{
	struct fake *f = p;

	while (!f->stop) {
		int c = accept(f->lfd, NULL, NULL);
		char req[16];

		if (c < 0)
			continue;
		if (read(c, req, sizeof(req)) == 7 && !memcmp(req, "get=1\n\n", 7) && f->answer &&
		    write(c, f->answer, strlen(f->answer)) < 0)
			perror("write");
		if (!f->answer)
			usleep(400000); /* silent past the deadline */
		close(c);
	}
	return NULL;
}

static void fake_start(struct fake *f, const char *dir, const char *ifname)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {0, 50000};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", dir, ifname);
	unlink(sa.sun_path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(f->lfd, 8))
		abort();
	setsockopt(f->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	f->stop = false;
	f->t = g_thread_new("fake", fake_run, f);
}

static void fake_stop(struct fake *f, const char *dir, const char *ifname)
{
	char path[256];

	f->stop = true;
	g_thread_join(f->t);
	close(f->lfd);
	snprintf(path, sizeof(path), "%s/%s.sock", dir, ifname);
	unlink(path);
}

static void test_socket(const char *dir)
{
	struct fake f = {0};
	struct wg_dev d = {0};
	char why[512], want[512];
	__u64 t0;

	CHECK_INT("missing socket: -ENOENT", wg_uapi_get(dir, "wgx", &d, why, sizeof(why)),
	          -ENOENT);
	snprintf(want, sizeof(want), "UAPI socket %s/wgx.sock: No such file or directory", dir);
	CHECK_STR("missing socket: one line", why, want);
	f.answer = recorded;
	fake_start(&f, dir, "wgx");
	CHECK_INT("fake server: read", wg_uapi_get(dir, "wgx", &d, why, sizeof(why)), 0);
	CHECK_INT("fake server: peers", d.npeers, 2);
	CHECK_STR("fake server: ifname", d.ifname, "wgx");
	f.answer = "listen_port=1\nbogus\nerrno=0\n\n";
	CHECK_INT("malformed answer: refused", wg_uapi_get(dir, "wgx", &d, why, sizeof(why)),
	          -EINVAL);
	snprintf(want, sizeof(want),
	         "UAPI socket %s/wgx.sock: malformed answer (line 2: not key=value)", dir);
	CHECK_STR("malformed answer: one line", why, want);
	CHECK_INT("malformed answer: the peers kept", d.npeers, 2);
	f.answer = "listen_port=1\n"; /* then the connection closes */
	CHECK_INT("cut answer: refused", wg_uapi_get(dir, "wgx", &d, why, sizeof(why)), -EINVAL);
	f.answer = NULL;
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_INT("silent server: -ETIMEDOUT", wg_uapi_get(dir, "wgx", &d, why, sizeof(why)),
	          -ETIMEDOUT);
	t0 = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
	CHECK("silent server: given up after the 200 ms deadline", t0 >= 195 && t0 < 350);
	snprintf(want, sizeof(want), "UAPI socket %s/wgx.sock: no complete answer in 200 ms", dir);
	CHECK_STR("silent server: one line", why, want);
	fake_stop(&f, dir, "wgx");
	wg_dev_clear(&d);
}

static const char *lookup(struct users *u, int dir, const char *src, const char *dst,
                          const char *ifname)
{
	struct flow_key k = {.ifindex = 7, .dir = dir};

	addr(k.src, src);
	addr(k.dst, dst);
	return users_lookup(u, &k, ifname);
}

static void test_users(const char *dir)
{
	char names[256], answer[2048];
	struct fake f = {0};
	struct users *u;
	struct wg_event *ev;
	const struct wg_peer *p;
	struct flow_key k = {.ifindex = 7, .dir = DIR_EGRESS};
	GPtrArray *ifs = g_ptr_array_new();
	FILE *fp;
	size_t n;
	unsigned gen;
	long now = (long)(now_ns(CLOCK_REALTIME) / 1000000000ull);

	snprintf(names, sizeof(names), "%s/wg0.conf", dir);
	fp = fopen(names, "w");
	fprintf(fp, "# Name = alice\n[Peer]\nPublicKey = %s\n", KEY_A);
	fclose(fp);
	chmod(names, 0600);
	/* alice had a handshake 10 s ago, bob 200 s ago (past the 180 s) */
	snprintf(answer, sizeof(answer),
	         "listen_port=51820\npublic_key=" KEY_A_HEX "\nendpoint=198.51.100.1:1234\n"
	         "last_handshake_time_sec=%ld\nallowed_ip=192.0.2.10/32\n"
	         "public_key=" KEY_B_HEX "\nlast_handshake_time_sec=%ld\n"
	         "allowed_ip=192.0.2.20/32\nerrno=0\n\n",
	         now - 10, now - 200);
	f.answer = answer;
	fake_start(&f, dir, "wg0");
	setenv("TUNFLOW_WG_SOCKDIR", dir, 1);
	g_ptr_array_add(ifs, "wg9"); /* configured, no socket: said once, not fatal */
	u = users_new(&(struct users_cfg){.wireguard = ifs, .wireguard_names = names});
	CHECK("users: made", u != NULL);
	if (!u)
		return;
	CHECK_STR("users: alice by her allowed IP (egress: destination)",
	          lookup(u, DIR_EGRESS, "192.0.2.1", "192.0.2.10", "wg0"), "alice");
	CHECK_STR("users: bob by his short key (ingress: source)",
	          lookup(u, DIR_INGRESS, "192.0.2.20", "192.0.2.1", "wg0"), "cfRr6xb/");
	CHECK_STR("users: nobody's address",
	          lookup(u, DIR_INGRESS, "192.0.2.30", "192.0.2.10", "wg0"), NULL);
	CHECK_STR("users: not a WireGuard interface",
	          lookup(u, DIR_EGRESS, "192.0.2.1", "192.0.2.10", "tun0"), NULL);
	addr(k.src, "192.0.2.1");
	addr(k.dst, "192.0.2.10");
	p = users_wg_peer(u, &k, "wg0");
	CHECK_STR("users: the peer's key", p ? p->key : NULL, KEY_A);
	CHECK_STR("users: the peer's endpoint", p ? p->endpoint : NULL, "198.51.100.1:1234");
	CHECK("users: alice connected", p && p->connected);
	CHECK_INT("users: her session's start", p ? p->session_start_ns / 1000000000ull : 0,
	          now - 10);
	CHECK("users: enabled", users_enabled(u));
	n = users_wg_take_events(u, &ev);
	CHECK_INT("events: one start (bob's handshake is too old)", n, 1);
	CHECK("events: alice connected",
	      n == 1 && ev[0].connected && !strcmp(ev[0].peer.key, KEY_A) &&
	          !strcmp(ev[0].peer.name, "alice") && !strcmp(ev[0].ifname, "wg0"));
	g_free(ev);
	/* alice removed, bob's allowed IPs changed */
	snprintf(answer, sizeof(answer),
	         "listen_port=51820\npublic_key=" KEY_B_HEX "\nlast_handshake_time_sec=%ld\n"
	         "allowed_ip=192.0.2.10/32\nerrno=0\n\n",
	         now - 200);
	gen = users_gen(u);
	users_refresh(u); /* within the second: not read again */
	CHECK_STR("re-read: at most every second",
	          lookup(u, DIR_EGRESS, "192.0.2.1", "192.0.2.10", "wg0"), "alice");
	usleep(1000000);
	users_refresh(u);
	CHECK("re-read: the generation moved", users_gen(u) != gen);
	CHECK_STR("re-read: 192.0.2.10 is bob's now",
	          lookup(u, DIR_EGRESS, "192.0.2.1", "192.0.2.10", "wg0"), "cfRr6xb/");
	n = users_wg_take_events(u, &ev);
	CHECK_INT("events: alice's session ended with her removal", n, 1);
	CHECK("events: an end", n == 1 && !ev[0].connected && !strcmp(ev[0].peer.key, KEY_A));
	g_free(ev);
	/* the socket goes: its peers go */
	fake_stop(&f, dir, "wg0");
	usleep(1000000);
	users_refresh(u);
	CHECK_STR("socket gone: nobody", lookup(u, DIR_EGRESS, "192.0.2.1", "192.0.2.10", "wg0"),
	          NULL);
	users_free(u);
	g_ptr_array_free(ifs, TRUE);
	unsetenv("TUNFLOW_WG_SOCKDIR");
}

/* A crafted WG_CMD_GET_DEVICE answer: a device with peers, as the kernel writes it. */
static struct nlmsghdr *nl_msg(char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));

	nlh->nlmsg_type = 30;
	g->cmd = WG_CMD_GET_DEVICE;
	g->version = WG_GENL_VERSION;
	mnl_attr_put_strz(nlh, WGDEVICE_A_IFNAME, "wg0");
	return nlh;
}

static void nl_key(const char *hex, __u8 raw[32])
{
	for (int i = 0; i < 32; i++)
		sscanf(hex + 2 * i, "%2hhx", &raw[i]);
}

static void nl_allowed(struct nlmsghdr *nlh, int fam, const char *a, int cidr)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, 0);
	__u8 x[16];

	inet_pton(fam, a, x);
	mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, (__u16)fam);
	mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, fam == AF_INET ? 4 : 16, x);
	mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, (__u8)cidr);
	mnl_attr_nest_end(nlh, n);
}

static void test_netlink(void)
{
	char buf[4096], why[160] = "";
	struct nlmsghdr *nlh;
	struct nlattr *peers, *pe, *ips, *bad;
	struct wg_dev d = {0};
	__u8 key[32];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(51821)};
	__s64 ts[2] = {1700000000, 5};
	int err;

	/* message 1: listen port, alice with endpoint, handshake, counters and one allowed IP */
	nlh = nl_msg(buf);
	mnl_attr_put_u16(nlh, WGDEVICE_A_LISTEN_PORT, 51820);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	pe = mnl_attr_nest_start(nlh, 0);
	nl_key(KEY_A_HEX, key);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, key);
	inet_pton(AF_INET, "198.51.100.2", &sin.sin_addr);
	mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof(sin), &sin);
	mnl_attr_put(nlh, WGPEER_A_LAST_HANDSHAKE_TIME, sizeof(ts), ts);
	mnl_attr_put_u64(nlh, WGPEER_A_RX_BYTES, 148);
	mnl_attr_put_u64(nlh, WGPEER_A_TX_BYTES, 92);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	nl_allowed(nlh, AF_INET, "192.0.2.10", 32);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, pe);
	mnl_attr_nest_end(nlh, peers);
	err = wg_nl_parse(nlh, nlh->nlmsg_len, &d, why, sizeof(why));
	CHECK_INT("netlink: message 1 parsed", err, 0);
	CHECK_STR("netlink: message 1: no reason", why, "");
	/* message 2: alice continued (her key first, one more allowed IP), then bob */
	nlh = nl_msg(buf);
	peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
	pe = mnl_attr_nest_start(nlh, 0);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, key);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	nl_allowed(nlh, AF_INET6, "2001:db8::10", 128);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, pe);
	pe = mnl_attr_nest_start(nlh, 0);
	nl_key(KEY_B_HEX, key);
	mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, key);
	ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
	nl_allowed(nlh, AF_INET, "192.0.2.20", 32);
	mnl_attr_nest_end(nlh, ips);
	mnl_attr_nest_end(nlh, pe);
	mnl_attr_nest_end(nlh, peers);
	CHECK_INT("netlink: message 2 parsed",
	          wg_nl_parse(nlh, nlh->nlmsg_len, &d, why, sizeof(why)), 0);
	CHECK_INT("netlink: two peers (alice's continuation merged)", d.npeers, 2);
	if (d.npeers == 2) {
		CHECK_STR("netlink: alice's key", d.peers[0].key, KEY_A);
		CHECK_STR("netlink: alice's endpoint", d.peers[0].endpoint, "198.51.100.2:51821");
		CHECK_INT("netlink: alice's handshake", d.peers[0].handshake_sec, 1700000000);
		CHECK_INT("netlink: alice's handshake ns", d.peers[0].handshake_nsec, 5);
		CHECK_INT("netlink: alice's rx", d.peers[0].rx_bytes, 148);
		CHECK_INT("netlink: alice's tx", d.peers[0].tx_bytes, 92);
		CHECK_INT("netlink: alice's allowed IPs over two messages", d.peers[0].nallowed, 2);
		CHECK_STR("netlink: 2001:db8::10 is alice's", peer_at(&d, "2001:db8::10"), KEY_A);
		CHECK_STR("netlink: 192.0.2.20 is bob's", peer_at(&d, "192.0.2.20"), KEY_B);
		CHECK_INT("netlink: listen port", d.listen_port, 51820);
	}
	wg_dev_clear(&d);
	/* malformed: a short key, a /33, an endpoint of the wrong size, a nest cut short */
	for (int i = 0; i < 4; i++) {
		static const char *const want[] = {
		    "a peer without a 32-byte public key",
		    "an allowed IP of family 2, 4 bytes, /33",
		    "a peer's endpoint of 4 bytes",
		    "an attribute runs past the message",
		};
		char name[64];

		nlh = nl_msg(buf);
		peers = mnl_attr_nest_start(nlh, WGDEVICE_A_PEERS);
		pe = mnl_attr_nest_start(nlh, 0);
		mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, i == 0 ? 31 : 32, key);
		if (i == 2)
			mnl_attr_put(nlh, WGPEER_A_ENDPOINT, 4, &sin);
		ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
		nl_allowed(nlh, AF_INET, "192.0.2.20", i == 1 ? 33 : 32);
		mnl_attr_nest_end(nlh, ips);
		mnl_attr_nest_end(nlh, pe);
		mnl_attr_nest_end(nlh, peers);
		bad = peers;
		if (i == 3)
			bad->nla_len += 8; /* claims more than the message holds */
		why[0] = 0;
		snprintf(name, sizeof(name), "netlink malformed %d: refused", i);
		CHECK_INT(name, wg_nl_parse(nlh, nlh->nlmsg_len, &d, why, sizeof(why)), -EINVAL);
		snprintf(name, sizeof(name), "netlink malformed %d: the reason", i);
		CHECK_STR(name, why, want[i]);
		wg_dev_clear(&d);
	}
	/* this machine: no WireGuard module (or, with one, no such interface) */
	err = wg_nl_get("tfwgnone0", &d, why, sizeof(why));
	CHECK("netlink: no WireGuard here, or no such interface: an error, said",
	      (err == -ENOENT || err == -ENODEV) && why[0]);
	printf("# wg_nl_get here: %s\n", why);
}

static int dump(const char *dir, const char *ifname)
{
	struct wg_dev d = {0};
	char why[512], a[INET6_ADDRSTRLEN];
	int err = wg_uapi_get(dir, ifname, &d, why, sizeof(why));

	if (err) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	for (int i = 0; i < d.npeers; i++) {
		const struct wg_peer *p = &d.peers[i];

		printf("%s\t%s\t", p->key, p->has_endpoint ? p->endpoint : "(none)");
		for (int j = 0; j < p->nallowed; j++) {
			const struct wg_allowed *w = &p->allowed[j];
			bool v4 =
			    w->plen >= 96 && !memcmp(w->addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);

			inet_ntop(v4 ? AF_INET : AF_INET6, v4 ? w->addr + 12 : w->addr, a,
			          sizeof(a));
			printf("%s%s/%d", j ? "," : "", a, v4 ? w->plen - 96 : w->plen);
		}
		printf("%s\t%llu\t%llu\t%llu\n", p->nallowed ? "" : "(none)",
		       (unsigned long long)p->handshake_sec, (unsigned long long)p->rx_bytes,
		       (unsigned long long)p->tx_bytes);
	}
	wg_dev_clear(&d);
	return 0;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/test_wireguard.XXXXXX";

	if (argc == 4 && !strcmp(argv[1], "dump"))
		return dump(argv[2], argv[3]);
	log_init();
	test_recorded();
	test_malformed();
	test_prefix();
	test_names();
	test_netlink();
	if (!mkdtemp(dir))
		return 1;
	test_socket(dir);
	test_users(dir);
	rmdir(dir);
	return check_done();
}

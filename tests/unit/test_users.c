// SPDX-License-Identifier: GPL-2.0-only
/* Who is behind a flow: lookups (longest prefix, interface over address, tunnel side
 * first, session over status over map), the three parsers from memory, and the checks on
 * the files that decide attribution. */
#define CHECK_SUITE "users"
#include "check.h"
#include "core/clock.h"
#include "sources/users_priv.h"
#include "util/log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NETNS 42

static struct users *mk(void)
{
	struct users *u = users_new(&(struct users_cfg){0});

	u->netns = NETNS;
	return u;
}

static void addr(__u8 out[16], const char *s)
{
	int plen;

	if (!addr_parse(s, out, &plen))
		abort();
}

static const char *who(struct users *u, int dir, const char *src, const char *dst, int ifindex,
                       const char *ifname)
{
	struct flow_key k = {.ifindex = ifindex, .dir = dir};

	addr(k.src, src);
	addr(k.dst, dst);
	return users_lookup(u, &k, ifname);
}

static int map(struct users *u, const char *text, size_t len)
{
	GArray *ifr, *pfx;
	int err = usermap_parse(u, "map", text, len, &ifr, &pfx);

	if (!err) {
		usermap_free_rules(u->iface_rules, u->prefix_rules);
		u->iface_rules = ifr;
		u->prefix_rules = pfx;
	}
	return err;
}

static bool line(struct users *u, const char *l) { return sessions_line(u, l, strlen(l)); }

static void test_addr(void)
{
	__u8 a[16];
	int plen = 0;

	CHECK("addr: 192.0.2.0/24", addr_parse("192.0.2.0/24", a, &plen) && plen == 120);
	CHECK("addr: host", addr_parse("2001:db8::1", a, &plen) && plen == 128);
	CHECK("addr_host: IPv4, mapped", addr_host("192.0.2.7", a) == 4 && a[10] == 0xff &&
	                                     a[11] == 0xff && a[12] == 192 && a[15] == 7);
	CHECK("addr_host: IPv6", addr_host("2001:db8::1", a) == 6 && a[0] == 0x20 && a[15] == 1);
	CHECK("addr_host: a prefix refused", addr_host("192.0.2.0/24", a) == -1);
	CHECK("addr_host: not an address", addr_host("192.0.2", a) == -1);
	CHECK("addr: /-5 refused", !addr_parse("192.0.2.77/-5", a, &plen));
	CHECK("addr: /+5 refused", !addr_parse("192.0.2.77/+5", a, &plen));
	CHECK("addr: '/ 5' refused", !addr_parse("192.0.2.77/ 5", a, &plen));
	CHECK("addr: '/' refused", !addr_parse("192.0.2.77/", a, &plen));
	CHECK("addr: /33 refused", !addr_parse("192.0.2.0/33", a, &plen));
	CHECK("addr: /129 refused", !addr_parse("2001:db8::/129", a, &plen));
	CHECK("addr: /0x10 refused", !addr_parse("192.0.2.0/0x10", a, &plen));
}

static void test_map(void)
{
	struct users *u = mk();
	static const char m[] = "# comment\n192.0.2.0/24 erin # pool\n192.0.2.9 frank\n"
	                        "2001:db8::/64\tgina\ntun* hugo\n";
	char *big;

	CHECK_INT("map: parsed", map(u, m, strlen(m)), 0);
	CHECK_STR("longest prefix: the one address",
	          who(u, DIR_INGRESS, "192.0.2.9", "203.0.113.1", 3, "eth0"), "frank");
	CHECK_STR("longest prefix: the pool",
	          who(u, DIR_INGRESS, "192.0.2.10", "203.0.113.1", 3, "eth0"), "erin");
	CHECK_STR("IPv6 prefix", who(u, DIR_INGRESS, "2001:db8::9", "2001:db8:1::1", 3, "eth0"),
	          "gina");
	CHECK_STR("no match", who(u, DIR_INGRESS, "198.51.100.1", "203.0.113.1", 3, "eth0"), NULL);
	CHECK_STR("interface over address",
	          who(u, DIR_INGRESS, "192.0.2.9", "203.0.113.1", 3, "tun0"), "hugo");
	CHECK_STR("tunnel side first: ingress source",
	          who(u, DIR_INGRESS, "192.0.2.9", "192.0.2.10", 3, "eth0"), "frank");
	CHECK_STR("tunnel side first: egress destination",
	          who(u, DIR_EGRESS, "192.0.2.9", "192.0.2.10", 3, "eth0"), "erin");
	CHECK_STR("far side when the near one is unknown",
	          who(u, DIR_EGRESS, "192.0.2.9", "203.0.113.1", 3, "eth0"), "frank");
	CHECK_INT("map: /-5 refused", map(u, "192.0.2.77/-5 x\n", 16), -EINVAL);
	CHECK_INT("map: a NUL in a line refused", map(u, "tun0 a\0b\n", 9), -EINVAL);
	CHECK_INT("map: three words refused", map(u, "tun0 ivan extra\n", 16), -EINVAL);
	big = g_malloc(10 << 20);
	memset(big, 'a', 10 << 20);
	CHECK_INT("map: a 10 MB line refused", map(u, big, 10 << 20), -EINVAL);
	g_free(big);
	CHECK_STR("map: a refused file keeps the last good one",
	          who(u, DIR_INGRESS, "192.0.2.9", "203.0.113.1", 3, "eth0"), "frank");
	CHECK_INT("map: a user name is cleaned", map(u, "tun0 \xff\x1b[2J\n", 10), 0);
	CHECK_STR("map: cleaned user", users_of_iface(u, 3, "tun0"), "\\xff\\x1b[2J");
	users_free(u);
}

static void test_precedence(void)
{
	struct users *u = mk();
	__u8 a[16];

	map(u, "192.0.2.0/24 mapped\n", 20);
	CHECK_STR("map alone", who(u, DIR_INGRESS, "192.0.2.10", "203.0.113.1", 3, "tun0"),
	          "mapped");
	addr(a, "192.0.2.10");
	g_hash_table_insert(u->ovpn, g_memdup2(a, 16), (gpointer)users_intern(u, "status", 6));
	CHECK_STR("status over map", who(u, DIR_INGRESS, "192.0.2.10", "203.0.113.1", 3, "tun0"),
	          "status");
	CHECK(
	    "session line",
	    line(u,
	         "connect\tsource=openvpn\tid=s1\tuser=sess\tifindex=\taddr=192.0.2.10\tnetns=42"));
	CHECK_STR("session over status",
	          who(u, DIR_INGRESS, "192.0.2.10", "203.0.113.1", 3, "tun0"), "sess");
	users_free(u);
}

static void test_sessions(void)
{
	struct users *u = mk();
	char l[256];

	CHECK("connect",
	      line(u, "connect\tsource=ocserv\tid=ocserv:1\tuser=ivy\tdev=vpns0\tifindex=7\taddr="
	              "192.0.2.20\taddr6=2001:db8::20\ttime=1\tnetns=42"));
	CHECK_STR("session: its interface", users_of_iface(u, 7, "vpns0"), "ivy");
	CHECK_STR("session: its address",
	          who(u, DIR_INGRESS, "2001:db8::20", "2001:db8:1::1", 9, "eth0"), "ivy");
	CHECK("has_session: yes", users_has_session(u, 7));
	CHECK("has_session: other interface", !users_has_session(u, 8));
	users_iface_gone(u, 7);
	CHECK("has_session: gone with its interface", !users_has_session(u, 7));
	CHECK_STR("session: the address lingers",
	          who(u, DIR_INGRESS, "192.0.2.20", "203.0.113.1", 9, "eth0"), "ivy");
	sessions_expire(u, now_ns(CLOCK_MONOTONIC) + 11000000000ull);
	CHECK_STR("session: dropped after the linger",
	          who(u, DIR_INGRESS, "192.0.2.20", "203.0.113.1", 9, "eth0"), NULL);

	/* encoded fields: no value forges a field or a line */
	CHECK("encoded user",
	      line(u, "connect\tid=e1\tuser=bob%09ifindex=3%0Aconnect%25%5C\tifindex=4\tnetns=42"));
	CHECK_STR("encoded user: decoded, then cleaned", users_of_iface(u, 4, "x"),
	          "bob\\x09ifindex=3\\x0aconnect%\\");
	CHECK("encoded user: no forged ifindex", !users_has_session(u, 3));
	CHECK("bad escape", !line(u, "connect\tid=e2\tuser=a%4\tifindex=5\tnetns=42"));
	CHECK("bad escape: no session", !users_has_session(u, 5));

	/* ifindex: a whole number in range */
	CHECK("ifindex: too big",
	      !line(u, "connect\tid=i1\tuser=a\tifindex=99999999999\tnetns=42"));
	CHECK("ifindex: trailing junk",
	      !line(u, "connect\tid=i2\tuser=a\tifindex=12abc\tnetns=42"));
	CHECK("ifindex: negative", !line(u, "connect\tid=i3\tuser=a\tifindex=-3\tnetns=42"));
	CHECK("ifindex: none bound", !users_has_session(u, 12) && !users_has_session(u, -3));

	/* network namespaces */
	CHECK("foreign netns: not malformed",
	      line(u, "connect\tid=n1\tuser=other\tifindex=11\tnetns=43"));
	CHECK("foreign netns: ignored", !users_has_session(u, 11));
	CHECK_INT("foreign netns: counted", u->ev_foreign, 1);
	line(u, "connect\tid=n2\tuser=old\tifindex=12");
	CHECK("no netns: ignored", !users_has_session(u, 12));

	/* expiry costs only ended sessions */
	for (int i = 0; i < 1000; i++) {
		snprintf(l, sizeof(l), "connect\tid=live%d\tuser=u%d\tifindex=%d\tnetns=42", i, i,
		         100 + i);
		line(u, l);
	}
	line(u, "disconnect\tid=live5\tnetns=42");
	CHECK_INT("expiry queue: only the ended session", g_queue_get_length(&u->ended), 1);
	CHECK("reconnect under the same id",
	      line(u, "connect\tid=live5\tuser=again\tifindex=105\tnetns=42"));
	sessions_expire(u, now_ns(CLOCK_MONOTONIC) + 11000000000ull);
	CHECK_STR("reconnected session survives the old disconnect", users_of_iface(u, 105, "x"),
	          "again");
	CHECK_STR("live session never expires", users_of_iface(u, 106, "x"), "u6");
	users_free(u);
}

static void test_feed(void)
{
	struct users *u = mk();
	char *big = g_malloc(10000);
	const char *a = "connect\tid=f1\tuser=fay\tifin", *b = "dex=21\tnetns=42\nconn";

	sessions_feed(u, a, strlen(a), 0);
	CHECK("feed: half a line waits", !users_has_session(u, 21));
	sessions_feed(u, b, strlen(b), strlen(a));
	CHECK("feed: the line once complete", users_has_session(u, 21));
	memset(big, 'x', 10000);
	sessions_feed(u, big, 10000, 100);
	CHECK_INT("feed: an over-long line is malformed once", u->ev_malformed, 1);
	CHECK("feed: skipping it", u->ev.skipping && u->ev.partial->len == 0);
	sessions_feed(u, big, 10000, 10100);
	CHECK_INT("feed: still one", users_malformed_lines(u), 1);
	sessions_feed(u, "\nconnect\tid=f2\tuser=gus\tifindex=22\tnetns=42\n", 45, 20100);
	CHECK("feed: the next line after it", users_has_session(u, 22));
	g_free(big);
	users_free(u);
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

#define ADDR(s) who(u, DIR_INGRESS, s, "203.0.113.1", 9, "eth0")

/* The hook compacts the events file (its open sessions, renamed over it): replaying it
 * keeps every open session once, ends the ones it no longer holds after the linger. */
static void test_replay(void)
{
	char dir[] = "/tmp/tunflow-replay.XXXXXX", path[64], tmp[64];
	struct users *u;
	off_t compacted;

	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/sessions", dir);
	snprintf(tmp, sizeof(tmp), "%s/.tmp", dir);
	u = users_new(&(struct users_cfg){.sessions = path}); /* no file yet */
	u->netns = NETNS;
	put(path, "connect\tid=a\tuser=ann\taddr=192.0.2.1\tnetns=42\n"
	          "connect\tid=b\tuser=ben\taddr=192.0.2.2\tnetns=42\n"
	          "connect\tid=c\tuser=cat\taddr=192.0.2.3\tnetns=42\n"
	          "disconnect\tid=b\tnetns=42\n");
	users_refresh(u);
	CHECK_STR("replay: read", ADDR("192.0.2.3"), "cat");
	CHECK_INT("replay: three sessions, one ended", g_hash_table_size(u->sessions), 3);
	/* appended after tunflow's last read, then compacted by the hook */
	append(path, "disconnect\tid=c\tnetns=42\nconnect\tid=d\tuser=dan\taddr=192.0.2.4"
	             "\tnetns=42\n");
	put(tmp, "connect\tid=a\tuser=ann\taddr=192.0.2.1\tnetns=42\n"
	         "connect\tid=d\tuser=dan\taddr=192.0.2.4\tnetns=42\n");
	if (rename(tmp, path))
		abort();
	compacted = strlen("connect\tid=a\tuser=ann\taddr=192.0.2.1\tnetns=42\n"
	                   "connect\tid=d\tuser=dan\taddr=192.0.2.4\tnetns=42\n");
	users_refresh(u);
	CHECK_STR("replay: an open session still named", ADDR("192.0.2.1"), "ann");
	CHECK_STR("replay: one opened since the last read", ADDR("192.0.2.4"), "dan");
	CHECK_STR("replay: one closed since lingers", ADDR("192.0.2.3"), "cat");
	CHECK_INT("replay: no session twice", g_hash_table_size(u->sessions), 4);
	CHECK_INT("replay: read to the end", u->ev.off, compacted);
	CHECK("replay: done", !u->ev.replaying);
	sessions_expire(u, now_ns(CLOCK_MONOTONIC) + 11000000000ull);
	CHECK_STR("replay: the closed ones go after the linger", ADDR("192.0.2.3"), NULL);
	CHECK_STR("replay: b too", ADDR("192.0.2.2"), NULL);
	CHECK_INT("replay: the open ones stay", g_hash_table_size(u->sessions), 2);
	CHECK_STR("replay: ann stays", ADDR("192.0.2.1"), "ann");
	/* appends to the compacted file are read incrementally, not replayed */
	append(path, "disconnect\tid=a\tnetns=42\n");
	users_refresh(u);
	CHECK_INT("replay: appends read from where it was", u->ev.off,
	          compacted + strlen("disconnect\tid=a\tnetns=42\n"));
	sessions_expire(u, now_ns(CLOCK_MONOTONIC) + 11000000000ull);
	CHECK_STR("replay: then a disconnect ends it", ADDR("192.0.2.1"), NULL);
	CHECK_STR("replay: dan stays", ADDR("192.0.2.4"), "dan");
	/* replaced by a file with the same inode number (ext4 reuses a freed one at once):
	 * rewritten in place here, longer than what was read */
	put(path, "connect\tid=d\tuser=dan\taddr=192.0.2.4\tnetns=42\n"
	          "connect\tid=e\tuser=eve\taddr=192.0.2.5\tnetns=42\n"
	          "connect\tid=f\tuser=fox\taddr=192.0.2.6\tnetns=42\n");
	users_refresh(u);
	CHECK_INT("same inode: replayed, nothing malformed", users_malformed_lines(u), 0);
	CHECK_STR("same inode: a session before the old offset", ADDR("192.0.2.5"), "eve");
	CHECK_STR("same inode: and after", ADDR("192.0.2.6"), "fox");
	CHECK_STR("same inode: dan still", ADDR("192.0.2.4"), "dan");
	users_free(u);
	unlink(path);
	rmdir(dir);
}

static void test_openvpn(void)
{
	struct users *u = mk();
	static const char v2[] =
	    "TITLE,OpenVPN 2.6.3\nTIME,x,1\n"
	    "HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,"
	    "Bytes Received,Bytes Sent,Connected Since,Connected Since (time_t),Username,"
	    "Client ID,Peer ID,Data Channel Cipher\n"
	    "CLIENT_LIST,carol,198.51.100.2:1194,192.0.2.2,2001:db8::2,1,2,x,1,UNDEF,0,0,AES\n"
	    "CLIENT_LIST,dave,198.51.100.18:1194,192.0.2.3,,1,2,x,1,dave-login,1,1,AES\n"
	    "HEADER,ROUTING_TABLE,Virtual Address,Common Name,Real Address,Last Ref\n"
	    "ROUTING_TABLE,192.0.2.2,carol,198.51.100.2:1194,x\nGLOBAL_STATS,x,1\nEND\n";
	static const char v1[] =
	    "OpenVPN CLIENT LIST\nUpdated,x\nCommon Name,Real Address,Bytes Received,Bytes "
	    "Sent,Connected Since\n"
	    "erin,198.51.100.2:1,1,2,x\nROUTING TABLE\nVirtual Address,Common Name,Real "
	    "Address,Last Ref\n"
	    "192.0.2.6,erin,198.51.100.2:1,x\nGLOBAL STATS\nMax bcast/mcast queue length,0\nEND\n";
	static const char v3[] = "HEADER\tCLIENT_LIST\tCommon Name\tReal Address\tVirtual "
	                         "Address\tVirtual IPv6 Address\n"
	                         "CLIENT_LIST\tfay\t198.51.100.2:1\t192.0.2.7\t\nEND\n";
	/* defect 1: the HEADER puts Common Name last; a long line; then a short row */
	GString *uaf =
	    g_string_new("HEADER,CLIENT_LIST,Real Address,Virtual Address,Bytes,Common Name\n");
	__u8 a[16];
	int bad;
	GHashTable *t;

	t = openvpn_parse(u, v2, strlen(v2), &bad);
	CHECK("v2: parsed", t != NULL);
	addr(a, "192.0.2.2");
	CHECK_STR("v2: common name when Username is UNDEF", t ? g_hash_table_lookup(t, a) : "",
	          "carol");
	addr(a, "2001:db8::2");
	CHECK_STR("v2: the IPv6 address", t ? g_hash_table_lookup(t, a) : "", "carol");
	addr(a, "192.0.2.3");
	CHECK_STR("v2: Username wins", t ? g_hash_table_lookup(t, a) : "", "dave-login");
	CHECK_INT("v2: entries", t ? g_hash_table_size(t) : 0, 3);
	if (t)
		g_hash_table_destroy(t);
	t = openvpn_parse(u, v1, strlen(v1), &bad);
	addr(a, "192.0.2.6");
	CHECK_STR("v1: routing table", t ? g_hash_table_lookup(t, a) : "", "erin");
	CHECK_INT("v1: entries", t ? g_hash_table_size(t) : 0, 1);
	if (t)
		g_hash_table_destroy(t);
	t = openvpn_parse(u, v3, strlen(v3), &bad);
	addr(a, "192.0.2.7");
	CHECK_STR("v3: tabs", t ? g_hash_table_lookup(t, a) : "", "fay");
	if (t)
		g_hash_table_destroy(t);
	CHECK("no END: incomplete", !openvpn_parse(u, v2, strlen(v2) - 4, &bad) && bad == 0);

	for (int i = 0; i < 3000; i++)
		g_string_append_c(uaf, 'x');
	g_string_append(uaf, "\nCLIENT_LIST,198.51.100.2:1,192.0.2.9\nEND\n");
	t = openvpn_parse(u, uaf->str, uaf->len, &bad);
	CHECK("short row: malformed", t == NULL);
	CHECK_INT("short row: its line", bad, 3);
	g_string_free(uaf, TRUE);
	CHECK("NUL: malformed",
	      !openvpn_parse(u, "CLIENT_LIST,a\0b,x,192.0.2.9\nEND\n", 31, &bad) && bad == 1);
	CHECK("header without Virtual Address: malformed",
	      !openvpn_parse(u, "HEADER,CLIENT_LIST,Common Name\nEND\n", 35, &bad) && bad == 1);
	users_free(u);
}

static void test_files(void)
{
	char dir[] = "/tmp/tunflow-test_users.XXXXXX", p[128], q[128], why[512];
	struct input_trust none = {0},
	                   nobody = {.set = true, .uid = 65534, .gid = 65534, .name = "nobody"};
	struct stat st;
	int fd;

	if (!mkdtemp(dir))
		abort();
	snprintf(p, sizeof(p), "%s/f", dir);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	fd = input_open("the file", p, &none, &st, why, sizeof(why));
	CHECK("file: a plain 0644 file of ours", fd >= 0);
	close(fd);
	chmod(p, 0664);
	fd = input_open("the file", p, &none, &st, why, sizeof(why));
	CHECK_INT("file: group-writable refused", fd, -EPERM);
	CHECK("file: says the fix", strstr(why, "chmod g-w") != NULL);
	chmod(p, 0646);
	CHECK_INT("file: writable by anyone refused",
	          input_open("the file", p, &none, &st, why, sizeof(why)), -EPERM);
	chmod(p, 0644);
	snprintf(q, sizeof(q), "%s/l", dir);
	symlink(p, q);
	CHECK_INT("file: a symbolic link refused",
	          input_open("the file", q, &none, &st, why, sizeof(why)), -ELOOP);
	unlink(q);
	mkfifo(q, 0600);
	CHECK_INT("file: a FIFO refused (not waited on)",
	          input_open("the file", q, &none, &st, why, sizeof(why)), -EINVAL);
	CHECK("file: not a regular file", strstr(why, "not a regular file") != NULL);
	unlink(q);
	CHECK_INT("file: a directory refused",
	          input_open("the file", dir, &none, &st, why, sizeof(why)), -EISDIR);
	CHECK_INT("file: /proc/self/mem refused",
	          input_open("the file", "/proc/self/mem", &none, &st, why, sizeof(why)), -EINVAL);
	if (geteuid() == 0) {
		chown(p, 65534, 65534);
		CHECK_INT("file: another owner refused",
		          input_open("the file", p, &none, &st, why, sizeof(why)), -EPERM);
		fd = input_open("the file", p, &nobody, &st, why, sizeof(why));
		CHECK("file: owned by the trusted writer", fd >= 0);
		close(fd);
		chmod(p, 0664);
		fd = input_open("the file", p, &nobody, &st, why, sizeof(why));
		CHECK("file: writable by the writer's group", fd >= 0);
		close(fd);
		chown(dir, 1234, 1234);
		CHECK_INT("directory: another owner refused",
		          input_open("the file", p, &nobody, &st, why, sizeof(why)), -EPERM);
		CHECK("directory: named", strstr(why, dir) != NULL);
		chown(dir, 0, 0);
		chmod(dir, 0777);
		CHECK_INT("directory: writable by anyone refused",
		          input_open("the file", p, &nobody, &st, why, sizeof(why)), -EPERM);
		chmod(dir, 0700);
	}
	unlink(p);
	rmdir(dir);
}

int main(void)
{
	log_set_level(LOG_LVL_ERR - 1); /* the refusals say why on stderr: not here */
	test_addr();
	test_map();
	test_precedence();
	test_sessions();
	test_feed();
	test_replay();
	test_openvpn();
	test_files();
	return check_done();
}

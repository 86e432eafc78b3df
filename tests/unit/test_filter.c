// SPDX-License-Identifier: GPL-2.0-only
/* Filter expressions: precedence, every field on known flows and records, and every
 * error with its exact column and message. */
#define CHECK_SUITE "filter"
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include "check.h"
#include "core/filter.h"
#include "core/flowtab.h"
#include "core/records.h"
#include "sources/ifwatch.h"
#include "util/addr.h"

#define IF_VPNS0 7000
#define IF_TUN1 7001

static void addr(__u8 *a, const char *s)
{
	if (addr_host(s, a) < 0)
		abort();
}

/* alice on vpns0: 192.0.2.10:51000 -> 198.51.100.7:443 TCP, received (ingress), with a
 * name, AS and country; 2,000,000 bytes in 1500 packets */
static struct flow alice(void)
{
	struct flow f = {0};

	f.key = (struct flow_key){.ifindex = IF_VPNS0,
	                          .dir = DIR_INGRESS,
	                          .ip_version = 4,
	                          .proto = IPPROTO_TCP,
	                          .sport = 51000,
	                          .dport = 443};
	addr(f.key.src, "192.0.2.10");
	addr(f.key.dst, "198.51.100.7");
	f.user = "alice";
	f.dest.name = "www.Example.com";
	f.dest.name_src = NAME_TLS;
	f.dest.asn = 64500;
	strcpy(f.dest.country, "DE");
	f.bytes = 2000000;
	f.packets = 1500;
	return f;
}

/* bob on tun1: the DNS answer 2001:db8::53:53 -> 2001:db8:1::10:40000 UDP sent to him
 * (egress: the source is the far side); 500 bytes in 3 packets, nothing known of the
 * far side */
static struct flow bob(void)
{
	struct flow f = {0};

	f.key = (struct flow_key){.ifindex = IF_TUN1,
	                          .dir = DIR_EGRESS,
	                          .ip_version = 6,
	                          .proto = IPPROTO_UDP,
	                          .sport = 53,
	                          .dport = 40000};
	addr(f.key.src, "2001:db8::53");
	addr(f.key.dst, "2001:db8:1::10");
	f.user = "bob";
	f.bytes = 500;
	f.packets = 3;
	return f;
}

/* nobody's ping on vpns0: 192.0.2.99 -> 203.0.113.1 ICMP echo request (type 8, code 0) */
static struct flow ping(void)
{
	struct flow f = {0};

	f.key = (struct flow_key){.ifindex = IF_VPNS0,
	                          .dir = DIR_INGRESS,
	                          .ip_version = 4,
	                          .proto = IPPROTO_ICMP,
	                          .sport = 8,
	                          .dport = 0};
	addr(f.key.src, "192.0.2.99");
	addr(f.key.dst, "203.0.113.1");
	f.bytes = 84;
	f.packets = 1;
	return f;
}

static struct flow A, B, P;

/* Which of alice, bob, ping match expr: "abp" for all, "-" for none, the error if it
 * does not parse. */
static const char *which(const char *expr)
{
	static char buf[300];
	char err[256];
	struct filter *f = filter_parse(expr, err, sizeof(err));
	char *o = buf;

	if (!f) {
		snprintf(buf, sizeof(buf), "%s", err);
		return buf;
	}
	if (filter_flow(f, &A))
		*o++ = 'a';
	if (filter_flow(f, &B))
		*o++ = 'b';
	if (filter_flow(f, &P))
		*o++ = 'p';
	if (o == buf)
		*o++ = '-';
	*o = 0;
	filter_free(f);
	return buf;
}

#define M(expr, want) CHECK_STR(expr, which(expr), want)

static void fields(void)
{
	M("", "abp");
	M("   ", "abp");
	M("any", "abp");
	M("user alice", "a");
	M("user ALICE", "-");
	M("user al*", "a");
	M("user '*'", "-");
	M("user *", "ab");
	M("user \"bob\"", "b");
	M("not user *", "p");
	M("iface vpns0", "ap");
	M("iface vpns*", "ap");
	M("iface tun[0-9]", "b");
	M("iface =tun1", "b");
	M("proto tcp", "a");
	M("proto TCP", "a");
	M("proto 17", "b");
	M("proto icmp", "p");
	M("proto icmp6", "-");
	M("proto ipv6-icmp", "-");
	M("tcp", "a");
	M("udp or icmp", "bp");
	M("port 443", "a");
	M("port 53", "b");
	M("port 8", "-"); /* ICMP type 8 is not a port */
	M("src port 51000", "a");
	M("src port 443", "-");
	M("dst port 443", "a");
	M("local port 51000", "a");
	M("remote port 443", "a");
	M("remote port 53", "b");
	M("local port 40000", "b");
	M("local port 53", "-");
	M("port > 1024", "ab");
	M("port >= 40000", "ab");
	M("port < 53", "-");
	M("port <= 53", "b");
	M("dst port != 443", "b");
	M("port!=443", "ab");
	M("port = 53", "b");
	M("port == 53", "b");
	M("host 192.0.2.10", "a");
	M("host 198.51.100.7", "a");
	M("src host 198.51.100.7", "-");
	M("dst host 198.51.100.7", "a");
	M("remote host 198.51.100.7", "a");
	M("local host 192.0.2.10", "a");
	M("host 2001:db8::53", "b");
	M("remote host 2001:db8::53", "b");
	M("local host 2001:db8::53", "-");
	M("local host 2001:db8:1::10", "b");
	M("host ::ffff:192.0.2.10", "-"); /* an IPv6 address, not the IPv4 one */
	M("net 198.51.100.0/24", "a");
	M("net 198.51.100.255/24", "a"); /* host bits ignored */
	M("net 192.0.2.0/24", "ap");
	M("net 192.0.2.0/29", "-");
	M("net 192.0.2.96/27", "p");
	M("net 0.0.0.0/0", "ap");
	M("net ::/0", "b");
	M("net 2001:db8::/32", "b");
	M("net 2001:db8:1::/48", "b");
	M("src net 2001:db8:1::/48", "-");
	M("local net 2001:db8:1::/48", "b");
	M("remote net 203.0.113.0/25", "p");
	M("dir ingress", "ap");
	M("dir in", "ap");
	M("dir egress", "b");
	M("dir out", "b");
	M("ip4", "ap");
	M("ip6", "b");
	M("inet6", "b");
	M("name www.example.com", "a");
	M("name *.example.com", "a");
	M("name *.EXAMPLE.com", "a");
	M("name example.com", "-");
	M("name *", "a");
	M("as 64500", "a");
	M("as AS64500", "a");
	M("as 64501", "-");
	M("country de", "a");
	M("country DE", "a");
	M("country US", "-");
	M("bytes > 1M", "a");
	M("bytes > 2M", "-");
	M("bytes >= 2M", "a");
	M("bytes = 500", "b");
	M("bytes < 1k", "bp");
	M("bytes>1k", "a");
	M("packets >= 3", "ab");
	M("packets < 2", "p");
	M("packets != 3", "ap");
	M("bytes > 1g", "-");
	M("bytes < 1T", "abp");
}

static void precedence(void)
{
	/* not binds tighter than and, and tighter than or */
	M("not user alice and ip4", "p");
	M("not (user alice and ip4)", "bp");
	M("user alice or user bob and ip4", "a");
	M("(user alice or user bob) and ip4", "a");
	M("user bob or user alice and ip6", "b");
	M("(user bob or user alice) and ip6", "b");
	M("ip6 and user bob or proto icmp", "bp");
	M("ip6 and (user bob or proto icmp)", "b");
	M("not not user alice", "a");
	M("! user alice", "bp");
	M("!user alice", "bp");
	M("user alice || user bob", "ab");
	M("user alice && port 443", "a");
	M("user alice AND port 443", "a");
	M("((user alice))", "a");
	M("user alice and (port 443 or proto udp) and net 198.51.100.0/24 and not dir egress", "a");
	M("user bob and (port 443 or proto udp) and net 198.51.100.0/24 and not dir egress", "-");
	M("not dir egress and not dir ingress", "-");
	M("ip4 and ip4 and ip4 and not tcp", "p");
	M("tcp or udp or icmp or icmp6", "abp");
}

static void errors(void)
{
	M("user", "filter: at column 5: expected a user name or glob after 'user', got the end");
	M("user and", "filter: at column 6: expected a user name or glob after 'user', got 'and'");
	M("iface (", "filter: at column 7: expected an interface name or glob after 'iface', "
	             "got '('");
	M("name", "filter: at column 5: expected a destination name or glob (*.example.com) "
	          "after 'name', got the end");
	M("user alice and (port 443 or proto udp) and port x",
	  "filter: at column 49: expected a port number (0 to 65535) after 'port', got 'x'");
	M("port 65536",
	  "filter: at column 6: expected a port number (0 to 65535) after 'port', got '65536'");
	M("port > ",
	  "filter: at column 8: expected a port number (0 to 65535) after 'port', got the end");
	M("src 443", "filter: at column 5: expected 'port', 'host' or 'net' after 'src', got "
	             "'443'");
	M("remote", "filter: at column 7: expected 'port', 'host' or 'net' after 'remote', got "
	            "the end");
	M("host example.com",
	  "filter: at column 6: expected an IPv4 or IPv6 address (names are not looked up: use "
	  "'name') after 'host', got 'example.com'");
	M("host 192.0.2.0/24",
	  "filter: at column 6: expected an IPv4 or IPv6 address (names are not looked up: use "
	  "'name') after 'host', got '192.0.2.0/24'");
	M("net 192.0.2.0",
	  "filter: at column 5: expected an address/prefix length (198.51.100.0/24, "
	  "2001:db8::/32) after 'net', got '192.0.2.0'");
	M("net 192.0.2.0/33",
	  "filter: at column 5: expected an address/prefix length (198.51.100.0/24, "
	  "2001:db8::/32) after 'net', got '192.0.2.0/33'");
	M("net 2001:db8::/129",
	  "filter: at column 5: expected an address/prefix length (198.51.100.0/24, "
	  "2001:db8::/32) after 'net', got '2001:db8::/129'");
	M("proto tcpp",
	  "filter: at column 7: expected a protocol name (tcp, udp, icmp, icmp6, sctp, udplite, "
	  "gre, esp, ah) or number (0 to 255) after 'proto', got 'tcpp'");
	M("proto 256",
	  "filter: at column 7: expected a protocol name (tcp, udp, icmp, icmp6, sctp, udplite, "
	  "gre, esp, ah) or number (0 to 255) after 'proto', got '256'");
	M("dir up", "filter: at column 5: expected ingress or egress after 'dir', got 'up'");
	M("as x", "filter: at column 4: expected an AS number (1 to 4294967295) after 'as', got "
	          "'x'");
	M("as 4294967296", "filter: at column 4: expected an AS number (1 to 4294967295) after "
	                   "'as', got '4294967296'");
	M("country DEU", "filter: at column 9: expected a two-letter country code (DE, US, ...) "
	                 "after 'country', got 'DEU'");
	M("bytes 5", "filter: at column 7: expected a comparison (>, >=, <, <=, =, !=) after "
	             "'bytes', got '5'");
	M("packets > x", "filter: at column 11: expected a number (with k, M, G or T for "
	                 "thousands, ...) after '>', got 'x'");
	M("bytes > 1X", "filter: at column 9: expected a number (with k, M, G or T for "
	                "thousands, ...) after '>', got '1X'");
	M("bytes > 99999999999999999999", "filter: at column 9: expected a number (with k, M, G "
	                                  "or T for thousands, ...) after '>', got "
	                                  "'99999999999999999999'");
	M("bytes > 18446744073709552k", "filter: at column 9: expected a number (with k, M, G "
	                                "or T for thousands, ...) after '>', got "
	                                "'18446744073709552k'");
	M("usr alice", "filter: at column 1: expected a field (user, iface, proto, port, host, "
	               "net, dir, ip4, ip6, name, as, country, bytes, packets), 'not' or '(', got "
	               "'usr'");
	M("user alice and", "filter: at column 15: expected a field (user, iface, proto, port, "
	                    "host, net, dir, ip4, ip6, name, as, country, bytes, packets), 'not' "
	                    "or '(', got the end");
	M("user alice or or", "filter: at column 15: expected a field (user, iface, proto, port, "
	                      "host, net, dir, ip4, ip6, name, as, country, bytes, packets), "
	                      "'not' or '(', got 'or'");
	M("not", "filter: at column 4: expected a field (user, iface, proto, port, host, net, dir, "
	         "ip4, ip6, name, as, country, bytes, packets), 'not' or '(', got the end");
	M("()", "filter: at column 2: expected a field (user, iface, proto, port, host, net, dir, "
	        "ip4, ip6, name, as, country, bytes, packets), 'not' or '(', got ')'");
	M("user alice bob", "filter: at column 12: expected 'and', 'or' or the end, got 'bob'");
	M("user alice)",
	  "filter: at column 11: expected the end (this ')' closes nothing), got ')'");
	M("(user alice or tcp",
	  "filter: at column 19: expected 'and', 'or' or ')' to close the '(' of column 1, got "
	  "the end");
	M("ip4 and (tcp (udp))", "filter: at column 14: expected 'and', 'or' or ')' to close the "
	                         "'(' of column 9, got '('");
	M("user \"alice", "filter: at column 6: expected a closing '\"' for the string opened "
	                  "here");
	M("tcp or \"user", "filter: at column 8: expected a closing '\"' for the string opened "
	                   "here");
	M("\"user\" alice", "filter: at column 1: expected a field (user, iface, proto, port, "
	                    "host, net, dir, ip4, ip6, name, as, country, bytes, packets), 'not' "
	                    "or '(', got '\"user\"'");
	M("user alice and \x1b[2J", "filter: at column 16: expected a field (user, iface, proto, "
	                            "port, host, net, dir, ip4, ip6, name, as, country, bytes, "
	                            "packets), 'not' or '(', got '\\x1b[2J'");
	M("& tcp", "filter: at column 1: expected a field (user, iface, proto, port, host, net, "
	           "dir, ip4, ip6, name, as, country, bytes, packets), 'not' or '(', got '&'");
	M("tcp > 1", "filter: at column 5: expected 'and', 'or' or the end, got '>'");
}

static void depth(void)
{
	char deep[300];
	size_t n = 0;

	for (int i = 0; i < 64; i++)
		deep[n++] = '(';
	n += snprintf(deep + n, sizeof(deep) - n, "tcp");
	for (int i = 0; i < 64; i++)
		deep[n++] = ')';
	deep[n] = 0;
	CHECK_STR("64 parentheses", which(deep), "a");
	memmove(deep + 1, deep, n + 1);
	deep[0] = '(';
	CHECK_STR("65 parentheses", which(deep),
	          "filter: at column 65: expected at most 64 nested parentheses and 'not's");
}

static void records(void)
{
	struct record r = {0};
	char err[256];
	struct filter *f;

	r.key = A.key;
	r.user = "alice";
	r.dest = A.dest;
	r.packets = 10;
	r.bytes = 1000;
	r.rev_packets = 20;
	r.rev_bytes = 30000;
	f = filter_parse("user alice and bytes = 31000 and packets = 30 and name *.example.com",
	                 err, sizeof(err));
	CHECK("record: parses", f != NULL);
	CHECK("record: both directions' counts", filter_record(f, &r));
	r.user = NULL;
	CHECK("record: no user matches no 'user'", !filter_record(f, &r));
	filter_free(f);
	CHECK("NULL filter: every flow", filter_flow(NULL, &A));
	CHECK("NULL filter: every record", filter_record(NULL, &r));
	f = filter_parse(" tcp  ", err, sizeof(err));
	CHECK_STR("filter_text: as given", filter_text(f), " tcp  ");
	CHECK_STR("filter_text: NULL", filter_text(NULL), "");
	filter_free(f);
}

int main(void)
{
	iface_remember(IF_VPNS0, "vpns0");
	iface_remember(IF_TUN1, "tun1");
	A = alice();
	B = bob();
	P = ping();
	fields();
	precedence();
	errors();
	depth();
	records();
	return check_done();
}

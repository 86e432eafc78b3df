// SPDX-License-Identifier: GPL-2.0-only
/* IPFIX strings: interfaceName and userName are valid UTF-8 (RFC 7011 6.1.6) and short
 * enough that a record always fits a UDP message. The exporter sends to a UDP socket of
 * this test, in a network namespace of its own (unshare: needs root, as every test of
 * the suite); a small decoder reads the templates and records back. */
#define _GNU_SOURCE
#define CHECK_SUITE "ipfix"
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <glib.h>
#include "check.h"
#include "sinks/ipfix.h"
#include "sources/ifwatch.h"

#define IE_INTERFACE_NAME 82
#define IE_USER_NAME 371

static int own_loopback(void)
{
	struct ifreq ifr = {0};
	int fd;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return 0;
}

struct tmpl {
	int n;
	__u16 ie[64], len[64];
};

static __u16 get16(const __u8 *p) { return p[0] << 8 | p[1]; }

/* The strings of every data record in the message: "iface|user\n" appended to out. */
static void decode(const __u8 *m, size_t mlen, struct tmpl *t, GString *out)
{
	size_t off = 16;

	if (mlen < 16 || get16(m) != 10)
		return;
	while (off + 4 <= mlen) {
		__u16 id = get16(m + off), slen = get16(m + off + 2);
		const __u8 *p = m + off + 4, *end = m + off + slen;

		if (slen < 4 || off + slen > mlen)
			return;
		if (id == 2) { /* template set: keep the v4 one (id 256) */
			while (p + 4 <= end) {
				__u16 tid = get16(p), cnt = get16(p + 2);
				struct tmpl tt = {0};

				p += 4;
				for (int i = 0; i < cnt && p + 4 <= end; i++) {
					tt.ie[tt.n] = get16(p) & 0x7fff;
					tt.len[tt.n] = get16(p + 2);
					p += get16(p) & 0x8000 ? 8 : 4;
					if (tt.n < 63)
						tt.n++;
				}
				if (tid == 256)
					*t = tt;
			}
		} else if (id == 256 && t->n) {
			while (p < end) {
				const __u8 *start = p;
				GString *name = g_string_new(NULL), *user = g_string_new(NULL);

				for (int i = 0; i < t->n && p < end; i++) {
					size_t l = t->len[i];

					if (l == 65535) {
						l = *p++;
						if (l == 255) {
							l = get16(p);
							p += 2;
						}
					}
					if (p + l > end)
						break;
					if (t->ie[i] == IE_INTERFACE_NAME)
						g_string_append_len(name, (const char *)p, l);
					else if (t->ie[i] == IE_USER_NAME)
						g_string_append_len(user, (const char *)p, l);
					p += l;
				}
				g_string_append_printf(out, "%s|%s\n", name->str, user->str);
				g_string_free(name, TRUE);
				g_string_free(user, TRUE);
				if (p == start)
					break;
			}
		}
		off += slen;
	}
}

int main(void)
{
	struct ipfix_cfg cfg = {.domain = 1, .backlog = 100, .template_s = 60};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct export_stats st;
	struct record rec = {0};
	struct tmpl t = {0};
	GString *got = g_string_new(NULL), *want = g_string_new(NULL);
	char spec[64], longuser[1301], longname[254];
	const char *users[] = {"alice", longuser, "J\xc3\xb6rg\xff\x1b[2J", NULL};
	struct ipfix *x;
	__u8 buf[65536];
	ssize_t n;
	int fd, err = own_loopback();

	CHECK_INT("a network namespace of its own (the suite runs as root)", err, 0);
	if (err)
		return check_done();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", ntohs(sa.sin_port));
	CHECK_INT("collector spec", ipfix_parse(spec, &cfg), 0);
	x = ipfix_open(&cfg);
	CHECK("exporter opens", x != NULL);
	if (!x)
		return check_done();

	memset(longuser, 'u', sizeof(longuser) - 1);
	longuser[sizeof(longuser) - 1] = 0;
	iface_remember(77, "t\x1b[2J\xff");
	rec.key.ifindex = 77;
	rec.key.ip_version = 4;
	rec.key.proto = 17;
	rec.end = END_IDLE;
	for (int i = 0; users[i]; i++)
		ipfix_add(x, &rec, users[i], 0);
	/* the longest name too (in two elements) with the longest user: still one datagram */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	rec.key.ip_version = 6;
	rec.dest.name = longname;
	rec.dest.name_src = NAME_TLS;
	rec.dest.asn = 4200000000u;
	ipfix_add(x, &rec, longuser, 0);
	ipfix_finish(x, 2);
	ipfix_stats(x, &st);
	CHECK_INT("every record sent, the one with a 1300-byte user and a 253-byte name too",
	          st.records, 4);
	CHECK_INT("no export failure", st.failures, 0);
	ipfix_close(x);

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		decode(buf, n, &t, got);
	g_string_append(want, "t\\x1b[2J\\xff|alice\n");
	g_string_append(want, "t\\x1b[2J\\xff|");
	for (int i = 0; i < 253; i++)
		g_string_append_c(want, 'u');
	g_string_append(want, "...\n");
	g_string_append(want, "t\\x1b[2J\\xff|J\xc3\xb6rg\\xff\\x1b[2J\n");
	CHECK_STR("interfaceName and userName: valid UTF-8, visible escapes, 256 bytes at most",
	          got->str, want->str);
	g_string_free(got, TRUE);
	g_string_free(want, TRUE);
	close(fd);
	return check_done();
}

// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "util/fmt.h"
#include "util/log.h"
#include "util/text.h"

bool proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE ||
	       proto == IPPROTO_SCTP;
}

bool proto_is_icmp(__u8 proto) { return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6; }

const char *proto_name(__u8 proto, char *buf)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmp6";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_UDPLITE:
		return "udpl";
	case IPPROTO_GRE:
		return "gre";
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	}
	snprintf(buf, 8, "%u", proto);
	return buf;
}

const char *proto_word(__u8 proto, char *buf)
{
	return proto == IPPROTO_UDPLITE ? "udplite" : proto_name(proto, buf);
}

void fmt_addr(const __u8 addr[16], int ip_version, char *buf)
{
	if (ip_version == 4)
		inet_ntop(AF_INET, addr + 12, buf, ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, addr, buf, ADDR_STRLEN);
}

void fmt_endpoint(const struct flow_key *k, bool src, char *buf)
{
	char a[ADDR_STRLEN];

	fmt_addr(src ? k->src : k->dst, k->ip_version, a);
	if (!proto_has_ports(k->proto))
		snprintf(buf, ENDPOINT_STRLEN, "%s", a);
	else if (k->ip_version == 6)
		snprintf(buf, ENDPOINT_STRLEN, "[%s]:%u", a, src ? k->sport : k->dport);
	else
		snprintf(buf, ENDPOINT_STRLEN, "%s:%u", a, src ? k->sport : k->dport);
}

void fmt_time(__u64 real_ns, char *buf)
{
	time_t s = real_ns / 1000000000ull;
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, 32 - n, ".%03uZ", (unsigned)(real_ns % 1000000000ull / 1000000));
}

void fmt_si(double v, char *buf, size_t len)
{
	static const char units[] = " kMGTPE";
	int u = 0;

	while (v >= 999.5 && u < 6) {
		v /= 1000;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%.0f", v);
	else if (v < 9.95)
		snprintf(buf, len, "%.1f%c", v, units[u]);
	else
		snprintf(buf, len, "%.0f%c", v, units[u]);
}

const char *dir_name(int dir) { return dir == DIR_INGRESS ? "ingress" : "egress"; }

const char *dir_short(int dir) { return dir == DIR_INGRESS ? "in" : "out"; }

void json_str(FILE *out, const char *s)
{
	size_t n = strlen(s);

	fputc('"', out);
	for (size_t i = 0, used; i < n; i += used) {
		char esc[TEXT_ESC_MAX];
		const char *piece;
		size_t plen = text_piece(s + i, n - i, &used, esc, &piece);

		for (size_t k = 0; k < plen; k++) { /* an escape's backslash, too */
			if (piece[k] == '"' || piece[k] == '\\')
				fputc('\\', out);
			fputc(piece[k], out);
		}
	}
	fputc('"', out);
}

void csv_str(FILE *out, const char *s)
{
	bool formula = s[0] && strchr("=+-@\t\r", s[0]);
	bool quote = formula || strpbrk(s, ",\"");
	size_t n = strlen(s);

	if (quote)
		fputc('"', out);
	if (formula)
		fputc('\'', out);
	for (size_t i = 0, used; i < n; i += used) {
		char esc[TEXT_ESC_MAX];
		const char *piece;
		size_t plen = text_piece(s + i, n - i, &used, esc, &piece);

		if (plen == 1 && *piece == '"')
			fputc('"', out);
		fwrite(piece, 1, plen, out);
	}
	if (quote)
		fputc('"', out);
}

int out_check(FILE *out)
{
	int err = 0;

	if (fflush(out) == EOF)
		err = errno ? -errno : -EIO;
	else if (ferror(out)) /* a write that failed earlier, while the buffer filled */
		err = errno ? -errno : -EIO;
	clearerr(out);
	errno = 0;
	return err;
}

bool out_err_final(int err)
{
	err = err < 0 ? -err : err;
	return err == EPIPE || err == EIO || err == EBADF || err == ENOSPC || err == EDQUOT ||
	       err == EFBIG;
}

int out_check_report(FILE *out, struct out_errors *e)
{
	int err = out_check(out);

	if (!err)
		return 0;
	e->count++;
	e->last = err;
	return out_err_final(err) ? err : 0;
}

void out_errors_say(const struct out_errors *e, const char *what)
{
	if (e->count)
		pr_warn("%s: %llu report%s not written whole, the last for: %s", what,
		        (unsigned long long)e->count, e->count == 1 ? "" : "s", strerror(-e->last));
}

/* An interface name as a zone (fe80::1%eth0): what the kernel allows in a name. */
static bool zone_ok(const char *z)
{
	size_t n = strlen(z);

	if (!n || n >= 16)
		return false;
	for (; *z; z++)
		if (*z == '/' || *z == ':' || *z == '%' || *z == ']' || (unsigned char)*z <= ' ' ||
		    (unsigned char)*z >= 0x7f)
			return false;
	return true;
}

/* A host name or an IPv4 address as getaddrinfo() could take it: letters, digits, '-',
 * '_' and '.', at most 253 of them. */
static bool name_ok(const char *h)
{
	size_t n = strlen(h);

	if (!n || n > 253)
		return false;
	for (; *h; h++)
		if (!g_ascii_isalnum(*h) && *h != '-' && *h != '.' && *h != '_')
			return false;
	return true;
}

int hostport_parse(const char *spec, const char *default_host, struct hostport *hp)
{
	const char *port = spec, *colon = strrchr(spec, ':');
	char *end;
	unsigned long p;

	memset(hp, 0, sizeof(*hp));
	snprintf(hp->host, sizeof(hp->host), "%s", default_host);
	if (colon) {
		size_t hl = colon - spec;
		bool bracket = spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']';

		if (bracket)
			spec++, hl -= 2;
		/* an IPv6 address needs brackets to carry a port */
		if (!hl || hl >= sizeof(hp->host) || (!bracket && memchr(spec, ':', hl)) ||
		    memchr(spec, 0, hl))
			return -1;
		memcpy(hp->host, spec, hl);
		hp->host[hl] = 0;
		port = colon + 1;
		if (bracket) {
			struct in6_addr a;
			char *zone = strchr(hp->host, '%');

			if (zone)
				*zone = 0;
			if (inet_pton(AF_INET6, hp->host, &a) != 1 || (zone && !zone_ok(zone + 1)))
				return -1;
			if (zone)
				*zone = '%';
			hp->v6 = true;
		} else if (!name_ok(hp->host)) {
			return -1;
		}
	}
	if (*port < '0' || *port > '9')
		return -1;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return -1;
	hp->port = p;
	return 0;
}

int hostport_resolve(const struct hostport *hp, struct sockaddr_storage *ss)
{
	struct addrinfo hints = {.ai_flags = AI_NUMERICSERV}, *ai;
	char port[8];
	int ret = -1;

	snprintf(port, sizeof(port), "%u", hp->port);
	if (getaddrinfo(hp->host, port, &hints, &ai))
		return -1;
	if (ai->ai_addrlen <= sizeof(*ss)) {
		memset(ss, 0, sizeof(*ss));
		memcpy(ss, ai->ai_addr, ai->ai_addrlen);
		ret = 0;
	}
	freeaddrinfo(ai);
	return ret;
}

int parse_hostport(const char *spec, const char *default_host, struct sockaddr_storage *ss)
{
	struct hostport hp;

	if (hostport_parse(spec, default_host, &hp))
		return -1;
	return hostport_resolve(&hp, ss);
}

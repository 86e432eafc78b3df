// SPDX-License-Identifier: GPL-2.0-only
/* WireGuard's userspace API (wireguard-go's UAPI socket): the "get" answer read with a
 * deadline and parsed strictly, allowed IPs looked up by longest prefix, and the
 * "# Name =" comment lines of a WireGuard config file.
 * The kernel's WireGuard is read in wireguard_nl.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <glib.h>
#include "sources/users_priv.h"
#include "sources/wireguard.h"

#define WG_ALLOWED_MAX 65536 /* allowed IPs of one interface */
#define WG_PEERS_MAX 65536

static int why_set(char *why, size_t whylen, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int why_set(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

void wg_key_b64(const __u8 raw[32], char out[WG_KEY_B64])
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int o = 0;

	for (int i = 0; i < 32; i += 3) {
		__u32 v = (__u32)raw[i] << 16 | (i + 1 < 32 ? (__u32)raw[i + 1] << 8 : 0) |
		          (i + 2 < 32 ? raw[i + 2] : 0);

		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < 32 ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < 32 ? tab[v & 63] : '=';
	}
	out[o] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* UAPI keys are lowercase hex */
}

static bool parse_key(const char *v, __u8 raw[32])
{
	if (strlen(v) != 64)
		return false;
	for (int i = 0; i < 32; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		raw[i] = (__u8)(hi << 4 | lo);
	}
	return true;
}

/* Decimal digits only (no sign, no blanks), at most max. */
static bool parse_u64(const char *v, __u64 max, __u64 *out)
{
	__u64 n = 0;

	if (!*v || strlen(v) > 20)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (max - (__u64)(*v - '0')) / 10)
			return false;
		n = n * 10 + (__u64)(*v - '0');
	}
	*out = n;
	return true;
}

/* "a.b.c.d:port" or "[v6]:port" (a zone after '%' is allowed and left out). */
static bool parse_endpoint(const char *v, struct wg_peer *p)
{
	char host[64], txt[INET6_ADDRSTRLEN];
	const char *colon;
	__u64 port;
	struct in_addr a4;
	size_t n;

	if (*v == '[') {
		const char *close = strchr(v, ']');

		if (!close || close[1] != ':')
			return false;
		n = (size_t)(close - v - 1);
		colon = close + 1;
		if (n >= sizeof(host))
			return false;
		memcpy(host, v + 1, n);
		host[n] = 0;
		char *pct = strchr(host, '%');
		if (pct)
			*pct = 0;
		if (inet_pton(AF_INET6, host, p->endpoint_addr) != 1)
			return false;
	} else {
		colon = strrchr(v, ':');
		if (!colon || (size_t)(colon - v) >= sizeof(host))
			return false;
		n = (size_t)(colon - v);
		memcpy(host, v, n);
		host[n] = 0;
		if (inet_pton(AF_INET, host, &a4) != 1)
			return false;
		memset(p->endpoint_addr, 0, 16);
		p->endpoint_addr[10] = p->endpoint_addr[11] = 0xff;
		memcpy(p->endpoint_addr + 12, &a4, 4);
	}
	if (!parse_u64(colon + 1, 65535, &port) || !port)
		return false;
	p->endpoint_port = (__u16)port;
	p->has_endpoint = true;
	/* written anew from what was parsed: no zone, nothing of the answer's own text */
	if (*v == '[') {
		inet_ntop(AF_INET6, p->endpoint_addr, txt, sizeof(txt));
		snprintf(p->endpoint, sizeof(p->endpoint), "[%s]:%u", txt, p->endpoint_port);
	} else {
		inet_ntop(AF_INET, p->endpoint_addr + 12, txt, sizeof(txt));
		snprintf(p->endpoint, sizeof(p->endpoint), "%s:%u", txt, p->endpoint_port);
	}
	return true;
}

static bool parse_allowed(const char *v, struct wg_peer *p)
{
	struct wg_allowed a;

	if (!strchr(v, '/') || !addr_parse(v, a.addr, &a.plen))
		return false;
	/* the address as a prefix: bits past plen are cleared, as WireGuard stores it */
	for (int b = a.plen; b < 128; b++)
		a.addr[b / 8] &= (__u8) ~(0x80 >> (b % 8));
	p->allowed = g_renew(struct wg_allowed, p->allowed, p->nallowed + 1);
	p->allowed[p->nallowed++] = a;
	return true;
}

void wg_dev_clear(struct wg_dev *dev)
{
	for (int i = 0; i < dev->npeers; i++)
		g_free(dev->peers[i].allowed);
	g_free(dev->peers);
	dev->peers = NULL;
	dev->npeers = 0;
	dev->listen_port = 0;
}

int wg_uapi_parse(const char *buf, size_t len, struct wg_dev *dev, char *why, size_t whylen)
{
	char line[256];
	struct wg_dev d = {0};
	struct wg_peer *p = NULL;
	int lineno = 0, nallowed = 0, err = -EINVAL;
	bool done = false;

	memcpy(d.ifname, dev->ifname, sizeof(d.ifname));
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n;
		char *eq, *k, *v;
		__u64 num;
		__u8 raw[32];

		lineno++;
		if (!nl) {
			why_set(why, whylen, 0, "line %d: no newline at the end", lineno);
			goto bad;
		}
		n = (size_t)(nl - (buf + pos));
		if (done) {
			why_set(why, whylen, 0, "line %d: text after the answer's end", lineno);
			goto bad;
		}
		if (n >= sizeof(line) || memchr(buf + pos, 0, n)) {
			why_set(why, whylen, 0, "line %d: over-long, or a NUL", lineno);
			goto bad;
		}
		memcpy(line, buf + pos, n);
		line[n] = 0;
		pos += n + 1;
		if (!n) {
			why_set(why, whylen, 0, "line %d: an empty line before errno=", lineno);
			goto bad;
		}
		eq = strchr(line, '=');
		if (!eq || eq == line) {
			why_set(why, whylen, 0, "line %d: not key=value", lineno);
			goto bad;
		}
		*eq = 0;
		k = line;
		v = eq + 1;
		if (strspn(k, "abcdefghijklmnopqrstuvwxyz_") != strlen(k)) {
			why_set(why, whylen, 0, "line %d: a key that is not lowercase letters",
			        lineno);
			goto bad;
		}
		if (!strcmp(k, "errno")) {
			if (!parse_u64(v, INT32_MAX, &num)) {
				why_set(why, whylen, 0, "line %d: errno=%.16s", lineno, v);
				goto bad;
			}
			if (num) {
				why_set(why, whylen, 0, "the interface answered errno=%llu",
				        (unsigned long long)num);
				err = -EPROTO;
				goto bad;
			}
			/* then exactly one empty line */
			if (pos >= len || buf[pos] != '\n') {
				why_set(why, whylen, 0, "line %d: no empty line after errno=0",
				        lineno);
				goto bad;
			}
			pos++;
			done = true;
			continue;
		}
		if (!strcmp(k, "public_key")) {
			if (!parse_key(v, raw)) {
				why_set(why, whylen, 0, "line %d: public_key is not 64 hex digits",
				        lineno);
				goto bad;
			}
			if (d.npeers >= WG_PEERS_MAX) {
				why_set(why, whylen, 0, "line %d: more than %d peers", lineno,
				        WG_PEERS_MAX);
				goto bad;
			}
			d.peers = g_renew(struct wg_peer, d.peers, d.npeers + 1);
			p = &d.peers[d.npeers++];
			memset(p, 0, sizeof(*p));
			wg_key_b64(raw, p->key);
			continue;
		}
		if (!p) { /* the interface's own lines */
			if (!strcmp(k, "private_key")) {
				if (!parse_key(v, raw))
					goto badval;
				memset(raw, 0, sizeof(raw)); /* never kept */
			} else if (!strcmp(k, "listen_port")) {
				if (!parse_u64(v, 65535, &num))
					goto badval;
				d.listen_port = (__u16)num;
			} else if (!strcmp(k, "fwmark")) {
				if (!parse_u64(v, UINT32_MAX, &num))
					goto badval;
			} else if (!strncmp(k, "last_", 5) || !strcmp(k, "endpoint") ||
			           !strcmp(k, "allowed_ip") || !strcmp(k, "rx_bytes") ||
			           !strcmp(k, "tx_bytes")) {
				why_set(why, whylen, 0, "line %d: %s before any public_key", lineno,
				        k);
				goto bad;
			}
			/* another interface key from a newer version: skipped */
			continue;
		}
		if (!strcmp(k, "endpoint")) {
			if (!parse_endpoint(v, p))
				goto badval;
		} else if (!strcmp(k, "allowed_ip")) {
			if (++nallowed > WG_ALLOWED_MAX) {
				why_set(why, whylen, 0, "line %d: more than %d allowed IPs", lineno,
				        WG_ALLOWED_MAX);
				goto bad;
			}
			if (!parse_allowed(v, p))
				goto badval;
		} else if (!strcmp(k, "last_handshake_time_sec")) {
			if (!parse_u64(v, INT64_MAX, &p->handshake_sec))
				goto badval;
		} else if (!strcmp(k, "last_handshake_time_nsec")) {
			if (!parse_u64(v, 999999999, &p->handshake_nsec))
				goto badval;
		} else if (!strcmp(k, "rx_bytes")) {
			if (!parse_u64(v, UINT64_MAX, &p->rx_bytes))
				goto badval;
		} else if (!strcmp(k, "tx_bytes")) {
			if (!parse_u64(v, UINT64_MAX, &p->tx_bytes))
				goto badval;
		} else if (!strcmp(k, "preshared_key")) {
			if (!parse_key(v, raw))
				goto badval;
			memset(raw, 0, sizeof(raw));
		} else if (!strcmp(k, "protocol_version") ||
		           !strcmp(k, "persistent_keepalive_interval")) {
			if (!parse_u64(v, 65535, &num))
				goto badval;
		}
		/* another peer key from a newer version: skipped */
		continue;
	badval:
		why_set(why, whylen, 0, "line %d: a bad %s value", lineno, k);
		goto bad;
	}
	if (!done) {
		why_set(why, whylen, 0, "the answer ends before errno=0 (%d lines)", lineno);
		goto bad;
	}
	wg_dev_clear(dev);
	*dev = d;
	return 0;
bad:
	wg_dev_clear(&d);
	return err;
}

static bool prefix_holds(const struct wg_allowed *a, const __u8 x[16])
{
	int full = a->plen / 8, rest = a->plen % 8;

	if (memcmp(a->addr, x, full) != 0)
		return false;
	return !rest || ((a->addr[full] ^ x[full]) & (0xff << (8 - rest))) == 0;
}

const struct wg_peer *wg_dev_peer_of(const struct wg_dev *dev, const __u8 addr[16])
{
	const struct wg_peer *best = NULL;
	int best_plen = -1;

	for (int i = 0; i < dev->npeers; i++)
		for (int j = 0; j < dev->peers[i].nallowed; j++) {
			const struct wg_allowed *a = &dev->peers[i].allowed[j];

			if (a->plen > best_plen && prefix_holds(a, addr)) {
				best = &dev->peers[i];
				best_plen = a->plen;
			}
		}
	return best;
}

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, __u64 deadline)
{
	for (;;) {
		__u64 now = mono_ms();
		struct pollfd pfd = {.fd = fd, .events = events};
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

int wg_uapi_get(const char *sockdir, const char *ifname, struct wg_dev *dev, char *why,
                size_t whylen)
{
	static const char req[] = "get=1\n\n";
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	__u64 deadline = mono_ms() + WG_DEADLINE_MS;
	GString *ans = NULL;
	size_t sent = 0;
	int fd, err;
	char perr[160];

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", sockdir, ifname) >=
	    sizeof(sa.sun_path))
		return why_set(why, whylen, -ENAMETOOLONG, "%s/%s.sock: path too long", sockdir,
		               ifname);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return why_set(why, whylen, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		if (err == -EAGAIN || err == -EINPROGRESS) {
			err = wait_fd(fd, POLLOUT, deadline);
			if (!err) {
				int soerr = 0;
				socklen_t sl = sizeof(soerr);

				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				err = -soerr;
			}
		}
		if (err) {
			why_set(why, whylen, err, "UAPI socket %s: %s", sa.sun_path,
			        strerror(-err));
			goto out;
		}
	}
	while (sent < sizeof(req) - 1) {
		ssize_t w = send(fd, req + sent, sizeof(req) - 1 - sent, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			err = -errno;
			why_set(why, whylen, err, "UAPI socket %s: %s", sa.sun_path,
			        strerror(errno));
			goto out;
		}
		if (w > 0)
			sent += (size_t)w;
		else if ((err = wait_fd(fd, POLLOUT, deadline))) {
			why_set(why, whylen, err, "UAPI socket %s: no answer in %d ms", sa.sun_path,
			        WG_DEADLINE_MS);
			goto out;
		}
	}
	ans = g_string_sized_new(4096);
	/* wireguard-go keeps the connection open: the answer ends at its first empty line */
	for (;;) {
		char buf[4096];
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r > 0) {
			if (ans->len + (size_t)r > WG_ANSWER_MAX) {
				err = why_set(why, whylen, -EFBIG,
				              "UAPI socket %s: an answer over %u bytes",
				              sa.sun_path, WG_ANSWER_MAX);
				goto out;
			}
			g_string_append_len(ans, buf, r);
			if ((ans->len == 1 && ans->str[0] == '\n') ||
			    (ans->len >= 2 && strstr(ans->str, "\n\n")))
				break;
			continue;
		}
		if (r == 0)
			break; /* closed: what came is the answer, the parser judges it */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			err = -errno;
			why_set(why, whylen, err, "UAPI socket %s: %s", sa.sun_path,
			        strerror(errno));
			goto out;
		}
		if ((err = wait_fd(fd, POLLIN, deadline))) {
			why_set(why, whylen, err, "UAPI socket %s: no complete answer in %d ms",
			        sa.sun_path, WG_DEADLINE_MS);
			goto out;
		}
	}
	if (memchr(ans->str, 0, ans->len)) {
		err = why_set(why, whylen, -EINVAL, "UAPI socket %s: malformed answer (a NUL)",
		              sa.sun_path);
		goto out;
	}
	/* only up to the end of the answer: a later one is not ours */
	{
		char *end = strstr(ans->str, "\n\n");
		size_t alen = end ? (size_t)(end - ans->str) + 2 : ans->len;

		snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
		err = wg_uapi_parse(ans->str, alen, dev, perr, sizeof(perr));
		if (err)
			why_set(why, whylen, err, "UAPI socket %s: malformed answer (%s)",
			        sa.sun_path, perr);
	}
out:
	if (ans)
		g_string_free(ans, TRUE);
	close(fd);
	return err;
}

/* One line with the surrounding blanks gone (in place). */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static bool b64_key(const char *v)
{
	static const char alpha[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	/* 32 bytes: 43 characters, the last of them one of the 16 with two zero low bits */
	return strlen(v) == 44 && v[43] == '=' && strspn(v, alpha) == 43 &&
	       strchr("AEIMQUYcgkosw048", v[42]);
}

int wg_names_parse(const char *buf, size_t len,
                   void (*add)(const char *key, const char *name, size_t namelen, void *ctx),
                   void *ctx, char *why, size_t whylen)
{
	char line[INPUT_LINE_MAX + 1];
	char pending[INPUT_LINE_MAX + 1] = "", name[INPUT_LINE_MAX + 1] = "";
	char key[WG_KEY_B64] = "";
	bool in_peer = false, has_pending = false;
	int lineno = 0;

	for (size_t pos = 0; pos <= len;) {
		const char *nl = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
		size_t n = pos < len ? (nl ? (size_t)(nl - buf) : len) - pos : 0;
		char *s, *eq;

		if (pos == len) { /* the end closes the last section */
			if (in_peer && *key && *name)
				add(key, name, strlen(name), ctx);
			break;
		}
		lineno++;
		if (n > INPUT_LINE_MAX || memchr(buf + pos, 0, n))
			return why_set(why, whylen, -EINVAL, "line %d: over-long, or a NUL",
			               lineno);
		memcpy(line, buf + pos, n);
		line[n] = 0;
		pos += n + 1;
		if (pos > len)
			pos = len;
		s = trim(line);
		if (!*s)
			continue;
		if (*s == '#') {
			s = trim(s + 1);
			if (g_ascii_strncasecmp(s, "name", 4) || !(eq = strchr(s, '=')))
				continue;
			*eq = 0;
			if (!*trim(s + 4)) {
				snprintf(pending, sizeof(pending), "%s", trim(eq + 1));
				has_pending = *pending != 0;
			}
			continue;
		}
		if (*s == '[') {
			if (in_peer && *key && *name)
				add(key, name, strlen(name), ctx);
			in_peer = !g_ascii_strcasecmp(s, "[Peer]");
			if (!in_peer && g_ascii_strcasecmp(s, "[Interface]"))
				return why_set(
				    why, whylen, -EINVAL,
				    "line %d: a section other than [Interface] or [Peer]", lineno);
			*key = 0;
			*name = 0;
			if (in_peer && has_pending)
				memcpy(name, pending, sizeof(name));
			has_pending = false;
			continue;
		}
		eq = strchr(s, '=');
		if (!eq)
			return why_set(why, whylen, -EINVAL, "line %d: not Key = Value", lineno);
		*eq = 0;
		if (in_peer && has_pending) /* "# Name =" inside the section, above its keys */
			memcpy(name, pending, sizeof(name));
		has_pending = false;
		if (in_peer && !g_ascii_strcasecmp(trim(s), "PublicKey")) {
			char *v = trim(eq + 1);

			if (!b64_key(v))
				return why_set(why, whylen, -EINVAL,
				               "line %d: PublicKey is not a base64 key", lineno);
			memcpy(key, v, WG_KEY_B64);
		}
	}
	return 0;
}

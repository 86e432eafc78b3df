// SPDX-License-Identifier: GPL-2.0-only
/* The Host of an HTTP/1.x request (RFC 9112): the request line is recognised by its
 * shape (token SP request-target SP HTTP/1.x CRLF), whatever the method; the name is
 * the authority of an absolute-form or authority-form target (RFC 9112 3.2.2: it
 * replaces Host), else the first Host header's value. A bare LF ends a line too
 * (RFC 9112 2.2). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include "names/http.h"

#define METHOD_MAX 32
#define HLINE_MAX 8192 /* longer request lines or header lines: not what we look for */

static bool tchar(__u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool vchar(__u8 c) { return c > 0x20 && c < 0x7f; }

/* The end of the line starting at p (the index of its LF), or -1 when not there yet;
 * -2 when longer than HLINE_MAX. */
static long line_end(const __u8 *b, size_t len, size_t p)
{
	size_t lim = len - p > HLINE_MAX ? p + HLINE_MAX : len;
	const __u8 *lf = memchr(b + p, '\n', lim - p);

	if (lf)
		return lf - b;
	return len - p > HLINE_MAX ? -2 : -1;
}

/* A host (maybe with a port) of n bytes: the cleaned name, or -ENOENT for an address
 * literal, -EBADMSG for anything else that is not a name. */
static int host_value(const __u8 *v, size_t n, char name[NAME_BUF])
{
	bool addr = n > 0;

	if (n == 0)
		return -ENOENT; /* an empty Host: the target has no authority */
	if (v[0] == '[')
		return -ENOENT; /* an IPv6 literal */
	for (size_t i = 0; i < n && v[i] != ':'; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || v[i] == '.'))
			addr = false;
	if (addr)
		return -ENOENT; /* an IPv4 literal */
	return name_clean((const char *)v, n, name) ? -EBADMSG : 1;
}

/* An absolute-form target (scheme "://" authority path) or an authority-form one
 * (CONNECT host:port): 1 and the name, -ENOENT when the target has no authority. */
static int target_host(const __u8 *t, size_t n, bool connect, char name[NAME_BUF])
{
	const __u8 *a = t, *end, *at;
	size_t i = 0;

	if (!connect) {
		if (n == 0 || t[0] == '/' || t[0] == '*')
			return -ENOENT; /* origin-form or asterisk-form */
		while (i < n && t[i] != ':')
			i++;
		if (i + 3 > n || memcmp(t + i, "://", 3) != 0)
			return -ENOENT;
		a = t + i + 3;
	}
	end = a;
	while (end < t + n && *end != '/' && *end != '?' && *end != '#')
		end++;
	at = memchr(a, '@', end - a); /* userinfo */
	if (at)
		a = at + 1;
	return host_value(a, end - a, name);
}

int http_host(const __u8 *buf, size_t len, char name[NAME_BUF])
{
	size_t i = 0, m, t0, t1, p;
	long eol;
	int r;

	name[0] = 0;
	/* method: a token */
	while (i < len && i <= METHOD_MAX && tchar(buf[i]))
		i++;
	if (i == len)
		return i <= METHOD_MAX ? 0 : -EPROTO;
	if (i == 0 || i > METHOD_MAX || buf[i] != ' ')
		return -EPROTO;
	m = i++;
	/* request-target: visible characters */
	t0 = i;
	while (i < len && i - t0 < HLINE_MAX && vchar(buf[i]))
		i++;
	if (i == len)
		return 0;
	if (i == t0 || buf[i] != ' ')
		return -EPROTO;
	t1 = i++;
	/* "HTTP/1." DIGIT, then CRLF or LF */
	for (const char *v = "HTTP/1."; *v; v++, i++) {
		if (i == len)
			return 0;
		if (buf[i] != (__u8)*v)
			return -EPROTO;
	}
	if (i == len)
		return 0;
	if (buf[i] < '0' || buf[i] > '9')
		return -EPROTO;
	i++;
	if (i < len && buf[i] == '\r')
		i++;
	if (i == len)
		return 0;
	if (buf[i] != '\n')
		return -EPROTO;
	p = i + 1;
	/* a request: the target's authority first */
	r = target_host(buf + t0, t1 - t0, m == 7 && !memcmp(buf, "CONNECT", 7), name);
	if (r != -ENOENT)
		return r;
	/* then the header lines, up to the empty one */
	for (;;) {
		size_t e, n, v0, v1;

		eol = line_end(buf, len, p);
		if (eol == -1)
			return 0;
		if (eol == -2)
			return -EBADMSG;
		e = eol;
		n = e > p && buf[e - 1] == '\r' ? e - 1 - p : e - p;
		if (n == 0)
			return -ENOENT; /* the end of the headers: no Host */
		if (buf[p] == ' ' || buf[p] == '\t') {
			p = e + 1; /* obs-fold: a continuation of a header that is not Host */
			continue;
		}
		if (n < 5 || strncasecmp((const char *)buf + p, "host:", 5) != 0) {
			p = e + 1;
			continue;
		}
		v0 = p + 5;
		v1 = p + n;
		while (v0 < v1 && (buf[v0] == ' ' || buf[v0] == '\t'))
			v0++;
		while (v1 > v0 && (buf[v1 - 1] == ' ' || buf[v1 - 1] == '\t'))
			v1--;
		/* a Host folded onto the next line: which part is the name? none */
		if (e + 1 < len && (buf[e + 1] == ' ' || buf[e + 1] == '\t'))
			return -EBADMSG;
		if (e + 1 == len)
			return 0; /* whether it is folded is still to come */
		return host_value(buf + v0, v1 - v0, name);
	}
}

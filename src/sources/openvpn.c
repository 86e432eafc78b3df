// SPDX-License-Identifier: GPL-2.0-only
/* OpenVPN's status file (--openvpn-status), versions 1 to 3: each client's virtual
 * addresses, from CLIENT_LIST rows (columns found by name in their HEADER line) or, in
 * version 1, from the ROUTING TABLE. OpenVPN rewrites the file in place, so only a
 * complete file (ending in END) with no malformed line replaces what was read before. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>
#include "util/log.h"
#include "sources/users_priv.h"

#define MAX_FIELDS 64

/* Split a line at the separator (',' for versions 1 and 2, tab for 3). */
static int split(char *line, char sep, char **f)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < MAX_FIELDS; p++)
		if (*p == sep) {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

static void add(struct users *u, GHashTable *t, const char *addr, const char *who)
{
	__u8 a[16];
	int plen;

	if (*who && addr_parse(addr, a, &plen) && plen == 128)
		g_hash_table_insert(t, g_memdup2(a, 16),
		                    (gpointer)users_intern(u, who, strlen(who)));
}

GHashTable *openvpn_parse(struct users *u, const char *buf, size_t len, int *bad_line)
{
	char line[INPUT_LINE_MAX + 1];
	GHashTable *t = users_addr_table();
	bool complete = false, routing = false;
	/* CLIENT_LIST columns (counting "CLIENT_LIST" as 0) until a HEADER names them */
	int c_cn = 1, c_addr = 3, c_addr6 = 4, c_user = -1, need = 4;
	int lineno = 0;

	*bad_line = 0;
	for (size_t pos = 0; pos < len && !complete;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - buf) : len) - pos;
		char *f[MAX_FIELDS], sep;
		int nf;

		lineno++;
		if (n > INPUT_LINE_MAX || memchr(buf + pos, 0, n))
			goto bad; /* over-long, or a NUL */
		memcpy(line, buf + pos, n);
		line[n] = 0;
		pos += n + 1;
		if (n && line[n - 1] == '\r')
			line[--n] = 0;
		if (!strcmp(line, "END")) {
			complete = true;
			break;
		}
		sep = strchr(line, '\t') ? '\t' : ',';
		nf = split(line, sep, f);
		if (nf > 2 && !strcmp(f[0], "HEADER") && !strcmp(f[1], "CLIENT_LIST")) {
			/* versions 2 and 3: the columns by name; rows have them all */
			c_cn = c_addr = c_addr6 = c_user = -1;
			for (int i = 2; i < nf; i++) {
				if (!strcmp(f[i], "Common Name"))
					c_cn = i - 1;
				else if (!strcmp(f[i], "Virtual Address"))
					c_addr = i - 1;
				else if (!strcmp(f[i], "Virtual IPv6 Address"))
					c_addr6 = i - 1;
				else if (!strcmp(f[i], "Username"))
					c_user = i - 1;
			}
			if (c_cn < 0 || c_addr < 0)
				goto bad;
			need = nf - 1;
			continue;
		}
		if (!strcmp(f[0], "ROUTING TABLE")) {
			routing = true; /* version 1: Virtual Address,Common Name,... */
			continue;
		}
		if (!strcmp(f[0], "GLOBAL STATS"))
			routing = false;
		if (!strcmp(f[0], "CLIENT_LIST")) {
			const char *who;

			if (nf < need || nf <= c_cn || nf <= c_addr)
				goto bad;
			who = c_user > 0 && c_user < nf && *f[c_user] &&
			              strcmp(f[c_user], "UNDEF") != 0
			          ? f[c_user]
			          : f[c_cn];
			add(u, t, f[c_addr], who);
			if (c_addr6 > 0 && c_addr6 < nf)
				add(u, t, f[c_addr6], who);
		} else if (routing && nf >= 2) {
			add(u, t, f[0], f[1]);
		}
	}
	if (complete)
		return t;
	g_hash_table_destroy(t);
	return NULL;
bad:
	*bad_line = lineno;
	g_hash_table_destroy(t);
	return NULL;
}

void openvpn_read(struct users *u)
{
	const char *path = u->cfg.openvpn_status;
	struct stat st;
	char why[512], *buf;
	size_t len;
	int fd, err, bad;
	GHashTable *t;

	if (!path || stat(path, &st))
		return;
	if (st.st_mtim.tv_sec == u->ovpn_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == u->ovpn_mtime.tv_nsec && st.st_size == u->ovpn_size &&
	    st.st_ino == u->ovpn_ino)
		return;
	fd = input_open("the OpenVPN status file", path, &u->trust, &st, why, sizeof(why));
	if (fd < 0) {
		if (u->ovpn_said != fd)
			pr_warn("%s; keeping the last good state", why);
		u->ovpn_said = fd;
		return;
	}
	u->ovpn_said = 0;
	err = input_read_all(fd, &buf, &len);
	close(fd);
	if (err) {
		pr_warn("cannot read the OpenVPN status file %s: %s", path, strerror(-err));
		return;
	}
	/* this version is done with, whatever it holds: not parsed again unless it changes */
	u->ovpn_mtime = st.st_mtim;
	u->ovpn_size = st.st_size;
	u->ovpn_ino = st.st_ino;
	t = openvpn_parse(u, buf, len, &bad);
	g_free(buf);
	if (!t) {
		if (bad) {
			u->ovpn_malformed++;
			if (!u->said_ovpn_malformed)
				pr_warn("%s:%d: a malformed line (a row shorter than its HEADER, "
				        "over 4096 bytes, or a NUL); keeping the last good state "
				        "(said once; later ones are only counted)",
				        path, bad);
			u->said_ovpn_malformed = true;
		}
		return; /* caught mid-rewrite: keep the last complete one, look again later */
	}
	g_hash_table_destroy(u->ovpn);
	u->ovpn = t;
	u->gen++;
}

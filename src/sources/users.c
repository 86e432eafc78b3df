// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <glib.h>
#include "core/clock.h"
#include "util/fmt.h"
#include "sources/users.h"

/* A session's bindings outlive its disconnect event this long, so that flows read in
 * the same harvest as both its connect and disconnect events are still attributed. */
#define LINGER_NS (10 * 1000000000ull)

struct session {
	char *id;
	const char *user;
	int ifindex;           /* 0: the session shares its tunnel (OpenVPN) */
	__u8 addr[2][16];
	int naddr;
	__u64 ended_ns;        /* CLOCK_MONOTONIC of the disconnect event, 0 while live */
};

struct prefix_rule {
	__u8 addr[16];
	int plen;              /* in bits over the 16-byte (IPv4-mapped) address */
	const char *user;
};

struct iface_rule {
	char *glob;
	const char *user;
};

struct users {
	struct users_cfg cfg;
	unsigned gen;
	GStringChunk *strings;  /* every user name, interned */
	GHashTable *interned;
	/* sessions */
	GHashTable *sessions;   /* id -> struct session (owned) */
	GHashTable *by_ifindex; /* ifindex -> struct session */
	GHashTable *by_addr;    /* 16-byte address -> struct session */
	ino_t ev_ino;
	off_t ev_off;
	/* OpenVPN status */
	GHashTable *ovpn;       /* 16-byte address -> user */
	struct timespec ovpn_mtime;
	off_t ovpn_size;
	/* mapping file */
	GArray *iface_rules, *prefix_rules;
};

static const char *intern(struct users *u, const char *s)
{
	const char *i = g_hash_table_lookup(u->interned, s);

	if (!i) {
		i = g_string_chunk_insert(u->strings, s);
		g_hash_table_add(u->interned, (gpointer)i);
	}
	return i;
}

static guint addr_hash(gconstpointer p)
{
	const guint32 *w = p;

	return (w[0] * 31 + w[1]) * 31 + (w[2] * 31 + w[3]) * 0x9e3779b1u;
}

static gboolean addr_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, 16);
}

static GHashTable *addr_table(void)
{
	return g_hash_table_new_full(addr_hash, addr_equal, g_free, NULL);
}

/* Parse "a.b.c.d", "v6", with an optional "/len", into the flow key's form. */
static bool parse_addr(const char *s, __u8 out[16], int *plen)
{
	char buf[64];
	char *slash, *end;
	long len = -1;
	struct in_addr a4;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		len = strtol(slash, &end, 10);
		if (end == slash || *end)
			return false;
	}
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (len > 32)
			return false;
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		*plen = len < 0 ? 128 : 96 + (int)len;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out) == 1 && len <= 128) {
		*plen = len < 0 ? 128 : (int)len;
		return true;
	}
	return false;
}

static bool prefix_has(const struct prefix_rule *r, const __u8 a[16])
{
	int full = r->plen / 8, rest = r->plen % 8;

	if (memcmp(r->addr, a, full))
		return false;
	return !rest || ((r->addr[full] ^ a[full]) & (0xff << (8 - rest))) == 0;
}

static void bind_addr(struct users *u, const __u8 a[16], struct session *s)
{
	g_hash_table_insert(u->by_addr, g_memdup2(a, 16), s);
}

/* Drop a session and whatever still points at it. */
static void session_drop(struct users *u, struct session *s)
{
	if (s->ifindex && g_hash_table_lookup(u->by_ifindex, GINT_TO_POINTER(s->ifindex)) == s)
		g_hash_table_remove(u->by_ifindex, GINT_TO_POINTER(s->ifindex));
	for (int i = 0; i < s->naddr; i++)
		if (g_hash_table_lookup(u->by_addr, s->addr[i]) == s)
			g_hash_table_remove(u->by_addr, s->addr[i]);
	g_hash_table_remove(u->sessions, s->id); /* frees s */
}

static void session_free(gpointer p)
{
	struct session *s = p;

	g_free(s->id);
	g_free(s);
}

/* One events line: "connect|disconnect" then tab-separated key=value fields. */
static void event_line(struct users *u, char *line)
{
	char *save = NULL, *f = strtok_r(line, "\t", &save);
	const char *id = NULL, *user = NULL, *addrs[2] = {0};
	int ifindex = 0, plen;
	bool connect;
	struct session *s;

	if (!f || (strcmp(f, "connect") && strcmp(f, "disconnect")))
		return;
	connect = !strcmp(f, "connect");
	while ((f = strtok_r(NULL, "\t", &save))) {
		char *v = strchr(f, '=');

		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(f, "id"))
			id = v;
		else if (!strcmp(f, "user"))
			user = v;
		else if (!strcmp(f, "ifindex"))
			ifindex = atoi(v);
		else if (!strcmp(f, "addr"))
			addrs[0] = v;
		else if (!strcmp(f, "addr6"))
			addrs[1] = v;
	}
	if (!id || !*id)
		return;
	s = g_hash_table_lookup(u->sessions, id);
	if (!connect) {
		if (s && !s->ended_ns)
			s->ended_ns = now_ns(CLOCK_MONOTONIC);
		return;
	}
	if (!user || !*user)
		return;
	if (s)
		session_drop(u, s);
	s = g_new0(struct session, 1);
	s->id = g_strdup(id);
	s->user = intern(u, user);
	s->ifindex = ifindex > 0 ? ifindex : 0;
	g_hash_table_insert(u->sessions, s->id, s);
	if (s->ifindex)
		g_hash_table_insert(u->by_ifindex, GINT_TO_POINTER(s->ifindex), s);
	for (int i = 0; i < 2; i++) {
		if (addrs[i] && *addrs[i] && parse_addr(addrs[i], s->addr[s->naddr], &plen)) {
			bind_addr(u, s->addr[s->naddr], s);
			s->naddr++;
		}
	}
}

static void read_events(struct users *u)
{
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	if (!u->cfg.sessions || stat(u->cfg.sessions, &st))
		return;
	if (st.st_ino != u->ev_ino || st.st_size < u->ev_off) {
		/* a new or truncated file: start over */
		g_hash_table_remove_all(u->by_ifindex);
		g_hash_table_remove_all(u->by_addr);
		g_hash_table_remove_all(u->sessions);
		u->ev_ino = st.st_ino;
		u->ev_off = 0;
		u->gen++;
	}
	if (st.st_size == u->ev_off)
		return;
	f = fopen(u->cfg.sessions, "re");
	if (!f || fseeko(f, u->ev_off, SEEK_SET)) {
		if (f)
			fclose(f);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break; /* a line still being written: read it next time */
		line[n - 1] = 0;
		u->ev_off += n;
		event_line(u, line);
	}
	free(line);
	fclose(f);
	u->gen++;
}

static void expire_sessions(struct users *u)
{
	GHashTableIter it;
	gpointer k, v;
	GPtrArray *old = g_ptr_array_new();
	__u64 now = now_ns(CLOCK_MONOTONIC);

	g_hash_table_iter_init(&it, u->sessions);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct session *s = v;

		if (s->ended_ns && now - s->ended_ns > LINGER_NS)
			g_ptr_array_add(old, s);
	}
	for (guint i = 0; i < old->len; i++)
		session_drop(u, old->pdata[i]);
	if (old->len)
		u->gen++;
	g_ptr_array_free(old, TRUE);
}

/* Split a status line at the separator (',' for versions 1 and 2, tab for 3). */
static int split(char *line, char sep, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == sep) {
			*p = 0;
			f[n++] = p + 1;
		}
	return n;
}

/* OpenVPN's status file, versions 1 to 3. Only a complete file (ending in END) replaces
 * what was read before: OpenVPN rewrites it in place. */
static void read_openvpn(struct users *u)
{
	struct stat st;
	char *line = NULL, *f[32];
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	GHashTable *t;
	bool complete = false, routing = false;
	int c_cn = 1, c_addr = 3, c_addr6 = 4, c_user = -1, plen;

	if (!u->cfg.openvpn_status || stat(u->cfg.openvpn_status, &st))
		return;
	if (st.st_mtim.tv_sec == u->ovpn_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == u->ovpn_mtime.tv_nsec && st.st_size == u->ovpn_size)
		return;
	fp = fopen(u->cfg.openvpn_status, "re");
	if (!fp)
		return;
	t = addr_table();
	while ((n = getline(&line, &cap, fp)) > 0) {
		char sep = strchr(line, '\t') ? '\t' : ',';
		int nf;

		line[strcspn(line, "\r\n")] = 0;
		if (!strcmp(line, "END")) {
			complete = true;
			break;
		}
		nf = split(line, sep, f, 32);
		if (nf > 2 && !strcmp(f[0], "HEADER") && !strcmp(f[1], "CLIENT_LIST")) {
			/* version 2/3 header: find the columns by name */
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
			continue;
		}
		if (!strcmp(f[0], "ROUTING TABLE")) {
			routing = true; /* version 1: Virtual Address,Common Name,... */
			continue;
		}
		if (!strcmp(f[0], "GLOBAL STATS"))
			routing = false;
		if (nf > c_addr && !strcmp(f[0], "CLIENT_LIST")) {
			const char *who = c_user > 0 && c_user < nf && strcmp(f[c_user], "UNDEF") &&
					  *f[c_user] ? f[c_user] : f[c_cn];
			int cols[2] = {c_addr, c_addr6};

			for (int i = 0; i < 2; i++) {
				__u8 a[16];

				if (cols[i] < nf && parse_addr(f[cols[i]], a, &plen) && plen == 128)
					g_hash_table_insert(t, g_memdup2(a, 16), (gpointer)intern(u, who));
			}
		} else if (routing && nf >= 2) {
			__u8 a[16];

			if (parse_addr(f[0], a, &plen) && plen == 128)
				g_hash_table_insert(t, g_memdup2(a, 16), (gpointer)intern(u, f[1]));
		}
	}
	free(line);
	fclose(fp);
	if (!complete) {
		g_hash_table_destroy(t);
		return; /* caught mid-rewrite: keep the last complete one, look again later */
	}
	g_hash_table_destroy(u->ovpn);
	u->ovpn = t;
	u->ovpn_mtime = st.st_mtim;
	u->ovpn_size = st.st_size;
	u->gen++;
}

static void free_iface_rule(gpointer p)
{
	g_free(((struct iface_rule *)p)->glob);
}

int users_reload_map(struct users *u)
{
	GArray *ifr, *pfx;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, err = 0;
	FILE *f;

	if (!u->cfg.map)
		return 0;
	f = fopen(u->cfg.map, "re");
	if (!f) {
		err = -errno;
		fprintf(stderr, "tunflow: cannot read the user map %s: %s\n", u->cfg.map,
			strerror(errno));
		return err;
	}
	ifr = g_array_new(FALSE, FALSE, sizeof(struct iface_rule));
	g_array_set_clear_func(ifr, free_iface_rule);
	pfx = g_array_new(FALSE, FALSE, sizeof(struct prefix_rule));
	while (getline(&line, &cap, f) > 0) {
		char match[256], user[256], extra[2];
		struct prefix_rule pr;
		int n;

		lineno++;
		line[strcspn(line, "#")] = 0;
		n = sscanf(line, "%255s %255s %1s", match, user, extra);
		if (n <= 0)
			continue;
		if (n != 2) {
			fprintf(stderr, "tunflow: %s:%d: wants 'INTERFACE-OR-ADDRESS USER', not '%s'\n",
				u->cfg.map, lineno, g_strstrip(line));
			err = -EINVAL;
			break;
		}
		if (parse_addr(match, pr.addr, &pr.plen)) {
			pr.user = intern(u, user);
			g_array_append_val(pfx, pr);
		} else if (strchr(match, '/') || strlen(match) >= 16) {
			fprintf(stderr, "tunflow: %s:%d: '%s' is neither an address/prefix nor an "
					"interface name\n", u->cfg.map, lineno, match);
			err = -EINVAL;
			break;
		} else {
			struct iface_rule ir = {g_strdup(match), intern(u, user)};

			g_array_append_val(ifr, ir);
		}
	}
	free(line);
	fclose(f);
	if (err) {
		g_array_free(ifr, TRUE);
		g_array_free(pfx, TRUE);
		return err;
	}
	if (u->iface_rules)
		g_array_free(u->iface_rules, TRUE);
	if (u->prefix_rules)
		g_array_free(u->prefix_rules, TRUE);
	u->iface_rules = ifr;
	u->prefix_rules = pfx;
	u->gen++;
	return 0;
}

struct users *users_new(const struct users_cfg *cfg)
{
	struct users *u = g_new0(struct users, 1);

	u->cfg = *cfg;
	u->strings = g_string_chunk_new(4096);
	u->interned = g_hash_table_new(g_str_hash, g_str_equal);
	u->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
	u->by_ifindex = g_hash_table_new(g_direct_hash, g_direct_equal);
	u->by_addr = addr_table();
	u->ovpn = addr_table();
	u->gen = 1;
	if (cfg->openvpn_status && access(cfg->openvpn_status, R_OK)) {
		fprintf(stderr, "tunflow: cannot read the OpenVPN status file %s: %s (set "
				"'status FILE' in the server's config)\n", cfg->openvpn_status,
			strerror(errno));
		users_free(u);
		return NULL;
	}
	if (users_reload_map(u)) {
		users_free(u);
		return NULL;
	}
	users_refresh(u);
	return u;
}

void users_free(struct users *u)
{
	if (!u)
		return;
	g_hash_table_destroy(u->by_ifindex);
	g_hash_table_destroy(u->by_addr);
	g_hash_table_destroy(u->sessions);
	g_hash_table_destroy(u->ovpn);
	g_hash_table_destroy(u->interned);
	g_string_chunk_free(u->strings);
	if (u->iface_rules)
		g_array_free(u->iface_rules, TRUE);
	if (u->prefix_rules)
		g_array_free(u->prefix_rules, TRUE);
	g_free(u);
}

bool users_enabled(const struct users *u)
{
	return u && (u->ev_ino || u->cfg.openvpn_status || u->cfg.map);
}

void users_refresh(struct users *u)
{
	read_events(u);
	expire_sessions(u);
	read_openvpn(u);
}

unsigned users_gen(const struct users *u)
{
	return u->gen;
}

static const char *by_addr(struct users *u, const __u8 a[16])
{
	struct session *s = g_hash_table_lookup(u->by_addr, a);
	const struct prefix_rule *best = NULL;
	const char *o;

	if (s)
		return s->user;
	if ((o = g_hash_table_lookup(u->ovpn, a)))
		return o;
	for (guint i = 0; u->prefix_rules && i < u->prefix_rules->len; i++) {
		const struct prefix_rule *r = &g_array_index(u->prefix_rules, struct prefix_rule, i);

		if ((!best || r->plen > best->plen) && prefix_has(r, a))
			best = r;
	}
	return best ? best->user : NULL;
}

const char *users_of_iface(struct users *u, int ifindex, const char *ifname)
{
	struct session *s = g_hash_table_lookup(u->by_ifindex, GINT_TO_POINTER(ifindex));

	if (s)
		return s->user;
	for (guint i = 0; u->iface_rules && i < u->iface_rules->len; i++) {
		const struct iface_rule *r = &g_array_index(u->iface_rules, struct iface_rule, i);

		if (!fnmatch(r->glob, ifname, 0))
			return r->user;
	}
	return NULL;
}

const char *users_lookup(struct users *u, const struct flow_key *k, const char *ifname)
{
	const __u8 *near = k->dir == DIR_INGRESS ? k->src : k->dst;
	const __u8 *far = k->dir == DIR_INGRESS ? k->dst : k->src;
	const char *who = users_of_iface(u, k->ifindex, ifname);

	if (!who)
		who = by_addr(u, near);
	return who ? who : by_addr(u, far);
}

void users_iface_gone(struct users *u, int ifindex)
{
	if (g_hash_table_remove(u->by_ifindex, GINT_TO_POINTER(ifindex)))
		u->gen++;
}

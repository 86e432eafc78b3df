// SPDX-License-Identifier: GPL-2.0-only
/* The events file scripts/tunflow-session-hook appends to: one line per connect and
 * disconnect, "connect" or "disconnect" then tab-separated key=value fields, each value
 * percent-encoded (every byte outside printable ASCII, '%' and '\' is "%HH"), so no
 * value can make a second field or line. Read incrementally: each harvest reads only
 * what was appended since the last (at most EVENTS_READ_MAX), and an over-long line is
 * skipped once, never re-read.
 *
 * The hook compacts the file (scripts/tunflow-session-hook: the connect lines of the
 * open sessions, renamed over it). A replaced or truncated file is replayed from its
 * start over the sessions already known: each connect line replaces its session, and
 * once the replay has caught up, a session the new file no longer holds ends as if it
 * had disconnected then (it lingers, then goes). Nothing open is forgotten, and no
 * session is held twice (sessions are keyed by id). A file is known replaced by its
 * inode, or, as ext4 hands a freed inode number to the next new file at once, by no
 * longer holding the last bytes read just before where reading stopped. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib.h>
#include "core/clock.h"
#include "util/log.h"
#include "sources/users_priv.h"

/* A session's bindings outlive its disconnect event this long, so that flows read in
 * the same harvest as both its connect and disconnect events are still attributed. */
#define LINGER_NS (10 * 1000000000ull)
/* Bytes of the events file read per harvest at most; the rest waits for the next. */
#define EVENTS_READ_MAX (1 << 20)

struct ended {
	char *id;
	__u64 at;
};

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

static void ended_free(gpointer p)
{
	struct ended *e = p;

	g_free(e->id);
	g_free(e);
}

void sessions_clear(struct users *u)
{
	g_hash_table_remove_all(u->by_ifindex);
	g_hash_table_remove_all(u->by_addr);
	g_hash_table_remove_all(u->sessions);
	g_queue_clear_full(&u->ended, ended_free);
}

void sessions_end(struct users *u, struct session *s, __u64 now)
{
	struct ended *e;

	if (s->ended_ns)
		return;
	s->ended_ns = now ? now : 1;
	e = g_new(struct ended, 1);
	e->id = g_strdup(s->id);
	e->at = s->ended_ns;
	g_queue_push_tail(&u->ended, e);
}

/* Only sessions that ended cost anything here, oldest first. */
void sessions_expire(struct users *u, __u64 now)
{
	struct ended *e;
	bool dropped = false;

	while ((e = g_queue_peek_head(&u->ended)) && now - e->at > LINGER_NS) {
		struct session *s = g_hash_table_lookup(u->sessions, e->id);

		if (s && s->ended_ns == e->at) { /* not reconnected under the same id since */
			session_drop(u, s);
			dropped = true;
		}
		ended_free(g_queue_pop_head(&u->ended));
	}
	if (dropped)
		u->gen++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undo the hook's percent-encoding of [s, s+len) into a NUL-terminated g_malloc'd
 * string; its length in *out_len (it may hold a NUL). NULL on a bad escape. */
static char *decode(const char *s, size_t len, size_t *out_len)
{
	char *out = g_malloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			out[n++] = s[i];
			continue;
		}
		int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
		int lo = i + 2 < len ? hexval(s[i + 2]) : -1;

		if (hi < 0 || lo < 0) {
			g_free(out);
			return NULL;
		}
		out[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[n] = 0;
	*out_len = n;
	return out;
}

enum field { F_ID, F_USER, F_IFINDEX, F_ADDR, F_ADDR6, F_NETNS, F_N };
static const char *const field_names[F_N] = {"id", "user", "ifindex", "addr", "addr6", "netns"};

/* A whole decimal number in [min, max], nothing else. */
static bool parse_num(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!len || len != strlen(s) || strspn(s, "0123456789") != len)
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && *out <= max;
}

bool sessions_line(struct users *u, const char *line, size_t len)
{
	char *v[F_N] = {0};
	size_t vlen[F_N] = {0};
	const char *p = line, *end = line + len, *tab;
	unsigned long long ifindex = 0, netns = 0;
	__u8 addr[16];
	int plen;
	bool connect, ok = false;
	struct session *s;

	tab = memchr(p, '\t', len);
	tab = tab ? tab : end;
	if (tab - p == 7 && !memcmp(p, "connect", 7))
		connect = true;
	else if (tab - p == 10 && !memcmp(p, "disconnect", 10))
		connect = false;
	else
		return false;
	for (p = tab; p < end; p = tab) {
		const char *f = p + 1, *eq;

		tab = memchr(f, '\t', end - f);
		tab = tab ? tab : end;
		eq = memchr(f, '=', tab - f);
		if (!eq)
			goto out;
		for (int i = 0; i < F_N; i++) {
			if ((size_t)(eq - f) != strlen(field_names[i]) ||
			    memcmp(f, field_names[i], eq - f) != 0)
				continue;
			g_free(v[i]);
			v[i] = decode(eq + 1, tab - eq - 1, &vlen[i]);
			if (!v[i])
				goto out;
		}
	}
	if (!v[F_ID] || !vlen[F_ID] || memchr(v[F_ID], 0, vlen[F_ID]))
		goto out;
	if (v[F_IFINDEX] && vlen[F_IFINDEX] &&
	    !parse_num(v[F_IFINDEX], vlen[F_IFINDEX], INT_MAX, &ifindex))
		goto out;
	if (v[F_NETNS] && !parse_num(v[F_NETNS], vlen[F_NETNS], ULLONG_MAX, &netns))
		goto out;
	ok = true;
	if (u->netns && !v[F_NETNS]) {
		if (!u->said_no_netns)
			pr_warn("%s: lines without netns= (written by an older "
			        "tunflow-session-hook) are ignored: install the new hook",
			        u->cfg.sessions ? u->cfg.sessions : "sessions");
		u->said_no_netns = true;
		goto out;
	}
	if (u->netns && netns != u->netns) {
		/* recorded in another network namespace: its interfaces are not ours */
		u->ev_foreign++;
		goto out;
	}
	s = g_hash_table_lookup(u->sessions, v[F_ID]);
	if (!connect) {
		if (s)
			sessions_end(u, s, now_ns(CLOCK_MONOTONIC));
		goto out;
	}
	if (!v[F_USER] || !vlen[F_USER])
		goto out;
	if (s)
		session_drop(u, s);
	s = g_new0(struct session, 1);
	s->id = g_strdup(v[F_ID]);
	s->user = users_intern(u, v[F_USER], vlen[F_USER]);
	s->ifindex = (int)ifindex;
	g_hash_table_insert(u->sessions, s->id, s);
	if (s->ifindex)
		g_hash_table_insert(u->by_ifindex, GINT_TO_POINTER(s->ifindex), s);
	for (int i = F_ADDR; i <= F_ADDR6; i++) {
		if (!v[i] || !vlen[i] || strlen(v[i]) != vlen[i] ||
		    !addr_parse(v[i], addr, &plen) || plen != 128)
			continue;
		memcpy(s->addr[s->naddr], addr, 16);
		bind_addr(u, s->addr[s->naddr], s);
		s->naddr++;
	}
	u->gen++;
out:
	for (int i = 0; i < F_N; i++)
		g_free(v[i]);
	return ok;
}

static void malformed(struct users *u, off_t at, const char *what)
{
	u->ev_malformed++;
	if (!u->said_malformed)
		pr_warn("%s: %s at byte %lld, skipped (said once; later ones are only counted)",
		        u->cfg.sessions, what, (long long)at);
	u->said_malformed = true;
}

/* Say once what keeps the events file from being read (err: -errno, or 0 when it can
 * be read again). */
static void say(struct users *u, int err, const char *why)
{
	if (err == u->ev.said)
		return;
	u->ev.said = err;
	if (!err)
		pr_info("%s: reading session events", u->cfg.sessions);
	else if (err == -ENOENT && !u->cfg.sessions_given)
		pr_debug("%s: no session events yet", u->cfg.sessions);
	else if (err == -ENOENT)
		pr_info("%s: no session events yet (tunflow-session-hook creates it at the "
		        "first connect)",
		        u->cfg.sessions);
	else
		pr_warn("%s; not read until that changes", why);
}

void sessions_feed(struct users *u, const char *buf, size_t n, off_t at)
{
	struct events_file *e = &u->ev;

	for (size_t i = 0; i < n;) {
		const char *nl = memchr(buf + i, '\n', n - i);
		size_t piece = (nl ? (size_t)(nl - buf) : n) - i;

		if (!e->skipping && e->partial->len + piece >= INPUT_LINE_MAX) {
			malformed(u, at + i, "a line longer than 4096 bytes");
			e->skipping = true;
			g_string_truncate(e->partial, 0);
		}
		if (!e->skipping)
			g_string_append_len(e->partial, buf + i, piece);
		i += piece;
		if (!nl)
			break;
		i++; /* the newline */
		if (!e->skipping && !sessions_line(u, e->partial->str, e->partial->len))
			malformed(u, at + i - 1 - e->partial->len, "a malformed line");
		e->skipping = false;
		g_string_truncate(e->partial, 0);
	}
}

void sessions_replay(struct users *u, ino_t ino, dev_t dev, off_t size)
{
	struct events_file *e = &u->ev;
	GHashTableIter it;
	gpointer s;

	g_hash_table_iter_init(&it, u->sessions);
	while (g_hash_table_iter_next(&it, NULL, &s))
		((struct session *)s)->stale = true;
	e->ino = ino;
	e->dev = dev;
	e->off = 0;
	e->skipping = false;
	e->replaying = true;
	e->replay_end = size;
	e->taillen = 0;
	g_string_truncate(e->partial, 0);
	u->gen++;
}

void sessions_replayed(struct users *u)
{
	struct events_file *e = &u->ev;
	__u64 now = now_ns(CLOCK_MONOTONIC);
	GHashTableIter it;
	gpointer s;

	if (!e->replaying || e->off < e->replay_end)
		return;
	e->replaying = false;
	g_hash_table_iter_init(&it, u->sessions);
	while (g_hash_table_iter_next(&it, NULL, &s))
		if (((struct session *)s)->stale)
			sessions_end(u, s, now);
}

/* Whether the file still holds, just before the offset, the bytes last consumed. */
static bool same_tail(struct events_file *e, int fd)
{
	char b[sizeof(e->tail)];

	return !e->taillen ||
	       (pread(fd, b, e->taillen, e->off - (off_t)e->taillen) == (ssize_t)e->taillen &&
	        !memcmp(b, e->tail, e->taillen));
}

/* Remember the last bytes of the n just consumed (after those remembered before). */
static void keep_tail(struct events_file *e, const char *buf, size_t n)
{
	const size_t cap = sizeof(e->tail);
	size_t keep;

	if (n >= cap) {
		memcpy(e->tail, buf + n - cap, cap);
		e->taillen = cap;
		return;
	}
	keep = e->taillen < cap - n ? e->taillen : cap - n;
	memmove(e->tail, e->tail + e->taillen - keep, keep);
	memcpy(e->tail + keep, buf, n);
	e->taillen = keep + n;
}

void sessions_read(struct users *u)
{
	struct events_file *e = &u->ev;
	struct stat st;
	char why[512], *buf;
	ssize_t n;
	int fd;

	if (!u->cfg.sessions)
		return;
	if (stat(u->cfg.sessions, &st)) {
		snprintf(why, sizeof(why), "cannot read the sessions file %s: %s", u->cfg.sessions,
		         strerror(errno));
		say(u, -errno, why);
		return;
	}
	if (e->ino && st.st_ino == e->ino && st.st_dev == e->dev && st.st_size == e->off)
		return; /* nothing new: the common case, one stat() */
	fd = input_open("the sessions file", u->cfg.sessions, &u->trust, &st, why, sizeof(why));
	if (fd < 0) {
		say(u, fd, why);
		return;
	}
	if (e->said && e->said != -ENOENT)
		say(u, 0, NULL);
	e->said = 0;
	if (st.st_ino != e->ino || st.st_dev != e->dev || st.st_size < e->off || !same_tail(e, fd))
		sessions_replay(u, st.st_ino, st.st_dev, st.st_size);
	buf = g_malloc(EVENTS_READ_MAX);
	n = pread(fd, buf, EVENTS_READ_MAX, e->off);
	if (n > 0) {
		sessions_feed(u, buf, n, e->off);
		keep_tail(e, buf, n);
		e->off += n;
	}
	g_free(buf);
	close(fd);
	sessions_replayed(u);
}

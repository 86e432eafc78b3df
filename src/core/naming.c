// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <glib.h>
#include "core/clock.h"
#include "core/datapath.h"
#include "core/dest.h"
#include "core/flowtab.h"
#include "core/naming.h"
#include "names/dns.h"
#include "names/dnscache.h"
#include "names/http.h"
#include "names/quic.h"
#include "names/tls.h"
#include "sources/ifwatch.h"
#include "sources/users.h"
#include "util/log.h"
#include "util/lru.h"

const char *const naming_counter_names[NCNT_MAX] = {
    [NCNT_DNS_MALFORMED] = "dns_malformed",   [NCNT_TLS_MALFORMED] = "tls_malformed",
    [NCNT_QUIC_MALFORMED] = "quic_malformed", [NCNT_HTTP_MALFORMED] = "http_malformed",
    [NCNT_DNS_EVICTIONS] = "dns_evictions",   [NCNT_NAMES_UNSTORED] = "names_unstored",
    [NCNT_UNFOLLOWED] = "names_unfollowed",
};

#define STREAM_MAX 8192                       /* bytes of one direction kept to find a name */
#define DNS_STREAM_MAX 70000                  /* DNS over TCP: one message of up to 65535 bytes */
#define PENDING_MAX 4                         /* segments after a gap, waiting for it to fill */
#define CONN_IDLE_NS (120ull * 1000000000ull) /* a connection not seen this long goes */
#define BUFFER_BUDGET (64u << 20)             /* bytes of first segments held for all connections */

/* A connection as both of its directions see it: near is the VPN user's side. */
struct conn_key {
	__u32 ifindex;
	__u8 proto;
	__u8 pad[3];
	__u8 near[16], far[16];
	__u16 nport, fport;
};

struct segment {
	__u32 seq;
	__u32 len;
	__u8 *data;
};

/* One direction's first bytes, in sequence order from the first byte seen. */
struct stream {
	__u8 *buf;
	size_t len, cap;
	__u32 start; /* TCP sequence number of buf[0] */
	bool started, done;
	size_t consumed; /* DNS over TCP: messages parsed so far were removed */
	__u8 segs;       /* segments taken */
	struct segment pending[PENDING_MAX];
};

struct conn {
	struct naming *n;
	struct conn_key key;
	const char *name; /* interned; NULL: none yet */
	__u8 src;         /* enum name_source */
	bool ech;
	bool done;               /* nothing more to learn: buffers freed */
	bool dns;                /* port 53 */
	struct stream st[2];     /* by the packets' enum flow_dir */
	struct quic_state *quic; /* UDP, not DNS */
	int quic_client;         /* dir of the client's datagrams, or -1 */
	__u8 udp_seen[2];        /* datagrams fed, by dir */
	__u64 last_ns;
	struct lru_node lru;
};

struct naming {
	struct naming_cfg cfg;
	struct datapath *dp;
	struct users *users;
	struct ring_buffer *rb;
	struct dnscache *dns;
	GHashTable *conns; /* struct conn_key -> struct conn */
	struct lru lru;
	GHashTable *names; /* interned names */
	GArray *done;      /* flow keys to tell the kernel it may stop capturing */
	__u64 cnt[NCNT_MAX];
	__u64 now;       /* clock_now() of the event being read */
	size_t buffered; /* bytes the streams hold, at most about BUFFER_BUDGET */
};

static guint conn_hash(gconstpointer p)
{
	const __u8 *b = p;
	guint h = 2166136261u;

	for (size_t i = 0; i < sizeof(struct conn_key); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static gboolean conn_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct conn_key));
}

/* Bytes a stream holds. */
static size_t stream_bytes(const struct stream *s)
{
	size_t b = s->cap;

	for (int i = 0; i < PENDING_MAX; i++)
		if (s->pending[i].data)
			b += s->pending[i].len;
	return b;
}

static void stream_free(struct naming *n, struct stream *s)
{
	n->buffered -= stream_bytes(s);
	free(s->buf);
	for (int i = 0; i < PENDING_MAX; i++)
		free(s->pending[i].data);
	memset(s, 0, sizeof(*s));
}

/* Nothing more to learn from this connection: free its buffers, tell the kernel. */
static void conn_finish(struct naming *n, struct conn *c)
{
	if (c->done)
		return;
	c->done = true;
	stream_free(n, &c->st[0]);
	stream_free(n, &c->st[1]);
	quic_free(c->quic);
	c->quic = NULL;
	if (n->dp && !c->dns) {
		/* both directions' flow keys, each the way round the side rule (core/side.h)
		 * reads it: near as the source where the user sends (ingress on a server's
		 * tunnel), as the destination where the user receives. Where the rule goes by
		 * the interface's own address, both ways fit: both are told (one is never
		 * seen, and ages out of the LRU map). */
		struct flow_key k = {.ifindex = c->key.ifindex, .proto = c->key.proto};

		k.ip_version = !memcmp(c->key.near, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) ? 4 : 6;
		for (int d = DIR_INGRESS; d <= DIR_EGRESS; d++) {
			k.dir = d;
			memcpy(k.src, c->key.near, 16);
			memcpy(k.dst, c->key.far, 16);
			k.sport = c->key.nport;
			k.dport = c->key.fport;
			if (flow_user_sent(&k))
				g_array_append_val(n->done, k);
			memcpy(k.src, c->key.far, 16);
			memcpy(k.dst, c->key.near, 16);
			k.sport = c->key.fport;
			k.dport = c->key.nport;
			if (!flow_user_sent(&k))
				g_array_append_val(n->done, k);
		}
	}
}

static void conn_destroy(gpointer p)
{
	struct conn *c = p;

	stream_free(c->n, &c->st[0]);
	stream_free(c->n, &c->st[1]);
	quic_free(c->quic);
	g_free(c);
}

static void conn_key_of(const struct flow_key *k, struct conn_key *ck)
{
	memset(ck, 0, sizeof(*ck));
	ck->ifindex = k->ifindex;
	ck->proto = k->proto;
	memcpy(ck->near, flow_near(k), 16);
	memcpy(ck->far, flow_far(k), 16);
	ck->nport = flow_near_port(k);
	ck->fport = flow_far_port(k);
}

static __u64 conn_last(const struct lru_node *x) { return lru_entry(x, struct conn, lru)->last_ns; }

static struct conn *conn_get(struct naming *n, const struct flow_key *k)
{
	struct conn_key ck;
	struct conn *c;

	conn_key_of(k, &ck);
	c = g_hash_table_lookup(n->conns, &ck);
	if (!c) {
		/* full: the connection idle longest goes (its flows keep their names) */
		if (g_hash_table_size(n->conns) >= n->cfg.max_conns) {
			struct lru_node *o = lru_oldest(&n->lru, conn_last);

			if (o) {
				struct conn *old = lru_entry(o, struct conn, lru);

				lru_remove(&n->lru, o);
				g_hash_table_remove(n->conns, &old->key);
			}
		}
		c = g_new0(struct conn, 1);
		c->n = n;
		c->key = ck;
		c->quic_client = -1;
		c->dns = ck.nport == NAME_DNS_PORT || ck.fport == NAME_DNS_PORT;
		g_hash_table_insert(n->conns, &c->key, c);
	}
	c->last_ns = n->now;
	lru_touch(&n->lru, &c->lru);
	return c;
}

static const char *intern(struct naming *n, const char *name)
{
	char *s = g_hash_table_lookup(n->names, name);

	if (s)
		return s;
	if (g_hash_table_size(n->names) >= n->cfg.max_names) {
		n->cnt[NCNT_NAMES_UNSTORED]++;
		return NULL;
	}
	s = g_strdup(name);
	g_hash_table_add(n->names, s);
	return s;
}

/* A name for the connection from source src, if stronger than what it has. An address
 * (a Host header or DNS question that is an IPv4 literal) names nothing. */
static void conn_name(struct naming *n, struct conn *c, const char *name, __u8 src, bool ech)
{
	struct in_addr a;
	const char *s;

	if (src <= c->src || inet_pton(AF_INET, name, &a) == 1 || !(s = intern(n, name)))
		return;
	c->name = s;
	c->src = src;
	c->ech = ech;
}

/* The owner of a DNS answer that the packet of key k carried: its user, else its
 * interface. */
static const char *owner_of(struct naming *n, const struct flow_key *k)
{
	const char *ifname = iface_name(k->ifindex);
	const char *user = n->users ? users_lookup(n->users, k, ifname) : NULL;

	return user ? user : ifname ? ifname : "";
}

struct dns_ctx {
	struct naming *n;
	const char *owner;
};

static void on_answer(const char *qname, const __u8 addr[16], __u32 ttl, void *ctx)
{
	struct dns_ctx *x = ctx;

	dnscache_add(x->n->dns, x->owner, addr, qname, ttl, x->n->now);
}

static void dns_message(struct naming *n, struct conn *c, const struct flow_key *k, const __u8 *msg,
                        size_t len)
{
	char qname[NAME_BUF] = "";
	struct dns_ctx x = {n, owner_of(n, k)};
	int r = dns_parse(msg, len, qname, on_answer, &x);

	if (r == -EBADMSG)
		n->cnt[NCNT_DNS_MALFORMED]++;
	if (r >= 0 && qname[0])
		conn_name(n, c, qname, NAME_DNS, false);
}

/* Add one segment to the stream; 1 when buf grew. */
static int stream_add(struct stream *s, __u32 seq, const __u8 *data, size_t len, size_t max)
{
	__s32 rel;
	size_t skip;

	if (!s->started) {
		s->started = true;
		s->start = seq;
	}
	rel = (__s32)(seq - s->start);
	if (rel < 0) {
		/* an earlier segment came later: it starts the stream, what was there waits
		 * as a segment after it */
		__u8 *old = s->buf;
		size_t oldlen = s->len;
		__u32 oldstart = s->start;

		if (s->consumed || (size_t)(s->start - seq) > max)
			return 0;
		s->buf = NULL;
		s->len = s->cap = 0;
		s->start = seq;
		stream_add(s, seq, data, len, max);
		for (int i = 0; oldlen && i < PENDING_MAX; i++)
			if (!s->pending[i].data) {
				s->pending[i] = (struct segment){oldstart, oldlen, old};
				old = NULL;
				break;
			}
		free(old);
		return 1;
	}
	if ((size_t)rel > s->len) {
		/* a gap: keep it for later */
		for (int i = 0; i < PENDING_MAX; i++)
			if (!s->pending[i].data) {
				s->pending[i].data = malloc(len);
				if (!s->pending[i].data)
					return 0;
				memcpy(s->pending[i].data, data, len);
				s->pending[i].seq = seq;
				s->pending[i].len = len;
				break;
			}
		return 0;
	}
	skip = s->len - rel;
	if (skip >= len)
		return 0; /* nothing new */
	data += skip;
	len -= skip;
	if (s->len + len > max)
		len = max - s->len;
	if (!len)
		return 0;
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 2048;
		__u8 *b;

		while (cap < s->len + len)
			cap *= 2;
		if (cap > max)
			cap = max;
		b = realloc(s->buf, cap);
		if (!b)
			return 0;
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 1;
}

/* The pending segments that the gap filling made contiguous. */
static void stream_settle(struct stream *s, size_t max)
{
	bool more = true;

	while (more) {
		more = false;
		for (int i = 0; i < PENDING_MAX; i++) {
			struct segment *g = &s->pending[i];
			__s32 rel;

			if (!g->data)
				continue;
			rel = (__s32)(g->seq - s->start);
			if (rel >= 0 && (size_t)rel > s->len)
				continue;
			stream_add(s, g->seq, g->data, g->len, max);
			free(g->data);
			g->data = NULL;
			more = true;
		}
	}
}

/* DNS over TCP: every complete message (2-byte length, then the message). */
static void dns_tcp(struct naming *n, struct conn *c, struct stream *s, const struct flow_key *k)
{
	size_t off = 0;

	while (s->len - off >= 2) {
		size_t m = (size_t)s->buf[off] << 8 | s->buf[off + 1];

		if (s->len - off - 2 < m)
			break;
		dns_message(n, c, k, s->buf + off + 2, m);
		off += 2 + m;
	}
	if (off) {
		memmove(s->buf, s->buf + off, s->len - off);
		s->len -= off;
		s->start += off;
		s->consumed += off;
	}
}

/* A TCP stream's start: a ClientHello's server name, or an HTTP request's Host. */
static void tcp_name(struct naming *n, struct conn *c, struct stream *s)
{
	char name[NAME_BUF];
	bool ech = false;
	int r = tls_sni(s->buf, s->len, name, &ech);

	if (r == 1) {
		conn_name(n, c, name, NAME_TLS, ech);
		s->done = true;
		return;
	}
	if (r == 0)
		return; /* a ClientHello so far: wait for more */
	if (r == -EBADMSG) {
		n->cnt[NCNT_TLS_MALFORMED]++;
		s->done = true;
		return;
	}
	if (r == -ENOENT) {
		s->done = true;
		return;
	}
	r = http_host(s->buf, s->len, name);
	if (r == 1) {
		conn_name(n, c, name, NAME_HTTP, false);
		s->done = true;
	} else if (r == -EBADMSG) {
		n->cnt[NCNT_HTTP_MALFORMED]++;
		s->done = true;
	} else if (r == -ENOENT) {
		s->done = true;
	} else if (r < 0 && s->segs >= NAME_CAP_PKTS) {
		s->done = true; /* neither, with every segment the kernel gives */
	}
}

static void on_tcp(struct naming *n, struct conn *c, const struct name_event *ev, size_t len)
{
	struct stream *s = &c->st[ev->key.dir & 1];
	size_t max = c->dns ? DNS_STREAM_MAX : STREAM_MAX, before;

	if (c->done || s->done)
		return; /* (a finished connection's streams are freed: not done, but empty) */
	if (n->buffered > BUFFER_BUDGET) {
		/* too many connections wait for more of their first bytes at once */
		n->cnt[NCNT_UNFOLLOWED]++;
		stream_free(n, s);
		s->done = true;
		if (c->st[0].done && c->st[1].done)
			conn_finish(n, c);
		return;
	}
	before = stream_bytes(s);
	s->segs++;
	stream_add(s, ev->seq, ev->data, len, max);
	stream_settle(s, max);
	n->buffered = n->buffered - before + stream_bytes(s);
	if (c->dns) {
		dns_tcp(n, c, s, &ev->key);
		if (s->len >= max)
			s->done = true; /* a message larger than we keep */
		return;
	}
	if (!s->len) {
		if (s->segs >= NAME_CAP_PKTS)
			s->done = true;
		return;
	}
	tcp_name(n, c, s);
	if (c->src >= NAME_HTTP || (c->st[0].done && c->st[1].done))
		conn_finish(n, c);
}

static void on_udp(struct naming *n, struct conn *c, const struct name_event *ev, size_t len)
{
	int dir = ev->key.dir & 1, r;
	char name[NAME_BUF];
	bool ech = false;

	if (c->dns) {
		dns_message(n, c, &ev->key, ev->data, len);
		return;
	}
	if (c->done)
		return;
	if (len < ev->pay_len) {
		/* a datagram is parsed whole or not at all */
		if (++c->udp_seen[dir] >= NAME_CAP_PKTS && c->quic_client == dir)
			conn_finish(n, c);
		return;
	}
	if (c->quic_client < 0) {
		if (!len || !(ev->data[0] & 0x80)) {
			conn_finish(n, c); /* a short header first: not a QUIC start we saw */
			return;
		}
		c->quic_client = dir;
		c->quic = quic_new();
		if (!c->quic) {
			conn_finish(n, c);
			return;
		}
	}
	c->udp_seen[dir]++;
	if (dir != c->quic_client) {
		quic_feed_server(c->quic, ev->data, len);
		return;
	}
	r = quic_feed(c->quic, ev->data, len, name, &ech);
	if (r == 1) {
		conn_name(n, c, name, NAME_QUIC, ech);
		conn_finish(n, c);
	} else if (r == -EBADMSG) {
		n->cnt[NCNT_QUIC_MALFORMED]++;
		conn_finish(n, c);
	} else if (r < 0 || c->udp_seen[dir] >= NAME_CAP_PKTS) {
		conn_finish(n, c);
	}
}

void naming_event(struct naming *n, const struct name_event *ev, size_t size)
{
	struct conn *c;
	size_t len;

	if (size < NAME_EVENT_HDR)
		return;
	len = ev->len;
	if (len > size - NAME_EVENT_HDR)
		len = size - NAME_EVENT_HDR;
	n->now = clock_now();
	c = conn_get(n, &ev->key);
	if (ev->key.proto == 6)
		on_tcp(n, c, ev, len);
	else if (ev->key.proto == 17)
		on_udp(n, c, ev, len);
}

static int on_ring(void *ctx, void *data, size_t size)
{
	naming_event(ctx, data, size);
	return 0;
}

struct naming *naming_new(const struct naming_cfg *cfg, struct datapath *dp, struct users *users)
{
	struct naming *n = g_new0(struct naming, 1);

	n->cfg = *cfg;
	if (!n->cfg.max_conns)
		n->cfg.max_conns = 65536;
	if (!n->cfg.max_names)
		n->cfg.max_names = 4 * (cfg->dns_cache > 65536 ? cfg->dns_cache : 65536);
	n->dp = dp;
	n->users = users;
	n->dns = dnscache_new(cfg->dns_cache, cfg->dns_min_ttl);
	n->conns = g_hash_table_new_full(conn_hash, conn_equal, NULL, conn_destroy);
	n->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	n->done = g_array_new(FALSE, FALSE, sizeof(struct flow_key));
	lru_init(&n->lru);
	if (!n->dns) {
		naming_free(n);
		return NULL;
	}
	if (dp && dp_name_ring_fd(dp) >= 0) {
		n->rb = ring_buffer__new(dp_name_ring_fd(dp), on_ring, n, NULL);
		if (!n->rb) {
			pr_err("cannot read the names ring buffer: %s (try --names off)",
			       strerror(errno));
			naming_free(n);
			return NULL;
		}
	}
	return n;
}

void naming_free(struct naming *n)
{
	if (!n)
		return;
	ring_buffer__free(n->rb);
	dnscache_free(n->dns);
	if (n->conns)
		g_hash_table_destroy(n->conns);
	if (n->names)
		g_hash_table_destroy(n->names);
	if (n->done)
		g_array_free(n->done, TRUE);
	g_free(n);
}

int naming_fd(struct naming *n) { return n && n->rb ? ring_buffer__epoll_fd(n->rb) : -1; }

/* Connections idle for long: gone, with their names (their flows keep them). */
static void conn_expire(struct naming *n)
{
	struct lru_node *o;

	while ((o = lru_oldest(&n->lru, conn_last)) && conn_last(o) + CONN_IDLE_NS < n->now) {
		struct conn *c = lru_entry(o, struct conn, lru);

		lru_remove(&n->lru, o);
		g_hash_table_remove(n->conns, &c->key);
	}
}

int naming_poll(struct naming *n)
{
	int r;

	if (!n || !n->rb)
		return 0;
	lru_next_epoch(&n->lru);
	r = ring_buffer__consume(n->rb);
	if (n->done->len) {
		dp_names_done(n->dp, (const struct flow_key *)n->done->data, n->done->len);
		g_array_set_size(n->done, 0);
	}
	n->now = clock_now();
	conn_expire(n);
	return r;
}

void naming_flow(struct naming *n, struct flow *f, bool is_new)
{
	struct dest_info *d = &f->dest;
	struct conn_key ck;
	struct conn *c;

	if (!n || d->name_src >= NAME_TLS)
		return;
	if (g_hash_table_size(n->conns)) {
		conn_key_of(&f->key, &ck);
		c = g_hash_table_lookup(n->conns, &ck);
		if (c && c->name && c->src > d->name_src) {
			d->name = c->name;
			d->name_src = c->src;
			d->ech = c->ech;
			return;
		}
	}
	if (is_new && !d->name) {
		const char *ifname = iface_name(f->key.ifindex);
		const char *owner = f->user ? f->user : ifname ? ifname : "";
		const char *name = dnscache_lookup(n->dns, owner, flow_far(&f->key), clock_now());

		if (name && (name = intern(n, name))) {
			d->name = name;
			d->name_src = NAME_DNS;
		}
	}
}

void naming_counters(const struct naming *n, __u64 out[NCNT_MAX])
{
	memset(out, 0, sizeof(__u64) * NCNT_MAX);
	if (!n)
		return;
	memcpy(out, n->cnt, sizeof(n->cnt));
	out[NCNT_DNS_EVICTIONS] = dnscache_evictions(n->dns);
}

size_t naming_conns(const struct naming *n) { return n ? g_hash_table_size(n->conns) : 0; }

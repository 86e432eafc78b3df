// SPDX-License-Identifier: GPL-2.0-only
/* libfixbuf builds the messages (templates, sets, reverse elements of RFC 5103,
 * variable-length strings, sequence numbers) into a buffer; the transport is ours.
 * libfixbuf's own network exporter connects and writes blocking and reconnects without
 * telling, so it could neither keep a harvest from waiting on a dead collector nor say
 * which records were lost. Here the harvest only queues finished messages; a sender
 * thread connects with a timeout, backs off, re-sends the templates on every new TCP
 * connection (and every template_s over UDP, RFC 7011 section 8.4), and counts each
 * record that never left. Sequence numbers run over every record built, so a collector
 * sees the records tunflow dropped as a sequence gap too. */
#define _GNU_SOURCE /* POLLRDHUP */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fixbuf/public.h>
#include "core/clock.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/text.h"
#include "sources/ifwatch.h"
#include "sinks/ipfix.h"

#define TID_REC 256 /* internal template: struct xrec */
#define TID_V4 256  /* external templates */
#define TID_V6 257
#define MTU_UDP 1400 /* below a 1500-byte path with room for tunnel headers */
#define MTU_TCP 8192
/* userName and interfaceName at most this many bytes (valid UTF-8, cut on a character
 * boundary with "..."): a record then always fits a UDP message, whatever the name */
#define IPFIX_STR_MAX 256
#define CONNECT_TIMEOUT_MS 3000
#define SEND_TIMEOUT_MS 5000
#define BACKOFF_MIN_NS 250000000ull
#define BACKOFF_MAX_NS 30000000000ull

/* Which of the spec's elements a template takes (libfixbuf's spec flags). */
enum { F_V4 = 1, F_V6 = 2, F_BI = 4, F_INTERNAL = 8, F_ALL = 15 };
/* the kinds of name, each an element of CERT's and one of ntop's */
enum { NAME_IE_TLS, NAME_IE_HTTP, NAME_IE_DNS, NAME_IE_KINDS };

/* One record as libfixbuf reads it: the internal template below, field for field,
 * without holes (largest first). IPv4 addresses are in host order. */
struct xrec {
	uint64_t start_ms, end_ms;
	uint64_t octets, packets, rev_octets, rev_packets;
	fbVarfield_t iface, user;
	fbVarfield_t name[2][NAME_IE_KINDS]; /* [CERT, ntop][TLS, HTTP, DNS]: one filled */
	uint8_t src6[16], dst6[16];
	uint32_t src4, dst4, in_if, out_if, sampling, src_as, dst_as;
	uint16_t sport, dport, icmp4, icmp6, rev_tcp_flags, tcp_flags;
	uint8_t proto, dir, end_reason, pad[5];
};
_Static_assert(sizeof(struct xrec) == 256, "struct xrec has no holes");

/* The name of the far side has no IANA element. It goes in two enterprise elements of
 * its kind at once: CERT's (PEN 6871, libfixbuf's cert_ipfix.xml: what yaf, super_mediator
 * and ipfixDump --yaf read) and ntop's (PEN 35632: what nProbe and ntopng write and read,
 * and Wireshark dissects). The element says where the name came from: TLS or QUIC server
 * name, HTTP Host, a DNS answer for the address. */
#define PEN_CERT 6871
#define PEN_NTOP 35632
static fbInfoElement_t name_elements[] = {
    FB_IE_INIT_FULL("sslServerName", PEN_CERT, 294, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    NULL),
    FB_IE_INIT_FULL("httpHost", PEN_CERT, 117, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
    FB_IE_INIT_FULL("dnsQName", PEN_CERT, 179, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
    FB_IE_INIT_FULL("SSL_SERVER_NAME", PEN_NTOP, 188, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING,
                    NULL),
    FB_IE_INIT_FULL("HTTP_HOST", PEN_NTOP, 187, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
    FB_IE_INIT_FULL("DNS_QUERY", PEN_NTOP, 205, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
    FB_IE_NULL};

static fbInfoElementSpec_t spec[] = {
    {"flowStartMilliseconds", 8, 0},
    {"flowEndMilliseconds", 8, 0},
    {"octetDeltaCount", 8, 0},
    {"packetDeltaCount", 8, 0},
    {"reverseOctetDeltaCount", 8, F_BI},
    {"reversePacketDeltaCount", 8, F_BI},
    {"interfaceName", FB_IE_VARLEN, 0},
    {"userName", FB_IE_VARLEN, 0},
    {"sslServerName", FB_IE_VARLEN, 0},
    {"httpHost", FB_IE_VARLEN, 0},
    {"dnsQName", FB_IE_VARLEN, 0},
    {"SSL_SERVER_NAME", FB_IE_VARLEN, 0},
    {"HTTP_HOST", FB_IE_VARLEN, 0},
    {"DNS_QUERY", FB_IE_VARLEN, 0},
    {"sourceIPv6Address", 16, F_V6},
    {"destinationIPv6Address", 16, F_V6},
    {"sourceIPv4Address", 4, F_V4},
    {"destinationIPv4Address", 4, F_V4},
    {"ingressInterface", 4, 0},
    {"egressInterface", 4, 0},
    /* every packet is counted: 1 in 1. IANA deprecates samplingInterval (34) for the
     * PSAMP elements (samplingPacketInterval 305 and samplingPacketSpace 306), but those
     * are read from options records only; in a data record collectors read 34 (Akvorado
     * and goflow2 drop or mis-scale a flow without a sampling rate). */
    {"samplingInterval", 4, 0},
    /* the AS of whichever end is the far side of the tunnel (names/geo.h); 0: unknown */
    {"bgpSourceAsNumber", 4, 0},
    {"bgpDestinationAsNumber", 4, 0},
    {"sourceTransportPort", 2, 0},
    {"destinationTransportPort", 2, 0},
    {"icmpTypeCodeIPv4", 2, F_V4},
    {"icmpTypeCodeIPv6", 2, F_V6},
    /* reverse first: a collector that reads 29305/6 as plain 6 (nfdump 1.7 does) then
     * still ends with the initiator's flags */
    {"reverseTcpControlBits", 2, F_BI},
    {"tcpControlBits", 2, 0},
    {"protocolIdentifier", 1, 0},
    {"flowDirection", 1, 0},
    {"flowEndReason", 1, 0},
    {"paddingOctets", 5, F_INTERNAL},
    FB_IESPEC_NULL};

/* IPFIX flowEndReason (IANA): 1 idle timeout, 2 active timeout, 3 end of flow
 * detected, 4 forced end, 5 lack of resources. */
static const uint8_t end_reason[END_MAX] = {
    [END_IDLE] = 1,       [END_ACTIVE] = 2, [END_TCP] = 3,
    [END_IFACE_GONE] = 4, [END_EXIT] = 4,   [END_EVICTED] = 5,
};

struct msg {
	struct msg *next;
	__u32 nrec;
	size_t len;
	uint8_t data[];
};

struct ipfix {
	struct ipfix_cfg cfg;
	/* building, on the harvest's thread */
	fbInfoModel_t *model;
	fbSession_t *session;
	fbExporter_t *exporter;
	fBuf_t *fbuf;
	uint8_t buf[MTU_TCP];
	__u32 building; /* records in the message being built */
	uint8_t *tmpl;  /* a message holding only the templates */
	size_t tmpl_len;
	bool finished;
	bool encode_reported; /* a record that could not be encoded was reported */
	/* shared with the sender, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	__u64 deadline_ns; /* when stopping: give up at */
	struct msg *head, *tail;
	struct export_stats st;
	/* the sender's own */
	int fd;
	bool reported; /* an outage was reported, and no delivery since */
	bool send_templates;
	__u64 templates_due_ns, retry_ns, backoff_ns;
};

static fbTemplate_t *make_template(fbInfoModel_t *model, uint32_t flags, GError **err)
{
	fbTemplate_t *t = fbTemplateAlloc(model);

	if (!fbTemplateAppendSpecArray(t, spec, flags, err)) {
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

static bool setup_fixbuf(struct ipfix *x, GError **err)
{
	uint32_t bi = x->cfg.uniflow ? 0 : F_BI;
	fbTemplate_t *t;

	x->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(x->model, name_elements);
	x->session = fbSessionAlloc(x->model);
	fbSessionSetDomain(x->session, x->cfg.domain);
	if (!(t = make_template(x->model, F_ALL, err)) ||
	    !fbSessionAddTemplate(x->session, TRUE, TID_REC, t, err))
		return false;
	if (!(t = make_template(x->model, F_V4 | bi, err)) ||
	    !fbSessionAddTemplate(x->session, FALSE, TID_V4, t, err))
		return false;
	if (!(t = make_template(x->model, F_V6 | bi, err)) ||
	    !fbSessionAddTemplate(x->session, FALSE, TID_V6, t, err))
		return false;
	x->exporter = fbExporterAllocBuffer(x->buf, x->cfg.tcp ? MTU_TCP : MTU_UDP);
	x->fbuf = fBufAllocForExport(x->session, x->exporter);
	/* The templates, once, as a message of their own: sent ahead of the data on every
	 * new connection and, over UDP, again every template_s. */
	fBufSetExportTime(x->fbuf, time(NULL));
	if (!fbSessionExportTemplates(x->session, err) || !fBufEmit(x->fbuf, err))
		return false;
	/* from here a full message is ours to emit: a record never goes out alone */
	fBufSetAutomaticMode(x->fbuf, FALSE);
	x->tmpl_len = fbExporterGetMsgLen(x->exporter);
	x->tmpl = g_memdup2(x->buf, x->tmpl_len);
	return fBufSetInternalTemplate(x->fbuf, TID_REC, err);
}

/* n records that will never be sent. */
static void lost(struct ipfix *x, __u32 n)
{
	pthread_mutex_lock(&x->lock);
	x->st.failures += n;
	pthread_mutex_unlock(&x->lock);
}

/* The message built so far goes to the sender's queue, or is counted lost when the
 * backlog is full. */
static void emit(struct ipfix *x)
{
	GError *err = NULL;
	struct msg *m;
	size_t len;

	if (!x->building)
		return;
	fBufSetExportTime(x->fbuf, time(NULL));
	if (!fBufEmit(x->fbuf, &err)) {
		lost(x, x->building);
		pr_err("IPFIX: cannot build a message: %s", err->message);
		g_clear_error(&err);
		x->building = 0;
		return;
	}
	len = fbExporterGetMsgLen(x->exporter);
	m = malloc(sizeof(*m) + len);
	pthread_mutex_lock(&x->lock);
	if (!m || x->st.backlog + x->building > x->cfg.backlog) {
		x->st.failures += x->building;
		free(m);
	} else {
		m->next = NULL;
		m->nrec = x->building;
		m->len = len;
		memcpy(m->data, x->buf, len);
		if (x->tail)
			x->tail->next = m;
		else
			x->head = m;
		x->tail = m;
		x->st.backlog += m->nrec;
		pthread_cond_signal(&x->cond);
	}
	pthread_mutex_unlock(&x->lock);
	x->building = 0;
}

/* s as an IPFIX string (RFC 7011 6.1.6: UTF-8) of at most IPFIX_STR_MAX bytes. When s
 * is not that already, *tmp is the cleaned copy the field points to (g_free it). */
static void ipfix_str(fbVarfield_t *v, const char *s, char **tmp)
{
	size_t len = strlen(s);

	if (len > IPFIX_STR_MAX || !text_is_clean(s)) {
		s = *tmp = text_clean(s, len, IPFIX_STR_MAX);
		len = strlen(s);
	}
	v->buf = (uint8_t *)s;
	v->len = len;
}

/* The element kind for a name from src. */
static int name_kind(__u8 src)
{
	switch (src) {
	case NAME_TLS:
	case NAME_QUIC:
		return NAME_IE_TLS;
	case NAME_HTTP:
		return NAME_IE_HTTP;
	case NAME_DNS:
		return NAME_IE_DNS;
	}
	return -1;
}

/* tmp[3]: copies of the strings o points to, when they needed one (g_free them after
 * the record is appended) */
static void fill(struct xrec *o, const struct record *r, const char *user, __s64 m2r, char *tmp[3])
{
	const struct flow_key *k = &r->key;
	int kind = name_kind(r->dest.name_src);

	memset(o, 0, sizeof(*o));
	o->start_ms = (r->start_ns + m2r) / 1000000;
	o->end_ms = (r->end_ns + m2r) / 1000000;
	o->octets = r->bytes;
	o->packets = r->packets;
	o->rev_octets = r->rev_bytes;
	o->rev_packets = r->rev_packets;
	o->sampling = 1;
	ipfix_str(&o->iface, iface_name(k->ifindex), &tmp[0]);
	ipfix_str(&o->user, user ? user : "", &tmp[1]);
	if (r->dest.name && kind >= 0) {
		ipfix_str(&o->name[0][kind], r->dest.name, &tmp[2]);
		o->name[1][kind] = o->name[0][kind];
	}
	/* the far side's AS goes with whichever address is the far side */
	if (!memcmp(flow_far(k), k->dst, 16))
		o->dst_as = r->dest.asn;
	else
		o->src_as = r->dest.asn;
	if (k->ip_version == 4) {
		memcpy(&o->src4, k->src + 12, 4);
		memcpy(&o->dst4, k->dst + 12, 4);
		o->src4 = ntohl(o->src4);
		o->dst4 = ntohl(o->dst4);
	} else {
		memcpy(o->src6, k->src, 16);
		memcpy(o->dst6, k->dst, 16);
	}
	/* the initiator's packets came in on (ingress) or went out of (egress) the link */
	if (k->dir == DIR_INGRESS)
		o->in_if = k->ifindex;
	else
		o->out_if = k->ifindex;
	if (proto_has_ports(k->proto)) {
		o->sport = k->sport;
		o->dport = k->dport;
	} else if (k->proto == IPPROTO_ICMP) {
		o->icmp4 = k->sport << 8 | k->dport;
	} else if (k->proto == IPPROTO_ICMPV6) {
		o->icmp6 = k->sport << 8 | k->dport;
	}
	o->tcp_flags = r->tcp_flags;
	o->rev_tcp_flags = r->rev_tcp_flags;
	o->proto = k->proto;
	o->dir = k->dir == DIR_INGRESS ? 0 : 1;
	o->end_reason = r->end < END_MAX ? end_reason[r->end] : 0;
}

void ipfix_add(struct ipfix *x, const struct record *r, const char *user, __s64 m2r)
{
	struct xrec o;
	GError *err = NULL;
	char *tmp[3] = {NULL, NULL, NULL};

	if (x->finished) { /* the sender is gone: nothing would send it */
		lost(x, 1);
		return;
	}
	fill(&o, r, user, m2r, tmp);
	for (int tries = 0; tries < 3; tries++) {
		if (fBufSetExportTemplate(x->fbuf, r->key.ip_version == 4 ? TID_V4 : TID_V6,
		                          &err) &&
		    fBufAppend(x->fbuf, (uint8_t *)&o, sizeof(o), &err)) {
			x->building++;
			goto out;
		}
		if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			break;
		/* the message is full: send it, start the next (libfixbuf also says so once
		 * of the empty message that follows its template export) */
		g_clear_error(&err);
		emit(x);
	}
	lost(x, 1); /* counted as an export failure each time, said once */
	if (!x->encode_reported)
		pr_warn("IPFIX: cannot encode a record: %s", err ? err->message : "no room");
	x->encode_reported = true;
	g_clear_error(&err);
out:
	g_free(tmp[0]);
	g_free(tmp[1]);
	g_free(tmp[2]);
}

void ipfix_flush(struct ipfix *x) { emit(x); }

/* ---- the sender's thread ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		return -ETIMEDOUT;
	return n < 0 ? -errno : 0;
}

static int open_socket(struct ipfix *x, int timeout_ms)
{
	socklen_t len = x->cfg.addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                                  : sizeof(struct sockaddr_in);
	int fd = socket(x->cfg.addr.ss_family,
	                (x->cfg.tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&x->cfg.addr, len) && errno != EINPROGRESS) {
		err = -errno;
	} else if (x->cfg.tcp) {
		socklen_t el = sizeof(err);

		err = wait_fd(fd, POLLOUT, timeout_ms);
		if (!err && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0)
			err = -err;
	}
	if (err) {
		close(fd);
		return err;
	}
	x->fd = fd;
	return 0;
}

/* Has the collector closed the connection? A collector sends nothing, so anything
 * readable is an end or an error. */
static bool tcp_closed(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	return recv(fd, &c, 1, MSG_DONTWAIT) <= 0 || (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static int send_all(struct ipfix *x, const uint8_t *p, size_t len, int timeout_ms)
{
	while (len) {
		ssize_t n = send(x->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && x->cfg.tcp) {
			int err = wait_fd(x->fd, POLLOUT, timeout_ms);

			if (err)
				return err; /* a collector this slow is treated as gone */
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* Send one message, connecting first and templates ahead where needed. */
static int deliver(struct ipfix *x, const struct msg *m, int timeout_ms)
{
	__u64 now = now_ns(CLOCK_MONOTONIC);
	int err;

	if (x->fd >= 0 && x->cfg.tcp && tcp_closed(x->fd)) {
		close(x->fd);
		x->fd = -1;
	}
	if (x->fd < 0) {
		if ((err = open_socket(x, timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms
		                                                          : CONNECT_TIMEOUT_MS)))
			return err;
		x->send_templates = true;
	}
	if (!x->cfg.tcp && now >= x->templates_due_ns)
		x->send_templates = true;
	if (x->send_templates) {
		/* the template message takes the header of the data it goes ahead of: its
		 * export time, and the sequence number of its first record (RFC 7011 3.1) */
		memcpy(x->tmpl + 4, m->data + 4, 8);
		if ((err = send_all(x, x->tmpl, x->tmpl_len, timeout_ms)))
			return err;
		x->send_templates = false;
		x->templates_due_ns = now + (__u64)(x->cfg.template_s * 1e9);
	}
	return send_all(x, m->data, m->len, timeout_ms);
}

static void outage(struct ipfix *x, int err)
{
	if (x->cfg.tcp && x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
	}
	x->send_templates = true; /* the collector may come back without them */
	if (!x->reported)
		pr_warn("IPFIX collector %s: %s; %s", x->cfg.collector, strerror(-err),
		        x->cfg.tcp
		            ? "records wait for it (up to --ipfix-backlog) and tunflow retries"
		            : "records sent meanwhile are counted as export failures");
	x->reported = true;
}

/* The first message in line is done with: sent, or lost. */
static void pop(struct ipfix *x, bool sent)
{
	struct msg *m = x->head;

	if (sent)
		x->st.records += m->nrec;
	else
		x->st.failures += m->nrec;
	x->st.backlog -= m->nrec;
	x->head = m->next;
	if (!x->head)
		x->tail = NULL;
	free(m);
}

static void *sender(void *arg)
{
	struct ipfix *x = arg;

	pthread_mutex_lock(&x->lock);
	for (;;) {
		__u64 now = now_ns(CLOCK_MONOTONIC), until;
		int timeout_ms = SEND_TIMEOUT_MS, err;

		if (!x->head) {
			if (x->stop)
				break;
			pthread_cond_wait(&x->cond, &x->lock);
			continue;
		}
		if (x->stop && now >= x->deadline_ns)
			break;
		if (now < x->retry_ns) { /* backing off (stopping: no later than the deadline) */
			until =
			    x->stop && x->deadline_ns < x->retry_ns ? x->deadline_ns : x->retry_ns;
			pthread_cond_timedwait(
			    &x->cond, &x->lock,
			    &(struct timespec){.tv_sec = until / 1000000000ull,
			                       .tv_nsec = until % 1000000000ull});
			continue;
		}
		if (x->stop && (x->deadline_ns - now) / 1000000 < (__u64)timeout_ms)
			timeout_ms = (x->deadline_ns - now) / 1000000;
		pthread_mutex_unlock(&x->lock);
		err = deliver(x, x->head, timeout_ms); /* only this thread takes from the head */
		if (err) {
			outage(x, err);
		} else if (x->reported) {
			pr_info("IPFIX collector %s: delivering again", x->cfg.collector);
			x->reported = false;
			x->backoff_ns = BACKOFF_MIN_NS;
		}
		pthread_mutex_lock(&x->lock);
		if (err && x->cfg.tcp) {
			/* the message stays first in line; the next try waits longer */
			x->retry_ns = now_ns(CLOCK_MONOTONIC) + x->backoff_ns;
			x->backoff_ns =
			    x->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : x->backoff_ns * 2;
			continue;
		}
		pop(x, !err);
	}
	/* stopping, out of time: what still waits is lost */
	while (x->head)
		pop(x, false);
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

int ipfix_parse(const char *spec, struct ipfix_cfg *cfg)
{
	const char *hp = spec;

	cfg->collector = spec;
	cfg->tcp = !strncmp(hp, "tcp:", 4);
	if (cfg->tcp || !strncmp(hp, "udp:", 4))
		hp += 4;
	if (!parse_hostport(hp, "127.0.0.1", &cfg->addr))
		return 0;
	pr_err("--ipfix wants [udp:|tcp:]HOST:PORT (a collector, e.g. "
	       "udp:192.0.2.9:4739), not '%s'",
	       spec);
	return -1;
}

struct ipfix *ipfix_open(const struct ipfix_cfg *cfg)
{
	struct ipfix *x = calloc(1, sizeof(*x));
	pthread_condattr_t ca;
	GError *err = NULL;

	if (!x)
		return NULL;
	x->cfg = *cfg;
	x->fd = -1;
	x->backoff_ns = BACKOFF_MIN_NS;
	pthread_mutex_init(&x->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!setup_fixbuf(x, &err)) {
		pr_err("IPFIX: cannot set up templates: %s", err ? err->message : "unknown error");
		g_clear_error(&err);
		ipfix_close(x);
		return NULL;
	}
	if (pthread_create(&x->thread, NULL, sender, x)) {
		pr_err("IPFIX: cannot start the sender thread");
		ipfix_close(x);
		return NULL;
	}
	x->started = true;
	return x;
}

void ipfix_finish(struct ipfix *x, double wait_s)
{
	if (x->finished)
		return;
	emit(x);
	x->finished = true;
	pthread_mutex_lock(&x->lock);
	x->stop = true;
	x->deadline_ns = now_ns(CLOCK_MONOTONIC) + (__u64)(wait_s * 1e9);
	x->retry_ns = 0; /* one more try now, whatever the backoff */
	pthread_cond_signal(&x->cond);
	pthread_mutex_unlock(&x->lock);
	if (x->started)
		pthread_join(x->thread, NULL);
	x->started = false;
}

void ipfix_stats(struct ipfix *x, struct export_stats *st)
{
	pthread_mutex_lock(&x->lock);
	*st = x->st;
	pthread_mutex_unlock(&x->lock);
}

void ipfix_close(struct ipfix *x)
{
	if (!x)
		return;
	ipfix_finish(x, 0);
	if (x->fd >= 0)
		close(x->fd);
	if (x->fbuf)
		fBufFree(x->fbuf); /* frees the exporter and the session too */
	else if (x->session)
		fbSessionFree(x->session);
	if (x->model)
		fbInfoModelFree(x->model);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->cond);
	g_free(x->tmpl);
	free(x);
}

/* The exporter as a consumer of the pipeline: records in, health out. */
#define IPFIX_EXIT_WAIT_S 2 /* at exit, the collector has this long to take the backlog */

struct ipfix_sink {
	struct sink s;
	struct ipfix *x;
	struct export_stats st;
};

static void ipfix_sink_record(struct sink *s, const struct record *rec, const struct report *r)
{
	ipfix_add(((struct ipfix_sink *)s)->x, rec, rec->user, r->mono_to_real_ns);
}

static void ipfix_sink_prepare(struct sink *s, struct report *r)
{
	struct ipfix_sink *is = (struct ipfix_sink *)s;

	if (r->final)
		ipfix_finish(is->x, IPFIX_EXIT_WAIT_S);
	else
		ipfix_flush(is->x);
	ipfix_stats(is->x, &is->st);
	r->export = &is->st;
}

static int ipfix_sink_report(struct sink *s, const struct report *r)
{
	(void)s, (void)r;
	return 0; /* failures are counted in the report, they never stop tunflow */
}

static void ipfix_sink_close(struct sink *s)
{
	ipfix_close(((struct ipfix_sink *)s)->x);
	free(s);
}

struct sink *ipfix_sink_new(const struct ipfix_cfg *cfg)
{
	struct ipfix_sink *is = calloc(1, sizeof(*is));

	if (!is)
		return NULL;
	is->x = ipfix_open(cfg);
	if (!is->x) {
		free(is);
		return NULL;
	}
	is->s = (struct sink){.name = "IPFIX",
	                      .changes_only = true, /* records only */
	                      .record = ipfix_sink_record,
	                      .prepare = ipfix_sink_prepare,
	                      .report = ipfix_sink_report,
	                      .close = ipfix_sink_close};
	return &is->s;
}

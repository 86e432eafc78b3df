// SPDX-License-Identifier: GPL-2.0-only
/* --store: every finished flow record and every VPN session into the embedded store
 * (history/store_db.h). The harvest only copies each record into a bounded queue; a
 * writer thread of its own takes what waits and writes it in one transaction (WAL,
 * synchronous=NORMAL: a commit survives a crash of tunflow, kill -9 included; a power
 * loss may take the last commits back, never damaging the file), and deletes old days
 * (--store-retention) a few thousand rows at a time between batches. What cannot be
 * queued or written is counted (store_failures) and said, and tunflow goes on. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <glib.h>
#include "history/store_db.h"
#include "sinks/sink.h"
#include "sinks/store.h"
#include "util/log.h"

#define STORE_BACKLOG 100000 /* records (and sessions) that may wait for the writer */
#define STORE_BATCH 10000    /* at most this many in one transaction */
#define RETENTION_STEP 2000  /* rows deleted in one transaction */
#define RETENTION_EVERY_S 60 /* how often retention looks for old days */
#define SAY_EVERY_S 60       /* a lasting write failure is said this often */
#define DAY_MS 86400000LL
#define EXIT_WAIT_S 10 /* the final report waits this long at most for the backlog */

enum item_kind { IT_RECORD, IT_SESSION };

/* One record or session waiting, its strings after it. */
struct item {
	struct item *next;
	enum item_kind kind;
	union {
		struct store_rec r;
		struct store_session s;
	};
	char strs[];
};

struct store_sink {
	struct sink s;
	struct store_cfg cfg;
	struct store *st;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t written; /* the writer finished a batch */
	/* under lock */
	struct item *head, *tail;
	struct export_stats stats; /* records written, failed, waiting (queued + in flight) */
	struct export_stats snap;  /* stats as of the last prepare: what the report shows */
	bool stop;
	/* the writer's own */
	time_t retention_at; /* the next retention check */
	bool retention_more; /* the last step was full: go on */
	time_t said_at;      /* a failure was said then */
	__u64 unsaid;        /* failures since */
	bool failing;
	char err[512];    /* the last failure, one line */
	time_t reopen_at; /* the store could not be opened: the next try */
};

#define REOPEN_EVERY_S 60 /* a store that could not be opened is tried again this often */

static __s64 ms(__u64 real_ns) { return (__s64)(real_ns / 1000000); }

/* A copy of the strings s[0..n) after the item; each pointer is moved to its copy. */
static struct item *item_new(enum item_kind kind, const char **s[], size_t n)
{
	size_t len = 0, off = 0;
	struct item *it;

	for (size_t i = 0; i < n; i++)
		len += *s[i] ? strlen(*s[i]) + 1 : 0;
	if (!(it = malloc(sizeof(*it) + len)))
		return NULL;
	it->next = NULL;
	it->kind = kind;
	for (size_t i = 0; i < n; i++) {
		if (*s[i]) {
			size_t l = strlen(*s[i]) + 1;

			memcpy(it->strs + off, *s[i], l);
			*s[i] = it->strs + off;
			off += l;
		}
	}
	return it;
}

static void push(struct store_sink *ss, struct item *it)
{
	pthread_mutex_lock(&ss->lock);
	if (!it || ss->stats.backlog >= STORE_BACKLOG) {
		ss->stats.failures++;
		free(it);
	} else {
		if (ss->tail)
			ss->tail->next = it;
		else
			ss->head = it;
		ss->tail = it;
		ss->stats.backlog++;
	}
	pthread_mutex_unlock(&ss->lock);
}

static void store_record(struct sink *s, const struct record *rec, const struct report *r)
{
	struct store_sink *ss = (struct store_sink *)s;
	struct store_rec x = {.gateway = ss->cfg.gateway,
	                      .user = rec->user,
	                      .iface = iface_name(rec->key.ifindex),
	                      .peer = rec->peer,
	                      .run = rec->run,
	                      .seq = rec->seq,
	                      .start_ms = ms(rec->start_ns + r->mono_to_real_ns),
	                      .end_ms = ms(rec->end_ns + r->mono_to_real_ns),
	                      .dir = rec->key.dir,
	                      .proto = rec->key.proto,
	                      .end_reason = rec->end,
	                      .name = rec->dest.name,
	                      .name_src = rec->dest.name_src,
	                      .ech = rec->dest.ech,
	                      .asn = rec->dest.asn,
	                      .as_name = rec->dest.as_name,
	                      .country = rec->dest.country};
	/* whether the initiator's packets came from the user (core/side.h) */
	bool in = flow_user_sent(&rec->key);
	const char **strs[] = {&x.gateway, &x.user,    &x.iface,  &x.peer,
	                       &x.name,    &x.as_name, &x.country};
	struct item *it;

	if (!rec->start_ns) /* both directions ended empty: cannot happen, keep it sane */
		x.start_ms = x.end_ms;
	memcpy(in ? x.laddr : x.raddr, rec->key.src, 16);
	memcpy(in ? x.raddr : x.laddr, rec->key.dst, 16);
	x.lport = in ? rec->key.sport : rec->key.dport;
	x.rport = in ? rec->key.dport : rec->key.sport;
	x.bytes_in = in ? rec->bytes : rec->rev_bytes;
	x.packets_in = in ? rec->packets : rec->rev_packets;
	x.bytes_out = in ? rec->rev_bytes : rec->bytes;
	x.packets_out = in ? rec->rev_packets : rec->packets;
	x.tcp_flags = rec->tcp_flags;
	x.rev_tcp_flags = rec->rev_tcp_flags;
	if ((it = item_new(IT_RECORD, strs, G_N_ELEMENTS(strs))))
		it->r = x;
	push(ss, it);
}

/* Sessions: interfaces that went (one per session on ocserv, pppd, OpenVPN in tun
 * mode per client) and WireGuard peer sessions. */
static void sessions(struct store_sink *ss, const struct report *r)
{
	for (size_t i = 0; i < r->ngone; i++) {
		const struct iface_total *t = &r->gone[i];
		struct store_session x = {
		    .gateway = ss->cfg.gateway,
		    .user = t->user,
		    .iface = iface_name(t->ifindex),
		    .end = r->final ? "tunflow exit" : "interface gone",
		    .connect_ms = ms(t->first_ns + r->mono_to_real_ns),
		    .disconnect_ms =
		        ms((t->last_ns ? t->last_ns : t->first_ns) + r->mono_to_real_ns),
		    .bytes_in = t->bytes[DIR_INGRESS],
		    .packets_in = t->packets[DIR_INGRESS],
		    .bytes_out = t->bytes[DIR_EGRESS],
		    .packets_out = t->packets[DIR_EGRESS]};
		const char **strs[] = {&x.gateway, &x.user, &x.iface, &x.peer, &x.end};
		struct item *it;

		if (!t->first_ns)
			continue;
		if ((it = item_new(IT_SESSION, strs, G_N_ELEMENTS(strs))))
			it->s = x;
		push(ss, it);
	}
	for (size_t i = 0; i < r->nsessions; i++) {
		const struct peer_session *p = &r->sessions[i];
		struct store_session x = {.gateway = ss->cfg.gateway,
		                          .user = p->user,
		                          .iface = p->ifname,
		                          .peer = p->peer,
		                          .end = session_end_names[p->end],
		                          .connect_ms = ms(p->start_ns),
		                          .disconnect_ms = ms(p->end_ns),
		                          .bytes_in = p->bytes[DIR_INGRESS],
		                          .packets_in = p->packets[DIR_INGRESS],
		                          .bytes_out = p->bytes[DIR_EGRESS],
		                          .packets_out = p->packets[DIR_EGRESS]};
		const char **strs[] = {&x.gateway, &x.user, &x.iface, &x.peer, &x.end};
		struct item *it;

		if ((it = item_new(IT_SESSION, strs, G_N_ELEMENTS(strs))))
			it->s = x;
		push(ss, it);
	}
}

/* A write failed (n lost): said at once, then at most every SAY_EVERY_S. */
static void failed(struct store_sink *ss, __u64 n)
{
	time_t now = time(NULL);

	ss->unsaid += n;
	if (ss->failing && now - ss->said_at < SAY_EVERY_S)
		return;
	pr_warn("%s; %llu record%s lost (store_failures), tunflow goes on", ss->err,
	        (unsigned long long)ss->unsaid, ss->unsaid == 1 ? "" : "s");
	ss->failing = true;
	ss->said_at = now;
	ss->unsaid = 0;
}

/* The store, opened again if it could not be before (every REOPEN_EVERY_S). */
static bool have_store(struct store_sink *ss)
{
	time_t now = time(NULL);

	if (ss->st)
		return true;
	if (now < ss->reopen_at)
		return false;
	ss->reopen_at = now + REOPEN_EVERY_S;
	ss->st = store_open(ss->cfg.path, false, ss->err, sizeof(ss->err));
	return ss->st != NULL;
}

/* One batch in one transaction: the number written (n, or 0 when it failed). */
static __u64 write_batch(struct store_sink *ss, struct item *batch, __u64 n)
{
	int err;

	if (!have_store(ss)) {
		failed(ss, n);
		return 0;
	}
	err = store_begin(ss->st);

	for (struct item *it = batch; it && !err; it = it->next)
		err = it->kind == IT_RECORD ? store_put_record(ss->st, &it->r)
		                            : store_put_session(ss->st, &it->s);
	if (!err)
		err = store_commit(ss->st);
	else
		store_rollback(ss->st);
	if (err) {
		snprintf(ss->err, sizeof(ss->err), "%s", store_error(ss->st));
		failed(ss, n);
		return 0;
	}
	if (ss->failing) {
		pr_info("store %s: writing again", ss->cfg.path);
		ss->failing = false;
	}
	return n;
}

static void retention(struct store_sink *ss)
{
	time_t now = time(NULL);
	long n;

	if (!ss->cfg.retention_days || !ss->st) {
		ss->retention_more = false;
		return;
	}
	if (!ss->retention_more && now < ss->retention_at)
		return;
	ss->retention_at = now + RETENTION_EVERY_S;
	n = store_retention(ss->st,
	                    ((__s64)now * 1000 / DAY_MS - (__s64)ss->cfg.retention_days) * DAY_MS,
	                    RETENTION_STEP);
	ss->retention_more = n >= RETENTION_STEP;
	if (n < 0)
		pr_warn("%s (retention; tried again in %d s)", store_error(ss->st),
		        RETENTION_EVERY_S);
}

static void *writer(void *arg)
{
	struct store_sink *ss = arg;

	pthread_mutex_lock(&ss->lock);
	for (;;) {
		struct item *batch = ss->head, *last = NULL;
		__u64 n = 0, ok;

		if (!batch) {
			if (ss->stop)
				break;
			if (ss->retention_more) {
				pthread_mutex_unlock(&ss->lock);
				retention(ss);
				pthread_mutex_lock(&ss->lock);
				continue;
			}
			pthread_cond_timedwait(
			    &ss->cond, &ss->lock,
			    &(struct timespec){.tv_sec = time(NULL) + 1, .tv_nsec = 0});
			if (!ss->head) {
				pthread_mutex_unlock(&ss->lock);
				retention(ss);
				pthread_mutex_lock(&ss->lock);
			}
			continue;
		}
		for (struct item *it = batch; it && n < STORE_BATCH; it = it->next, n++)
			last = it;
		ss->head = last->next;
		if (!ss->head)
			ss->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&ss->lock);
		ok = write_batch(ss, batch, n);
		while (batch) {
			struct item *next = batch->next;

			free(batch);
			batch = next;
		}
		retention(ss);
		pthread_mutex_lock(&ss->lock);
		ss->stats.backlog -= n;
		ss->stats.records += ok;
		ss->stats.failures += n - ok;
		pthread_cond_broadcast(&ss->written);
	}
	pthread_mutex_unlock(&ss->lock);
	return NULL;
}

static void store_prepare(struct sink *s, struct report *r)
{
	struct store_sink *ss = (struct store_sink *)s;

	sessions(ss, r);
	pthread_mutex_lock(&ss->lock);
	pthread_cond_signal(&ss->cond); /* a harvest's records are in: a batch */
	/* the last report: what waits is written first (a few seconds at most), so that
	 * the final counters are the final word */
	for (time_t until = time(NULL) + EXIT_WAIT_S; r->final && ss->stats.backlog;)
		if (pthread_cond_timedwait(&ss->written, &ss->lock,
		                           &(struct timespec){.tv_sec = until}) == ETIMEDOUT)
			break;
	ss->snap = ss->stats;
	pthread_mutex_unlock(&ss->lock);
	r->store = &ss->snap;
}

static int store_report(struct sink *s, const struct report *r)
{
	(void)s, (void)r;
	return 0; /* failures are counted, they never stop tunflow */
}

static void store_close_sink(struct sink *s)
{
	struct store_sink *ss = (struct store_sink *)s;

	if (ss->started) {
		pthread_mutex_lock(&ss->lock);
		ss->stop = true;
		pthread_cond_signal(&ss->cond);
		pthread_mutex_unlock(&ss->lock);
		pthread_join(ss->thread, NULL); /* what waits is written first */
	}
	if (ss->stats.failures)
		pr_warn("store %s: %llu records could not be written (store_failures)",
		        ss->cfg.path, (unsigned long long)ss->stats.failures);
	store_close(ss->st);
	pthread_mutex_destroy(&ss->lock);
	pthread_cond_destroy(&ss->cond);
	pthread_cond_destroy(&ss->written);
	free(ss);
}

struct sink *store_sink_new(const struct store_cfg *cfg)
{
	struct store_sink *ss = calloc(1, sizeof(*ss));
	int code = 0;

	if (!ss) {
		pr_err("out of memory");
		return NULL;
	}
	ss->cfg = *cfg;
	pthread_mutex_init(&ss->lock, NULL);
	pthread_cond_init(&ss->cond, NULL);
	pthread_cond_init(&ss->written, NULL);
	ss->s = (struct sink){.name = "the store",
	                      .record = store_record,
	                      .changes_only = true, /* records only */
	                      .prepare = store_prepare,
	                      .report = store_report,
	                      .close = store_close_sink};
	if (!(ss->st = store_open_ex(cfg->path, false, &code, ss->err, sizeof(ss->err)))) {
		if (code == -EINVAL) { /* refused: never written by this tunflow */
			pr_err("%s", ss->err);
			store_close_sink(&ss->s);
			return NULL;
		}
		/* cannot be written now (permissions, a read-only or full file system): the
		 * live view goes on, records are counted as lost until it can be */
		pr_warn("%s; records are counted as store_failures until it can be written "
		        "(tried again every %d s)",
		        ss->err, REOPEN_EVERY_S);
		ss->failing = true;
		ss->said_at = time(NULL);
		ss->reopen_at = time(NULL) + REOPEN_EVERY_S;
	}
	ss->retention_more = true; /* a first look at start */
	if (pthread_create(&ss->thread, NULL, writer, ss)) {
		pr_err("store %s: cannot start its writer thread", cfg->path);
		store_close_sink(&ss->s);
		return NULL;
	}
	ss->started = true;
	return &ss->s;
}

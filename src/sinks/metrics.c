// SPDX-License-Identifier: GPL-2.0-only
/* Metric and label names follow Prometheus conventions: tunflow_ prefix, base units,
 * _total on counters. Cardinality is bounded: series per (interface, direction, user)
 * of watched interfaces, where a user's series go once the user had no traffic for
 * user_idle_s (default 10 minutes) and there are never more than
 * METRICS_MAX_USER_SERIES of them (the longest idle go first); a user who comes back
 * starts again from 0, which Prometheus' rate() and increase() read as a counter
 * reset. Plus a fixed number of top destinations.
 *
 * The server can be scraped while it is under load: epoll (no descriptor number
 * limit), a connection limit per client address and in all, and a deadline per
 * request that bytes do not extend (libmicrohttpd's own timeout restarts with every
 * byte): a watchdog thread shuts down a connection whose request (or the wait for the
 * next one on a kept-alive connection) took METRICS_DEADLINE_S. */
#include <errno.h>
#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include "util/fmt.h"
#include "util/log.h"
#include "util/rlimit.h"
#include "util/text.h"
#include "core/datapath.h"
#include "core/naming.h"
#include "sinks/metrics.h"
#include "util/hash.h"
#include "util/topk.h"
#include "sinks/webconfig.h"

#define AUTH_CACHE 64 /* (user, password) pairs that passed, kept as SHA-256 */
#define MAX_CONNECTIONS 1024
#define AUTH_CHECKS_PER_S 8 /* bcrypt checks of new (user, password) pairs a second */

struct series {
	int ifindex;
	int dir;
	char *user;      /* NULL: no user */
	const char *key; /* its key in the table */
	__u64 packets, bytes;
	gint64 last_us; /* monotonic time of its last traffic */
};

/* A connection to the server, from accept to close (its socket context). */
struct conn {
	struct conn *prev, *next;
	int fd;
	gint64 start_us; /* accepted; or its last request finished, or a next one began */
	bool served;     /* a request finished on it (kept alive) */
	bool cut;
};

struct metrics {
	struct MHD_Daemon *d;
	struct metrics_cfg cfg;
	GHashTable *series; /* "ifindex/dir/user" -> struct series */
	unsigned nuser_series;
	__u64 user_series_dropped;
	pthread_mutex_t lock; /* the page and the destinations */
	char *page;           /* the last snapshot, before the top destinations */
	size_t len;
	char *page2; /* after them */
	size_t len2;
	__u64 harvests;

	/* the top destinations, kept from each report's changes and ranked when scraped */
	GHashTable *dests;  /* struct dest (address, name) -> itself */
	GHashTable *acct;   /* struct flow * -> struct acct: what it counts for */
	GPtrArray *leaving; /* flows that ended in the last report: out at the next */
	GString *top;       /* the ranked lines, NULL when a change made them stale */

	/* connections and the deadline watchdog */
	pthread_mutex_t conn_lock;
	pthread_cond_t conn_wake;
	struct conn *conns;
	bool stopping, watchdog_on;
	pthread_t watchdog;
	unsigned max_conns;
	__u64 deadline_cuts; /* under conn_lock */

	/* the web configuration: TLS and users (server thread only, after start) */
	struct webconfig wc;
	char *cert, *key;
	guint8 (*user_sums)[32]; /* SHA-256 of each user name */
	char *dummy_hash;        /* checked against when no user has the name */
	struct crypt_data *cd;
	guint8 cache[AUTH_CACHE][32];
	unsigned ncache, next_cache;
	gint64 bucket_us;                    /* the bcrypt budget: checks allowed until this time */
	__u64 auth_failures, auth_throttled; /* read by metrics_update: atomics */
};

static guint dest_hash(gconstpointer p);
static gboolean dest_equal(gconstpointer a, gconstpointer b);
static void top_lines(struct metrics *m, GString *s);

/* A label value: made valid UTF-8 without controls if it is not, then backslash,
 * quote and newline escaped as the text format wants. */
static void label(GString *s, const char *v)
{
	char *clean = NULL;

	if (v && !text_is_clean(v))
		v = clean = text_clean(v, strlen(v), TEXT_NAME_MAX);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			g_string_append_c(s, '\\');
		if (*v == '\n')
			g_string_append(s, "\\n");
		else
			g_string_append_c(s, *v);
	}
	g_free(clean);
}

static void sha256(const void *a, size_t alen, const void *b, size_t blen, guint8 out[32])
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	gsize len = 32;

	g_checksum_update(ck, a, alen);
	if (b)
		g_checksum_update(ck, b, blen);
	g_checksum_get_digest(ck, out, &len);
	g_checksum_free(ck);
}

/* 1 when the n bytes at a and b are equal, in a time that depends on n only. */
static unsigned ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return 1 & (((unsigned)d - 1) >> 8);
}

/* Whether user and password are one of the web configuration's users. The time taken
 * does not tell whether the name exists: every name is compared (as SHA-256, in
 * constant time), and a missing one is checked against a dummy hash of the same cost.
 * Pairs that passed are remembered (as SHA-256 of both), so that a scrape does not pay
 * bcrypt's cost every time; new pairs are checked at most AUTH_CHECKS_PER_S a second
 * and for half of the time at most (a token bucket of one second), so that guessing
 * cannot keep the server thread from answering scrapes. */
static int check_password(struct metrics *m, const char *user, const char *pass)
{
	guint8 name[32], pair[32];
	const char *hash = m->dummy_hash, *out;
	unsigned found = 0, hit = 0;
	gint64 now = g_get_monotonic_time();

	sha256(user, strlen(user) + 1, pass, strlen(pass), pair);
	for (unsigned i = 0; i < m->ncache; i++)
		hit |= ct_equal(m->cache[i], pair, 32);
	if (hit)
		return 1;
	/* a token bucket holding a second's worth of checks */
	if (m->bucket_us < now - G_USEC_PER_SEC)
		m->bucket_us = now - G_USEC_PER_SEC;
	if (m->bucket_us > now)
		return -1;
	sha256(user, strlen(user), NULL, 0, name);
	for (size_t i = 0; i < m->wc.nusers; i++) {
		uintptr_t eq = ct_equal(m->user_sums[i], name, 32), mask = -eq;

		hash = (const char *)(((uintptr_t)m->wc.users[i].hash & mask) |
		                      ((uintptr_t)hash & ~mask));
		found |= eq;
	}
	out = crypt_rn(pass, hash, m->cd, sizeof(*m->cd));
	/* each check costs twice its time, at least 1/AUTH_CHECKS_PER_S: bcrypt gets half
	 * of the server thread at most, scrapes the rest */
	m->bucket_us += MAX(2 * (g_get_monotonic_time() - now), G_USEC_PER_SEC / AUTH_CHECKS_PER_S);
	if (!out || strlen(out) != strlen(hash) || !ct_equal(out, hash, strlen(hash)) || !found)
		return 0;
	memcpy(m->cache[m->next_cache], pair, 32);
	m->next_cache = (m->next_cache + 1) % AUTH_CACHE;
	if (m->ncache < AUTH_CACHE)
		m->ncache++;
	return 1;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *text)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	if (status == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(c, "tunflow", resp);
	else
		ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* 1 when the request may see the page, 0 when it gets 401, -1 when 429. */
static int authorized(struct metrics *m, struct MHD_Connection *c)
{
	char *pass = NULL, *user;
	int ok = 0;

	if (!m->wc.nusers)
		return 1;
	user = MHD_basic_auth_get_username_password(c, &pass);
	if (user && pass)
		ok = check_password(m, user, pass);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	if (ok == 0)
		__atomic_add_fetch(&m->auth_failures, 1, __ATOMIC_RELAXED);
	if (ok < 0)
		__atomic_add_fetch(&m->auth_throttled, 1, __ATOMIC_RELAXED);
	return ok;
}

char *metrics_page(struct metrics *m, size_t *len)
{
	char *page;

	pthread_mutex_lock(&m->lock);
	if (!m->top) {
		m->top = g_string_new(NULL);
		if (m->harvests)
			top_lines(m, m->top);
	}
	*len = m->len + m->top->len + m->len2;
	page = malloc(*len + 1);
	if (page) {
		memcpy(page, m->page, m->len);
		memcpy(page + m->len, m->top->str, m->top->len);
		memcpy(page + m->len + m->top->len, m->page2, m->len2);
		page[*len] = 0;
	}
	pthread_mutex_unlock(&m->lock);
	return page;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *page;
	size_t len;
	int ok;

	(void)version, (void)upload;
	/* the first call only says the headers are in: answering then would make
	 * libmicrohttpd close the connection after the answer (no keep-alive) */
	if (!*state) {
		*state = m;
		return MHD_YES;
	}
	if (*upload_size) { /* a body nobody asked for: skipped */
		*upload_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "");
	ok = authorized(m, c);
	if (ok < 0)
		return reply(c, MHD_HTTP_TOO_MANY_REQUESTS, "tunflow: too many password checks\n");
	if (!ok)
		return reply(c, MHD_HTTP_UNAUTHORIZED, "tunflow: unauthorized\n");
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, "tunflow: see /metrics\n");
	page = metrics_page(m, &len);
	resp = page ? MHD_create_response_from_buffer(len, page, MHD_RESPMEM_MUST_FREE) : NULL;
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Connections come and go: keep a list of them with their start times. libmicrohttpd
 * says a connection closed before it closes its socket, and both happen under
 * conn_lock here, so the watchdog only ever shuts down a socket of a live connection. */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
                          enum MHD_ConnectionNotificationCode what)
{
	struct metrics *m = cls;
	struct conn *x = *ctx;

	pthread_mutex_lock(&m->conn_lock);
	if (what == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		x = g_new0(struct conn, 1);
		x->fd = ci ? ci->connect_fd : -1;
		x->start_us = g_get_monotonic_time();
		x->next = m->conns;
		if (m->conns)
			m->conns->prev = x;
		m->conns = x;
		*ctx = x;
	} else if (x) {
		if (x->prev)
			x->prev->next = x->next;
		else
			m->conns = x->next;
		if (x->next)
			x->next->prev = x->prev;
		g_free(x);
		*ctx = NULL;
	}
	pthread_mutex_unlock(&m->conn_lock);
}

/* A request is done: a kept-alive connection's clock starts again for the next one. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
	struct metrics *m = cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *x = ci ? ci->socket_context : NULL;

	(void)state, (void)why;
	if (!x)
		return;
	pthread_mutex_lock(&m->conn_lock);
	x->start_us = g_get_monotonic_time();
	x->served = true;
	pthread_mutex_unlock(&m->conn_lock);
}

/* A request line arrived. On a kept-alive connection, the request gets a deadline of
 * its own (the wait for it had one too): one sent just before the connection's idle
 * time ran out is not cut in the middle. The first request's deadline runs from the
 * accept, so no connection lives more than twice the deadline without answers. */
static void *on_request_line(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct metrics *m = cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *x = ci ? ci->socket_context : NULL;

	(void)uri;
	if (x) {
		pthread_mutex_lock(&m->conn_lock);
		if (x->served && !x->cut)
			x->start_us = g_get_monotonic_time();
		pthread_mutex_unlock(&m->conn_lock);
	}
	return NULL;
}

static void *watchdog(void *arg)
{
	struct metrics *m = arg;

	pthread_mutex_lock(&m->conn_lock);
	while (!m->stopping) {
		gint64 now = g_get_monotonic_time();
		struct timespec until;

		for (struct conn *x = m->conns; x; x = x->next) {
			if (x->cut || x->fd < 0 ||
			    now - x->start_us < METRICS_DEADLINE_S * G_USEC_PER_SEC)
				continue;
			shutdown(x->fd, SHUT_RDWR);
			x->cut = true;
			m->deadline_cuts++;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&m->conn_wake, &m->conn_lock, &until);
	}
	pthread_mutex_unlock(&m->conn_lock);
	return NULL;
}

/* Read the web configuration, its certificate and key (checked by GnuTLS, so that a
 * bad pair is named here and not as a failed start), and prepare the password check. */
static int web_setup(struct metrics *m, const char *file)
{
	g_autofree char *path = text_clean(file, strlen(file), TEXT_NAME_MAX);
	char *err = NULL;
	size_t clen, klen;
	unsigned cost = 4;

	if (webconfig_load(file, &m->wc, &err)) {
		pr_err("%s", err);
		g_free(err);
		return -EINVAL;
	}
	if (m->wc.cert_file) {
		gnutls_certificate_credentials_t cred;
		gnutls_datum_t cert, key;
		int r;

		if (webconfig_read_file(m->wc.cert_file, &m->cert, &clen, &err) ||
		    webconfig_read_file(m->wc.key_file, &m->key, &klen, &err)) {
			pr_err("web config %s: %s", path, err);
			g_free(err);
			return -EINVAL;
		}
		cert = (gnutls_datum_t){(unsigned char *)m->cert, clen};
		key = (gnutls_datum_t){(unsigned char *)m->key, klen};
		if (gnutls_certificate_allocate_credentials(&cred) < 0)
			return -ENOMEM;
		r = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM,
		                                         NULL, 0);
		gnutls_certificate_free_credentials(cred);
		if (r < 0 || strlen(m->cert) != cert.size || strlen(m->key) != key.size) {
			char *c = text_clean(m->wc.cert_file, strlen(m->wc.cert_file), 256);
			char *k = text_clean(m->wc.key_file, strlen(m->wc.key_file), 256);

			pr_err("web config %s: %s and %s are not a PEM certificate and its key: %s",
			       path, c, k, r < 0 ? gnutls_strerror(r) : "a NUL byte inside");
			g_free(c);
			g_free(k);
			return -EINVAL;
		}
	}
	if (!m->wc.nusers)
		return 0;
	m->user_sums = g_malloc_n(m->wc.nusers, 32);
	for (size_t i = 0; i < m->wc.nusers; i++) {
		const char *h = m->wc.users[i].hash;

		sha256(m->wc.users[i].name, strlen(m->wc.users[i].name), NULL, 0, m->user_sums[i]);
		cost = MAX(cost, (unsigned)((h[4] - '0') * 10 + (h[5] - '0')));
	}
	m->cd = g_new0(struct crypt_data, 1);
	{
		char salt[CRYPT_GENSALT_OUTPUT_SIZE];
		const char *h;

		if (!crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)) ||
		    !(h = crypt_rn("no user has this name", salt, m->cd, sizeof(*m->cd))) ||
		    *h != '$') {
			pr_err("web config %s: this system's crypt() has no bcrypt (libxcrypt)",
			       path);
			return -EINVAL;
		}
		m->dummy_hash = g_strdup(h);
	}
	return 0;
}

struct metrics *metrics_start(const struct metrics_cfg *cfg)
{
	struct sockaddr_storage ss;
	struct metrics *m;
	unsigned long nofile = rlimit_nofile();
	struct MHD_OptionItem tls[3] = {{MHD_OPTION_END, 0, NULL}};

	struct hostport hp;

	if (hostport_parse(cfg->addr, "127.0.0.1", &hp) || hostport_resolve(&hp, &ss)) {
		char *a = text_clean(cfg->addr, strlen(cfg->addr), 64);

		if (hostport_parse(cfg->addr, "127.0.0.1", &hp))
			pr_err("--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not '%s'", a);
		else
			pr_err(
			    "--metrics %s: cannot resolve the address; give an address or a name "
			    "this host resolves",
			    a);
		g_free(a);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	if (m->cfg.user_idle_s <= 0)
		m->cfg.user_idle_s = METRICS_USER_IDLE_S;
	m->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->conn_lock, NULL);
	pthread_cond_init(&m->conn_wake, NULL);
	m->page = g_strdup("");
	m->page2 = g_strdup("");
	m->dests = g_hash_table_new_full(dest_hash, dest_equal, NULL, g_free);
	m->acct = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	m->leaving = g_ptr_array_new();
	if (cfg->web_config && web_setup(m, cfg->web_config)) {
		metrics_stop(m);
		return NULL;
	}
	if (m->cert) {
		tls[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, m->cert};
		tls[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, m->key};
	}
	/* a quarter of the descriptors at most: the rest are the interfaces' */
	m->max_conns = MAX(32, MIN(MAX_CONNECTIONS, nofile / 4));
	m->d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (m->cert ? MHD_USE_TLS : 0) |
	        (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, handle, m, MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_LIMIT,
	    m->max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_DEADLINE_S,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, m, MHD_OPTION_URI_LOG_CALLBACK, on_request_line, m, MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	if (!m->d) {
		char *a = text_clean(cfg->addr, strlen(cfg->addr), 64);

		pr_err("cannot serve metrics on %s (in use, or not an address of this host)", a);
		g_free(a);
		metrics_stop(m);
		return NULL;
	}
	if (pthread_create(&m->watchdog, NULL, watchdog, m)) {
		pr_err("cannot start the metrics watchdog thread");
		metrics_stop(m);
		return NULL;
	}
	m->watchdog_on = true;
	return m;
}

static void series_free(gpointer p)
{
	struct series *s = p;

	g_free(s->user);
	g_free(s);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->watchdog_on) {
		pthread_mutex_lock(&m->conn_lock);
		m->stopping = true;
		pthread_cond_signal(&m->conn_wake);
		pthread_mutex_unlock(&m->conn_lock);
		pthread_join(m->watchdog, NULL);
	}
	if (m->d)
		MHD_stop_daemon(m->d);
	{
		GHashTableIter it;
		gpointer k, v;

		g_hash_table_iter_init(&it, m->series);
		while (g_hash_table_iter_next(&it, &k, &v))
			series_free(v);
	}
	g_hash_table_destroy(m->series);
	g_free(m->page);
	g_free(m->page2);
	if (m->top)
		g_string_free(m->top, TRUE);
	g_hash_table_destroy(m->acct);
	g_hash_table_destroy(m->dests);
	g_ptr_array_free(m->leaving, TRUE);
	webconfig_free(&m->wc);
	if (m->key)
		explicit_bzero(m->key, strlen(m->key));
	g_free(m->key);
	g_free(m->cert);
	g_free(m->user_sums);
	g_free(m->dummy_hash);
	if (m->cd)
		explicit_bzero(m->cd, sizeof(*m->cd));
	g_free(m->cd);
	pthread_cond_destroy(&m->conn_wake);
	pthread_mutex_destroy(&m->conn_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static void add(struct metrics *m, const struct flow *f, gint64 now)
{
	char *key = g_strdup_printf("%u/%u/%s%s", f->key.ifindex, f->key.dir, f->user ? "u:" : "",
	                            f->user ? f->user : "");
	struct series *s = g_hash_table_lookup(m->series, key);

	if (!s) {
		s = g_new0(struct series, 1);
		s->ifindex = f->key.ifindex;
		s->dir = f->key.dir;
		s->user = g_strdup(f->user);
		s->key = key;
		g_hash_table_insert(m->series, key, s);
		if (s->user)
			m->nuser_series++;
	} else {
		g_free(key);
	}
	s->packets += f->d_packets;
	s->bytes += f->d_bytes;
	if (f->d_packets)
		s->last_us = now;
}

static void drop(struct metrics *m, GHashTableIter *it, struct series *s)
{
	if (s->user) {
		m->nuser_series--;
		m->user_series_dropped++;
	}
	g_hash_table_iter_remove(it);
	series_free(s);
}

void metrics_forget_iface(struct metrics *m, int ifindex)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, m->series);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (((struct series *)v)->ifindex == ifindex) {
			struct series *s = v;

			if (s->user)
				m->nuser_series--;
			g_hash_table_iter_remove(&it);
			series_free(s);
		}
}

static int by_last(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;

	return (x->last_us > y->last_us) - (x->last_us < y->last_us);
}

/* Users without traffic for user_idle_s lose their series; past the cap, the longest
 * idle go too. */
static void prune(struct metrics *m, gint64 now)
{
	gint64 idle = (gint64)(m->cfg.user_idle_s * G_USEC_PER_SEC);
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, m->series);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct series *s = v;

		if (s->user && now - s->last_us >= idle)
			drop(m, &it, s);
	}
	if (m->nuser_series > METRICS_MAX_USER_SERIES) {
		GPtrArray *a = g_ptr_array_new();

		g_hash_table_iter_init(&it, m->series);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (((struct series *)v)->user)
				g_ptr_array_add(a, v);
		qsort(a->pdata, a->len, sizeof(void *), by_last);
		for (guint i = 0; i + METRICS_MAX_USER_SERIES < a->len; i++) {
			struct series *x = a->pdata[i];

			g_hash_table_remove(m->series, x->key);
			m->nuser_series--;
			m->user_series_dropped++;
			series_free(x);
		}
		g_ptr_array_free(a, TRUE);
	}
}

static void series_lines(struct metrics *m, GString *s, bool bytes)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, m->series);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const struct series *x = v;

		g_string_append_printf(s, "tunflow_%s_total{interface=\"",
		                       bytes ? "bytes" : "packets");
		label(s, iface_name(x->ifindex));
		g_string_append_printf(s, "\",direction=\"%s\",user=\"",
		                       x->dir == DIR_INGRESS ? "ingress" : "egress");
		label(s, x->user);
		g_string_append_printf(s, "\"} %llu\n",
		                       (unsigned long long)(bytes ? x->bytes : x->packets));
	}
}
/* One destination: a remote address and the name its flows reached it by. */
struct dest {
	__u8 addr[16];
	const char *name; /* the flows' dest.name (interned), or NULL */
	int ip_version;
	__u64 bytes;
	size_t nflows; /* flows counted in it: it goes with the last */
};

/* What one flow of the table counts for: its destination and the bytes added to it. */
struct acct {
	struct dest *d;
	__u64 bytes;
};

static guint dest_hash(gconstpointer p)
{
	const struct dest *d = p;

	return addr16_hash(d->addr) ^ (d->name ? g_str_hash(d->name) : 0);
}

static gboolean dest_equal(gconstpointer a, gconstpointer b)
{
	const struct dest *x = a, *y = b;

	return !memcmp(x->addr, y->addr, 16) && !g_strcmp0(x->name, y->name);
}

/* More bytes first; ties by address, then name, so that the set is stable. */
static int dest_cmp(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;
	int c;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	c = memcmp(x->addr, y->addr, 16);
	return c ? c : g_strcmp0(x->name, y->name);
}

/* Take a flow's bytes out of its destination (the flow left the table, or its name
 * changed). */
static void uncount(struct metrics *m, struct acct *a)
{
	struct dest *d = a->d;

	if (!d)
		return;
	d->bytes -= a->bytes;
	if (!--d->nflows)
		g_hash_table_remove(m->dests, d);
	a->d = NULL;
	a->bytes = 0;
}

static void forget_flow(struct metrics *m, const struct flow *f)
{
	struct acct *a = g_hash_table_lookup(m->acct, f);

	if (a) {
		uncount(m, a);
		g_hash_table_remove(m->acct, f);
	}
}

/* A flow with news: its destination gets the bytes it added since it was last
 * counted (all of them under its new name, when the name changed). */
static void count_flow(struct metrics *m, const struct flow *f)
{
	struct acct *a = g_hash_table_lookup(m->acct, f);
	struct dest key = {.name = f->dest.name};

	memcpy(key.addr, flow_far(&f->key), 16);
	if (!a) {
		a = g_new0(struct acct, 1);
		g_hash_table_insert(m->acct, (gpointer)f, a);
	} else if (a->d && !dest_equal(a->d, &key)) {
		uncount(m, a);
	}
	if (!a->d) {
		if (!(a->d = g_hash_table_lookup(m->dests, &key))) {
			a->d = g_memdup2(&key, sizeof(key));
			a->d->ip_version = f->key.ip_version;
			g_hash_table_insert(m->dests, a->d, a->d);
		}
		a->d->nflows++;
	}
	a->d->bytes += f->bytes - a->bytes;
	a->bytes = f->bytes;
}

/* The destinations after this report: the flows that left the table out (those that
 * ended in the last report, those forgotten since), the flows with news in. Costs the
 * changes, not the table. */
static void follow_dests(struct metrics *m, const struct report *r)
{
	for (guint i = 0; i < m->leaving->len; i++)
		forget_flow(m, m->leaving->pdata[i]); /* the key only: the flow is gone */
	g_ptr_array_set_size(m->leaving, 0);
	for (size_t i = 0; i < r->nforgotten; i++)
		forget_flow(m, r->forgotten[i]);
	for (size_t i = 0; i < r->nchanged; i++) {
		count_flow(m, r->changed[i]);
		if (r->changed[i]->end)
			g_ptr_array_add(m->leaving, r->changed[i]);
	}
	if (m->leaving->len || r->nforgotten || r->nchanged) {
		if (m->top)
			g_string_free(m->top, TRUE);
		m->top = NULL;
	}
}

/* The top destinations by bytes over the flows in the table: the far side of the
 * tunnel (destination on ingress, source on egress), as --group-by user counts it, with
 * the name the flows reached it by (an address serves many sites: each name its own
 * destination). Still top N series in all. Ranked when scraped (under m->lock), once
 * per change. */
static void top_lines(struct metrics *m, GString *s)
{
	struct dest *kept = calloc(m->cfg.top, sizeof(*kept));
	struct topk top;
	GHashTableIter it;
	gpointer k, v;

	topk_init(&top, kept, sizeof(*kept), kept ? m->cfg.top : 0, dest_cmp);
	g_hash_table_iter_init(&it, m->dests);
	while (g_hash_table_iter_next(&it, &k, &v))
		topk_offer(&top, v);
	g_string_append_printf(
	    s,
	    "# HELP tunflow_top_destination_bytes Bytes of the flows in tunflow's table to "
	    "each of the %d remote addresses and names with most (the set changes with the "
	    "traffic; name is empty when the flows have none).\n"
	    "# TYPE tunflow_top_destination_bytes gauge\n",
	    m->cfg.top);
	for (size_t j = 0; j < top.n; j++) {
		char a[ADDR_STRLEN];

		fmt_addr(kept[j].addr, kept[j].ip_version, a);
		g_string_append_printf(s, "tunflow_top_destination_bytes{address=\"%s\",name=\"",
		                       a);
		label(s, kept[j].name);
		g_string_append_printf(s, "\"} %llu\n", (unsigned long long)kept[j].bytes);
	}
	free(kept);
}

/* What each naming counter counts, for its HELP line (tunflow_NAME_total). */
static const char *const naming_help[NCNT_MAX] = {
    [NCNT_DNS_MALFORMED] = "DNS messages refused as malformed (truncated, lying lengths, "
                           "compression loops).",
    [NCNT_TLS_MALFORMED] = "TLS ClientHellos refused as malformed.",
    [NCNT_QUIC_MALFORMED] = "QUIC Initials that did not parse or decrypt.",
    [NCNT_HTTP_MALFORMED] = "HTTP/1.x requests refused as malformed.",
    [NCNT_DNS_EVICTIONS] = "DNS answers evicted from the full cache (--dns-cache) before "
                           "they expired.",
    [NCNT_NAMES_UNSTORED] = "Names not kept: tunflow held its bound of distinct names.",
    [NCNT_UNFOLLOWED] = "TCP streams whose first segments were given up: the bytes held "
                        "for all connections reached 64 MiB.",
};

/* The kernel's name_drops and, with names on, naming's own counters. */
static void naming_lines(GString *s, const struct report *r)
{
	g_string_append_printf(
	    s,
	    "# HELP tunflow_name_drops_total Name capture events (a flow's first payload, a DNS "
	    "message) lost because the kernel's ring buffer was full; their flows are counted "
	    "but may go unnamed.\n# TYPE tunflow_name_drops_total counter\n"
	    "tunflow_name_drops_total %llu\n",
	    (unsigned long long)r->counters[CNT_NAME_DROPS]);
	for (int c = 0; r->name_counters && c < NCNT_MAX; c++)
		g_string_append_printf(
		    s,
		    "# HELP tunflow_%s_total %s\n# TYPE tunflow_%s_total counter\n"
		    "tunflow_%s_total %llu\n",
		    naming_counter_names[c], naming_help[c], naming_counter_names[c],
		    naming_counter_names[c], (unsigned long long)r->name_counters[c]);
}

void metrics_update(struct metrics *m, const struct report *r)
{
	GString *s = g_string_sized_new(4096), *page;
	gint64 now = g_get_monotonic_time();
	__u64 cuts;
	struct report hand;
	GPtrArray *made = NULL;

	if (!r->changed) { /* a report made by hand: its flows with news are the changes */
		made = g_ptr_array_new();
		for (size_t i = 0; i < r->nflows; i++)
			if (r->flows[i]->gen == r->gen || r->flows[i]->end)
				g_ptr_array_add(made, r->flows[i]);
		hand = *r;
		hand.changed = (struct flow **)made->pdata;
		hand.nchanged = made->len;
		hand.ntable = r->nflows;
		r = &hand;
	}

	m->harvests++;
	for (size_t i = 0; i < r->nchanged; i++)
		if (r->changed[i]->gen == r->gen)
			add(m, r->changed[i], now);
	prune(m, now);
	g_string_append(
	    s, "# HELP tunflow_bytes_total IP bytes seen, by interface, direction and user.\n"
	       "# TYPE tunflow_bytes_total counter\n");
	series_lines(m, s, true);
	g_string_append(
	    s, "# HELP tunflow_packets_total Packets seen, by interface, direction and user.\n"
	       "# TYPE tunflow_packets_total counter\n");
	series_lines(m, s, false);
	g_string_append_printf(s,
	                       "# HELP tunflow_flows Flows in tunflow's table.\n"
	                       "# TYPE tunflow_flows gauge\ntunflow_flows %zu\n",
	                       r->ntable);
	page = s;
	s = g_string_sized_new(4096);
	g_string_append(
	    s, "# HELP tunflow_unaccounted_packets_total Packets that landed in no flow, by "
	       "reason.\n# TYPE tunflow_unaccounted_packets_total counter\n");
	for (int c = 0; c < CNT_ALL; c++) {
		if (!counter_is_packet(c)) /* name_drops is no packet loss */
			continue;
		g_string_append_printf(s, "tunflow_unaccounted_packets_total{reason=\"%s\"} %llu\n",
		                       counter_names[c], (unsigned long long)r->counters[c]);
	}
	naming_lines(s, r);
	g_string_append_printf(
	    s,
	    "# HELP tunflow_harvest_errors_total User-space failures: a drain that failed, a "
	    "flow that could not be stored.\n# TYPE tunflow_harvest_errors_total counter\n"
	    "tunflow_harvest_errors_total %llu\n"
	    "# HELP tunflow_attach_errors_total Interfaces that matched but could not be "
	    "attached.\n# TYPE tunflow_attach_errors_total counter\n"
	    "tunflow_attach_errors_total %lu\n"
	    "# HELP tunflow_evicted_total Flows and flow records ended early (end reason "
	    "evicted) because their table held --max-table-flows.\n"
	    "# TYPE tunflow_evicted_total counter\ntunflow_evicted_total %llu\n"
	    "# HELP tunflow_lost_link_events_total Times the kernel's link events overflowed "
	    "tunflow's socket (recovered by listing every link again).\n"
	    "# TYPE tunflow_lost_link_events_total counter\ntunflow_lost_link_events_total %lu\n"
	    "# HELP tunflow_malformed_lines_total Lines of the sessions, OpenVPN status and "
	    "user map files that were refused.\n"
	    "# TYPE tunflow_malformed_lines_total counter\ntunflow_malformed_lines_total %lu\n"
	    "# HELP tunflow_interfaces Interfaces watched.\n# TYPE tunflow_interfaces gauge\n"
	    "tunflow_interfaces %d\n"
	    "# HELP tunflow_harvest_duration_seconds Time the last harvest took (map swap "
	    "and drain).\n# TYPE tunflow_harvest_duration_seconds gauge\n"
	    "tunflow_harvest_duration_seconds %.6f\n"
	    "# HELP tunflow_harvests_total Harvests done.\n# TYPE tunflow_harvests_total "
	    "counter\ntunflow_harvests_total %llu\n",
	    (unsigned long long)r->harvest_errors, r->attach_errors, (unsigned long long)r->evicted,
	    r->lost_link_events, r->malformed_lines, r->nifaces, r->harvest_s,
	    (unsigned long long)m->harvests);
	{
		const struct export_stats none = {0}, *e = r->export ? r->export : &none;

		g_string_append_printf(
		    s,
		    "# HELP tunflow_exported_records_total Flow records sent to the IPFIX "
		    "collector.\n# TYPE tunflow_exported_records_total counter\n"
		    "tunflow_exported_records_total %llu\n"
		    "# HELP tunflow_export_failures_total Flow records that could not be sent "
		    "to the IPFIX collector.\n# TYPE tunflow_export_failures_total counter\n"
		    "tunflow_export_failures_total %llu\n"
		    "# HELP tunflow_export_backlog_records Flow records waiting for the IPFIX "
		    "collector.\n# TYPE tunflow_export_backlog_records gauge\n"
		    "tunflow_export_backlog_records %llu\n",
		    (unsigned long long)e->records, (unsigned long long)e->failures,
		    (unsigned long long)e->backlog);
	}
	if (r->store)
		g_string_append_printf(
		    s,
		    "# HELP tunflow_stored_records_total Flow records written to the store.\n"
		    "# TYPE tunflow_stored_records_total counter\ntunflow_stored_records_total "
		    "%llu\n"
		    "# HELP tunflow_store_failures_total Flow records that could not be written to "
		    "the store.\n# TYPE tunflow_store_failures_total counter\n"
		    "tunflow_store_failures_total %llu\n"
		    "# HELP tunflow_store_backlog_records Flow records waiting for the store's "
		    "writer.\n# TYPE tunflow_store_backlog_records gauge\n"
		    "tunflow_store_backlog_records %llu\n",
		    (unsigned long long)r->store->records, (unsigned long long)r->store->failures,
		    (unsigned long long)r->store->backlog);
	if (r->clickhouse)
		g_string_append_printf(
		    s,
		    "# HELP tunflow_clickhouse_records_total Flow records inserted into "
		    "ClickHouse.\n# TYPE tunflow_clickhouse_records_total counter\n"
		    "tunflow_clickhouse_records_total %llu\n"
		    "# HELP tunflow_clickhouse_failures_total Flow records that could not be "
		    "inserted into ClickHouse.\n# TYPE tunflow_clickhouse_failures_total counter\n"
		    "tunflow_clickhouse_failures_total %llu\n"
		    "# HELP tunflow_clickhouse_backlog_records Flow records waiting for "
		    "ClickHouse.\n# TYPE tunflow_clickhouse_backlog_records gauge\n"
		    "tunflow_clickhouse_backlog_records %llu\n",
		    (unsigned long long)r->clickhouse->records,
		    (unsigned long long)r->clickhouse->failures,
		    (unsigned long long)r->clickhouse->backlog);
	pthread_mutex_lock(&m->conn_lock);
	cuts = m->deadline_cuts;
	pthread_mutex_unlock(&m->conn_lock);
	g_string_append_printf(
	    s,
	    "# HELP tunflow_metrics_user_series_dropped_total Per-user series dropped: the "
	    "user had no traffic for %g s, or there were more than %d.\n"
	    "# TYPE tunflow_metrics_user_series_dropped_total counter\n"
	    "tunflow_metrics_user_series_dropped_total %llu\n"
	    "# HELP tunflow_metrics_deadline_closes_total Connections to this server closed "
	    "because a request took more than %d s.\n"
	    "# TYPE tunflow_metrics_deadline_closes_total counter\n"
	    "tunflow_metrics_deadline_closes_total %llu\n"
	    "# HELP tunflow_metrics_auth_failures_total Requests refused for a missing or "
	    "wrong user name or password, or for too many password checks at once.\n"
	    "# TYPE tunflow_metrics_auth_failures_total counter\n"
	    "tunflow_metrics_auth_failures_total %llu\n",
	    m->cfg.user_idle_s, METRICS_MAX_USER_SERIES, (unsigned long long)m->user_series_dropped,
	    METRICS_DEADLINE_S, (unsigned long long)cuts,
	    (unsigned long long)(__atomic_load_n(&m->auth_failures, __ATOMIC_RELAXED) +
	                         __atomic_load_n(&m->auth_throttled, __ATOMIC_RELAXED)));
	pthread_mutex_lock(&m->lock);
	follow_dests(m, r);
	g_free(m->page);
	m->len = page->len;
	m->page = g_string_free(page, FALSE);
	g_free(m->page2);
	m->len2 = s->len;
	m->page2 = g_string_free(s, FALSE);
	pthread_mutex_unlock(&m->lock);
	if (made)
		g_ptr_array_free(made, TRUE);
}

/* /metrics as a consumer of the pipeline. */
struct metrics_sink {
	struct sink s;
	struct metrics *m;
};

static int metrics_sink_report(struct sink *s, const struct report *r)
{
	struct metrics *m = ((struct metrics_sink *)s)->m;

	metrics_update(m, r);
	for (size_t i = 0; i < r->ngone; i++)
		metrics_forget_iface(m, r->gone[i].ifindex);
	return 0;
}

static void metrics_sink_close(struct sink *s)
{
	metrics_stop(((struct metrics_sink *)s)->m);
	free(s);
}

struct sink *metrics_sink_new(const struct metrics_cfg *cfg)
{
	struct metrics_sink *ms = calloc(1, sizeof(*ms));

	if (!ms)
		return NULL;
	ms->m = metrics_start(cfg);
	if (!ms->m) {
		free(ms);
		return NULL;
	}
	ms->s = (struct sink){.name = "/metrics",
	                      .changes_only = true,
	                      .report = metrics_sink_report,
	                      .close = metrics_sink_close};
	return &ms->s;
}

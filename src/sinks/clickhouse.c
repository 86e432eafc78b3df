// SPDX-License-Identifier: GPL-2.0-only
/* ClickHouse over HTTP: the client (one curl handle per thread that talks to the
 * server) and the sink. The harvest only writes rows into a memory buffer and hands
 * each harvest's rows to the sender as one batch; the sender POSTs them as "INSERT ...
 * FORMAT RowBinary" (sessions, rare, as JSONEachRow), keeps a batch first in line while
 * the server is away (backing off from 0.25 s to 30 s), and counts every record that
 * never arrived: the backlog was full, the server refused the batch as malformed, or it
 * still waited at exit. A batch whose answer was lost is sent again; the table's
 * ReplacingMergeTree collapses the copies (docs/clickhouse.md). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "core/clock.h"
#include "core/dest.h"
#include "core/peers.h"
#include "sinks/clickhouse.h"
#include "sources/ifwatch.h"
#include "util/fmt.h"
#include "util/log.h"
#include "util/text.h"

#define CONNECT_TIMEOUT_MS 3000
#define INSERT_TIMEOUT_MS 30000
#define SETUP_TIMEOUT_MS 5000
#define BACKOFF_MIN_NS 250000000ull
#define BACKOFF_MAX_NS 30000000000ull
#define BATCH_MAX 100000 /* rows in one INSERT at most */
#define PASSWORD_MAX 1024
#define ERR_MAX 200       /* the cause as said, in bytes */
#define TTL_VERSION 19006 /* TTL on MergeTree tables: ClickHouse 19.6 */

bool ch_ident_ok(const char *s)
{
	if (!s || !*s || (*s >= '0' && *s <= '9') || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

struct ch_conn {
	CURL *curl;
	char *base;   /* URL up to its query, with a port; "?" or "&" follows */
	char *server; /* for messages */
	char *database;
	char *user, *password;
	struct curl_slist *headers;
	GString *resp;
	char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	g_string_append_len(arg, p, size * n);
	return size * n;
}

/* The first line of path, without its line end; NULL with the reason in errno. */
static char *read_password(const char *path)
{
	char buf[PASSWORD_MAX + 2];
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	if (strlen(buf) > PASSWORD_MAX) {
		errno = EFBIG;
		return NULL;
	}
	return g_strdup(buf);
}

/* url with a scheme and a port (ClickHouse's 8123 for http, 8443 for https), ending
 * before its query. NULL when it is no http(s) URL, or holds credentials (*has_user). */
static char *normal_url(const char *url, char **shown, bool *has_user)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *port = NULL, *user = NULL, *out = NULL, *full = NULL;
	char *with = strstr(url, "://") ? g_strdup(url) : g_strconcat("http://", url, NULL);

	if (!h || curl_url_set(h, CURLUPART_URL, with, 0) ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		goto out;
	if (curl_url_get(h, CURLUPART_PORT, &port, 0) &&
	    curl_url_set(h, CURLUPART_PORT, strcmp(scheme, "https") != 0 ? "8123" : "8443", 0))
		goto out;
	if (!curl_url_get(h, CURLUPART_USER, &user, 0)) {
		*has_user = true;
		goto out;
	}
	curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0);
	if (curl_url_get(h, CURLUPART_URL, &full, 0))
		goto out;
	*shown = text_clean(full, strlen(full), TEXT_NAME_MAX);
	out = g_strdup_printf("%s%s", full, strchr(full, '?') ? "&" : "?");
out:
	curl_free(scheme);
	curl_free(port);
	curl_free(user);
	curl_free(full);
	curl_url_cleanup(h);
	g_free(with);
	return out;
}

void ch_conn_free(struct ch_conn *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	if (c->resp)
		g_string_free(c->resp, TRUE);
	g_free(c->base);
	g_free(c->server);
	g_free(c->database);
	g_free(c->user);
	if (c->password)
		memset(c->password, 0, strlen(c->password));
	g_free(c->password);
	free(c);
}

struct ch_conn *ch_conn_new(const struct clickhouse_cfg *cfg)
{
	char err[512];
	struct ch_conn *c = ch_conn_open(cfg, err, sizeof(err));

	if (!c)
		pr_err("%s", err);
	return c;
}

struct ch_conn *ch_conn_open(const struct clickhouse_cfg *cfg, char *err, size_t errlen)
{
	struct ch_conn *c = calloc(1, sizeof(*c));
	bool has_user = false;
	char *shown = NULL;

	pthread_once(&curl_once, curl_init_once);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->base = normal_url(cfg->url, &shown, &has_user);
	c->server = shown;
	if (has_user) {
		snprintf(err, errlen,
		         "--clickhouse: give the user with --clickhouse-user and the password in "
		         "--clickhouse-password-file, not in the URL");
		goto fail;
	}
	if (!c->base) {
		snprintf(err, errlen,
		         "--clickhouse wants an http or https URL (e.g. http://127.0.0.1:8123), "
		         "not '%s'",
		         cfg->url);
		goto fail;
	}
	if (!ch_ident_ok(cfg->database) || !ch_ident_ok(cfg->table)) {
		snprintf(err, errlen,
		         "--clickhouse-database and --clickhouse-table want letters, digits and "
		         "'_' (not starting with a digit), not '%s' and '%s'",
		         cfg->database, cfg->table);
		goto fail;
	}
	if (cfg->password_file && !(c->password = read_password(cfg->password_file))) {
		snprintf(err, errlen, "--clickhouse-password-file %s: %s", cfg->password_file,
		         strerror(errno));
		goto fail;
	}
	c->database = g_strdup(cfg->database);
	c->user = g_strdup(cfg->user ? cfg->user : "default");
	c->resp = g_string_new(NULL);
	c->curl = curl_easy_init();
	if (!c->curl) {
		snprintf(err, errlen, "ClickHouse: cannot set up libcurl");
		goto fail;
	}
	/* no "Expect: 100-continue" round trip before a large body */
	c->headers = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c->resp);
	curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->user);
	curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->password ? c->password : "");
	curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	if (cfg->ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, cfg->ca_file);
	if (cfg->insecure) {
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	return c;
fail:
	ch_conn_free(c);
	return NULL;
}

const char *ch_server(const struct ch_conn *c) { return c->server; }

void ch_error_text(const char *body, size_t len, char *out, size_t outlen)
{
	static const char *const cut_after[] = {"e.displayText() = ", "DB::Exception: "};
	char *line = g_strndup(body, len), *s = line, *p, *clean;

	s[strcspn(s, "\r\n")] = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(cut_after); i++)
		if ((p = strstr(s, cut_after[i])))
			s = p + strlen(cut_after[i]);
	if (s == line && !strncmp(s, "Code: ", 6)) /* "Code: N. text" without the above */
		s += strcspn(s, ".,") + (s[strcspn(s, ".,")] ? 1 : 0);
	if ((p = strstr(s, ", e.what() = ")))
		*p = 0;
	if ((p = strstr(s, " (version ")))
		*p = 0;
	g_strstrip(s);
	clean = text_clean(s, strlen(s), ERR_MAX);
	snprintf(out, outlen, "%s", *clean ? clean : "no reason given");
	g_free(clean);
	g_free(line);
}

int ch_query(struct ch_conn *c, const char *sql, const char *data, size_t len, long timeout_ms,
             GString **out, char *err, size_t errlen)
{
	char *esc = NULL, *url;
	long status = 0;
	CURLcode rc;

	if (data)
		esc = curl_easy_escape(c->curl, sql, 0);
	url = g_strdup_printf("%sdatabase=%s%s%s", c->base, c->database, esc ? "&query=" : "",
	                      esc ? esc : "");
	curl_free(esc);
	g_string_truncate(c->resp, 0);
	c->errbuf[0] = 0;
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, data ? data : sql);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)(data ? len : strlen(sql)));
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	rc = curl_easy_perform(c->curl);
	g_free(url);
	if (out)
		*out = c->resp;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		/* a certificate that does not check out is the configuration's, not an outage */
		return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
		               rc == CURLE_SSL_CERTPROBLEM
		           ? CH_REFUSED
		           : CH_UNREACHABLE;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		char cause[ERR_MAX + 16];

		ch_error_text(c->resp->str, c->resp->len, cause, sizeof(cause));
		snprintf(err, errlen, "%s (HTTP %ld)", cause, status);
		return CH_REFUSED;
	}
	return CH_OK;
}

int ch_version_num(const char *v)
{
	char *end;
	unsigned long major = strtoul(v, &end, 10), minor;

	if (end == v || *end != '.')
		return 0;
	v = end + 1;
	minor = strtoul(v, &end, 10);
	if (end == v || major > 1000000 || minor > 999)
		return 0;
	return (int)(major * 1000 + minor);
}

GString *ch_sessions_sql(const struct clickhouse_cfg *cfg, int version)
{
	GString *q = g_string_new(NULL);

	g_string_printf(q,
	                "CREATE TABLE IF NOT EXISTS %s.%s_sessions ("
	                "gateway String, connect DateTime, disconnect DateTime, "
	                "connect_ms UInt64, disconnect_ms UInt64, user String, iface String, "
	                "peer String, end_reason String, bytes_in UInt64, packets_in UInt64, "
	                "bytes_out UInt64, packets_out UInt64"
	                ") ENGINE = ReplacingMergeTree PARTITION BY toDate(disconnect) "
	                "ORDER BY (user, connect_ms, gateway, iface, peer)",
	                cfg->database, cfg->table);
	if (cfg->ttl_days && version >= TTL_VERSION)
		g_string_append_printf(q, " TTL disconnect + INTERVAL %lu DAY", cfg->ttl_days);
	return q;
}

/* The columns of a record's row, in the order RowBinary writes them (ch_row). Types
 * that Debian's 18.16 has, and every version since: DateTime, not DateTime64 (20.1+);
 * no LowCardinality or IPv6 type (19.x). */
static const struct {
	const char *name, *type;
} columns[] = {
    {"gateway", "String"},    {"run", "UInt64"},       {"seq", "UInt64"},
    {"start", "DateTime"},    {"end", "DateTime"},     {"start_ms", "UInt64"},
    {"end_ms", "UInt64"},     {"user", "String"},      {"iface", "String"},
    {"peer", "String"},       {"endpoint", "String"},  {"dir", "String"},
    {"ip_version", "UInt8"},  {"proto", "UInt8"},      {"src", "String"},
    {"dst", "String"},        {"sport", "UInt16"},     {"dport", "UInt16"},
    {"packets", "UInt64"},    {"bytes", "UInt64"},     {"rev_packets", "UInt64"},
    {"rev_bytes", "UInt64"},  {"tcp_flags", "UInt8"},  {"rev_tcp_flags", "UInt8"},
    {"end_reason", "String"}, {"dest_name", "String"}, {"name_src", "String"},
    {"ech", "UInt8"},         {"asn", "UInt32"},       {"as_name", "String"},
    {"country", "String"},
};

GString *ch_create_sql(const struct clickhouse_cfg *cfg, int version)
{
	GString *q = g_string_new(NULL);

	g_string_printf(q, "CREATE TABLE IF NOT EXISTS %s.%s (", cfg->database, cfg->table);
	for (size_t i = 0; i < G_N_ELEMENTS(columns); i++)
		g_string_append_printf(q, "%s%s %s", i ? ", " : "", columns[i].name,
		                       columns[i].type);
	g_string_append(q, ") ENGINE = ReplacingMergeTree PARTITION BY toDate(start) "
	                   "ORDER BY (user, start, gateway, run, seq)");
	if (cfg->ttl_days && version >= TTL_VERSION)
		g_string_append_printf(q, " TTL start + INTERVAL %lu DAY", cfg->ttl_days);
	return q;
}

GString *ch_insert_sql(const struct clickhouse_cfg *cfg)
{
	GString *q = g_string_new(NULL);

	g_string_printf(q, "INSERT INTO %s.%s (", cfg->database, cfg->table);
	for (size_t i = 0; i < G_N_ELEMENTS(columns); i++)
		g_string_append_printf(q, "%s%s", i ? ", " : "", columns[i].name);
	g_string_append(q, ") FORMAT RowBinary");
	return q;
}

/* have: the table's columns, "NAME\tTYPE" a line. A row is written in exactly these
 * types (RowBinary), so a table the operator made must have each, of that type (or its
 * LowCardinality). CH_OK, or CH_REFUSED naming what lacks or differs. */
static int check_columns(const char *have, const struct clickhouse_cfg *cfg, char *err,
                         size_t errlen)
{
	GString *missing = g_string_new(NULL), *wrong = g_string_new(NULL);
	char **lines = g_strsplit(have, "\n", -1);
	int rc = CH_OK;

	for (size_t i = 0; i < G_N_ELEMENTS(columns); i++) {
		const char *type = NULL;
		char lc[64];

		for (char **l = lines; *l && !type; l++) {
			size_t n = strlen(columns[i].name);

			if (!strncmp(*l, columns[i].name, n) && (*l)[n] == '\t')
				type = *l + n + 1;
		}
		snprintf(lc, sizeof(lc), "LowCardinality(%s)", columns[i].type);
		if (!type)
			g_string_append_printf(missing, "%s%s", missing->len ? ", " : "",
			                       columns[i].name);
		else if (strcmp(type, columns[i].type) != 0 && strcmp(type, lc) != 0)
			g_string_append_printf(wrong, "%s%s %s (not %s)", wrong->len ? ", " : "",
			                       columns[i].name, type, columns[i].type);
	}
	if (missing->len || wrong->len) {
		char *shown;

		g_string_prepend(missing, missing->len ? "has no column " : "");
		if (wrong->len)
			g_string_append_printf(missing, "%shas %s", missing->len ? "; " : "",
			                       wrong->str);
		shown = text_clean(missing->str, missing->len, 400);
		snprintf(err, errlen, "table %s.%s %s (see docs/clickhouse.md)", cfg->database,
		         cfg->table, shown);
		g_free(shown);
		rc = CH_REFUSED;
	}
	g_strfreev(lines);
	g_string_free(missing, TRUE);
	g_string_free(wrong, TRUE);
	return rc;
}

int ch_setup(struct ch_conn *c, const struct clickhouse_cfg *cfg, int *version, char *err,
             size_t errlen)
{
	GString *out, *q;
	int rc, v;

	if ((rc = ch_query(c, "SELECT version()", NULL, 0, SETUP_TIMEOUT_MS, &out, err, errlen)))
		return rc;
	v = ch_version_num(out->str);
	if (version)
		*version = v;
	q = ch_create_sql(cfg, v);
	rc = ch_query(c, q->str, NULL, 0, SETUP_TIMEOUT_MS, NULL, err, errlen);
	if (!rc) {
		g_string_free(q, TRUE);
		q = ch_sessions_sql(cfg, v);
		rc = ch_query(c, q->str, NULL, 0, SETUP_TIMEOUT_MS, NULL, err, errlen);
	}
	if (!rc) { /* a table the operator made must take every field of a row */
		g_string_printf(q,
		                "SELECT name, type FROM system.columns WHERE database = '%s' AND "
		                "table = '%s' FORMAT TabSeparated",
		                cfg->database, cfg->table);
		rc = ch_query(c, q->str, NULL, 0, SETUP_TIMEOUT_MS, &out, err, errlen);
	}
	if (!rc)
		rc = check_columns(out->str, cfg, err, errlen);
	g_string_free(q, TRUE);
	return rc;
}

/* RowBinary: numbers little-endian in their width, strings as a LEB128 length and the
 * bytes. */
static void put_u(GString *out, __u64 v, int bytes)
{
	char b[8];

	for (int i = 0; i < bytes; i++, v >>= 8)
		b[i] = (char)(v & 0xff);
	g_string_append_len(out, b, bytes);
}

static void put_s(GString *out, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	for (size_t v = n;; v >>= 7) {
		g_string_append_c(out, (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
		if (v <= 0x7f)
			break;
	}
	g_string_append_len(out, s ? s : "", (gssize)n);
}

void ch_row(GString *out, const struct record *r, const char *gateway, __s64 m2r)
{
	const struct flow_key *k = &r->key;
	const struct dest_info *d = &r->dest;
	__u64 start_ms = (r->start_ns + m2r) / 1000000, end_ms = (r->end_ns + m2r) / 1000000;
	char src[ADDR_STRLEN], dst[ADDR_STRLEN];
	/* ICMP: type and code in sport and dport, as in the JSON records */
	bool ports = proto_has_ports(k->proto) || proto_is_icmp(k->proto);

	fmt_addr(k->src, k->ip_version, src);
	fmt_addr(k->dst, k->ip_version, dst);
	/* in the order of columns[] */
	put_s(out, gateway);
	put_u(out, r->run, 8);
	put_u(out, r->seq, 8);
	put_u(out, start_ms / 1000, 4);
	put_u(out, end_ms / 1000, 4);
	put_u(out, start_ms, 8);
	put_u(out, end_ms, 8);
	put_s(out, r->user);
	put_s(out, iface_name(k->ifindex));
	put_s(out, r->peer);
	put_s(out, r->endpoint);
	put_s(out, dir_name(k->dir));
	put_u(out, k->ip_version, 1);
	put_u(out, k->proto, 1);
	put_s(out, src);
	put_s(out, dst);
	put_u(out, ports ? k->sport : 0, 2);
	put_u(out, ports ? k->dport : 0, 2);
	put_u(out, r->packets, 8);
	put_u(out, r->bytes, 8);
	put_u(out, r->rev_packets, 8);
	put_u(out, r->rev_bytes, 8);
	put_u(out, r->tcp_flags, 1);
	put_u(out, r->rev_tcp_flags, 1);
	put_s(out, r->end < END_MAX ? end_names[r->end] : "");
	put_s(out, d->name);
	put_s(out, d->name_src < NAME_SRC_MAX ? name_source_names[d->name_src] : "");
	put_u(out, d->ech ? 1 : 0, 1);
	put_u(out, d->asn, 4);
	put_s(out, d->as_name);
	put_s(out, d->country);
}

void ch_session_row(FILE *out, const char *gateway, const struct ch_session *x)
{
	fputs("{\"gateway\":", out);
	json_str(out, gateway);
	fprintf(out,
	        ",\"connect\":%llu,\"disconnect\":%llu,\"connect_ms\":%llu,\"disconnect_ms\":%llu",
	        (unsigned long long)(x->connect_ms / 1000),
	        (unsigned long long)(x->disconnect_ms / 1000), (unsigned long long)x->connect_ms,
	        (unsigned long long)x->disconnect_ms);
	fputs(",\"user\":", out);
	json_str(out, x->user ? x->user : "");
	fputs(",\"iface\":", out);
	json_str(out, x->iface ? x->iface : "");
	fputs(",\"peer\":", out);
	json_str(out, x->peer ? x->peer : "");
	fputs(",\"end_reason\":", out);
	json_str(out, x->end ? x->end : "");
	fprintf(
	    out,
	    ",\"bytes_in\":%llu,\"packets_in\":%llu,\"bytes_out\":%llu,\"packets_out\":%llu}\n",
	    (unsigned long long)x->bytes[DIR_INGRESS], (unsigned long long)x->packets[DIR_INGRESS],
	    (unsigned long long)x->bytes[DIR_EGRESS], (unsigned long long)x->packets[DIR_EGRESS]);
}

/* ---- the sink ---- */

#define CH_EXIT_WAIT_S 3 /* at exit, the server has this long to take the backlog */

struct batch {
	struct batch *next;
	size_t nrec, len;
	char *data;
	size_t nsess, sess_len; /* sessions ended in the same harvests */
	char *sess;
};

struct ch_sink {
	struct sink s;
	struct clickhouse_cfg cfg;
	const char *gateway; /* --gateway-id, in every row */
	char *insert;        /* the INSERT statement */
	char *insert_sess;   /* the sessions' */
	/* building, on the harvest's thread */
	GString *rows; /* RowBinary */
	size_t building;
	FILE *smem; /* sessions */
	char *smembuf;
	size_t smemlen, sbuilding;
	bool finished;
	struct export_stats shown; /* what the last report showed */
	/* shared with the sender, under lock */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	__u64 deadline_ns;
	struct batch *head, *tail;
	struct export_stats st;
	/* the sender's own */
	struct ch_conn *conn;
	bool ready;    /* the table is there */
	bool reported; /* an outage was said, and no delivery since */
	__u64 retry_ns, backoff_ns;
};

static int open_mem(struct ch_sink *k)
{
	k->rows = g_string_sized_new(1 << 16);
	k->smembuf = NULL;
	k->smemlen = 0;
	k->smem = open_memstream(&k->smembuf, &k->smemlen);
	return k->smem ? 0 : -ENOMEM;
}

/* The rows built so far go to the sender as one batch, or are counted lost when the
 * backlog is full. */
static void emit(struct ch_sink *k)
{
	struct batch *b;
	size_t len;

	if ((!k->building && !k->sbuilding) || !k->rows || !k->smem)
		return;
	fclose(k->smem);
	len = k->rows->len;
	b = malloc(sizeof(*b));
	pthread_mutex_lock(&k->lock);
	if (!b || !k->smembuf || k->st.backlog + k->building > k->cfg.backlog) {
		k->st.failures += k->building;
		free(b);
		g_string_free(k->rows, TRUE);
		free(k->smembuf);
	} else {
		*b = (struct batch){.nrec = k->building,
		                    .len = len,
		                    .data = g_string_free(k->rows, FALSE),
		                    .nsess = k->sbuilding,
		                    .sess_len = k->smemlen,
		                    .sess = k->smembuf};
		if (k->tail)
			k->tail->next = b;
		else
			k->head = b;
		k->tail = b;
		k->st.backlog += b->nrec;
		pthread_cond_signal(&k->cond);
	}
	pthread_mutex_unlock(&k->lock);
	k->building = k->sbuilding = 0;
	if (open_mem(k)) { /* every later record counts as lost (below) */
		g_string_free(k->rows, TRUE);
		k->rows = NULL;
	}
}

static void ch_sink_record(struct sink *s, const struct record *rec, const struct report *r)
{
	struct ch_sink *k = (struct ch_sink *)s;

	if (k->finished || !k->rows) {
		pthread_mutex_lock(&k->lock);
		k->st.failures++;
		pthread_mutex_unlock(&k->lock);
		return;
	}
	ch_row(k->rows, rec, k->gateway, r->mono_to_real_ns);
	if (++k->building >= BATCH_MAX)
		emit(k);
}

/* The first batch in line is done with: delivered, or lost. */
static void pop(struct ch_sink *k, bool sent)
{
	struct batch *b = k->head;

	if (sent)
		k->st.records += b->nrec;
	else
		k->st.failures += b->nrec;
	k->st.backlog -= b->nrec;
	k->head = b->next;
	if (!k->head)
		k->tail = NULL;
	g_free(b->data);
	free(b->sess);
	free(b);
}

/* Under the lock: the batches behind the first join it, up to BATCH_MAX rows, so a
 * server that was away gets one insert for many harvests (each insert makes a part,
 * and a table with too many parts refuses inserts). */
static void coalesce(struct ch_sink *k)
{
	struct batch *h = k->head, *n;

	while (h && (n = h->next) && h->nrec + n->nrec <= BATCH_MAX) {
		char *d = g_try_realloc(h->data, h->len + n->len);

		if (!d)
			break;
		h->data = d;
		if (n->nsess && h->nsess) {
			char *x = realloc(h->sess, h->sess_len + n->sess_len);

			if (!x)
				break;
			memcpy(x + h->sess_len, n->sess, n->sess_len);
			h->sess = x;
			h->sess_len += n->sess_len;
			h->nsess += n->nsess;
		} else if (n->nsess) { /* the first's sessions were sent already, or none */
			free(h->sess);
			h->sess = n->sess;
			h->sess_len = n->sess_len;
			h->nsess = n->nsess;
			n->sess = NULL;
		}
		memcpy(h->data + h->len, n->data, n->len);
		h->len += n->len;
		h->nrec += n->nrec;
		h->next = n->next;
		if (k->tail == n)
			k->tail = h;
		g_free(n->data);
		free(n->sess);
		free(n);
	}
}

/* One try at the first batch: CH_OK, CH_UNREACHABLE or CH_REFUSED (err says why). */
static int deliver(struct ch_sink *k, struct batch *b, long timeout_ms, char *err, size_t errlen)
{
	int rc;

	if (!k->ready) {
		if ((rc = ch_setup(k->conn, &k->cfg, NULL, err, errlen)))
			return rc;
		k->ready = true;
	}
	if (b->nsess) { /* first, and once: a retry sends only what is left */
		rc = ch_query(k->conn, k->insert_sess, b->sess, b->sess_len, timeout_ms, NULL, err,
		              errlen);
		if (rc) {
			if (rc == CH_REFUSED)
				k->ready = false;
			return rc;
		}
		b->nsess = 0;
	}
	if (!b->nrec)
		return CH_OK;
	rc = ch_query(k->conn, k->insert, b->data, b->len, timeout_ms, NULL, err, errlen);
	if (rc == CH_REFUSED)
		k->ready = false; /* the table may be gone: make it again before the next try */
	return rc;
}

static void *sender(void *arg)
{
	struct ch_sink *k = arg;
	char err[512];

	pthread_mutex_lock(&k->lock);
	for (;;) {
		__u64 now = now_ns(CLOCK_MONOTONIC), until;
		long timeout_ms = INSERT_TIMEOUT_MS;
		int rc;

		if (!k->head) {
			if (k->stop)
				break;
			pthread_cond_wait(&k->cond, &k->lock);
			continue;
		}
		if (k->stop && now >= k->deadline_ns)
			break;
		if (now < k->retry_ns) { /* backing off (stopping: no later than the deadline) */
			until =
			    k->stop && k->deadline_ns < k->retry_ns ? k->deadline_ns : k->retry_ns;
			pthread_cond_timedwait(
			    &k->cond, &k->lock,
			    &(struct timespec){.tv_sec = until / 1000000000ull,
			                       .tv_nsec = until % 1000000000ull});
			continue;
		}
		if (k->stop && (k->deadline_ns - now) / 1000000 < (__u64)timeout_ms)
			timeout_ms = (k->deadline_ns - now) / 1000000 + 1;
		coalesce(k);
		pthread_mutex_unlock(&k->lock);
		rc = deliver(k, k->head, timeout_ms, err, sizeof(err)); /* only we take the head */
		if (rc && !k->reported) {
			pr_warn(
			    "ClickHouse %s: %s; records wait for it (up to --clickhouse-backlog) "
			    "and tunflow retries",
			    ch_server(k->conn), err);
			k->reported = true;
		} else if (!rc && k->reported) {
			pr_info("ClickHouse %s: delivering again", ch_server(k->conn));
			k->reported = false;
		}
		pthread_mutex_lock(&k->lock);
		if (rc && !(rc == CH_REFUSED && strstr(err, "(HTTP 400)"))) {
			/* the batch stays first in line; the next try waits longer */
			k->retry_ns = now_ns(CLOCK_MONOTONIC) + k->backoff_ns;
			k->backoff_ns =
			    k->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : k->backoff_ns * 2;
			continue;
		}
		/* delivered, or refused as malformed: sending it again would not help */
		if (rc)
			pr_warn("ClickHouse %s: a batch of %zu records refused: %s",
			        ch_server(k->conn), k->head->nrec, err);
		k->backoff_ns = BACKOFF_MIN_NS;
		pop(k, !rc);
	}
	while (k->head) /* stopping, out of time: what still waits is lost */
		pop(k, false);
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static void finish(struct ch_sink *k, double wait_s)
{
	if (k->finished)
		return;
	emit(k);
	k->finished = true;
	pthread_mutex_lock(&k->lock);
	k->stop = true;
	k->deadline_ns = now_ns(CLOCK_MONOTONIC) + (__u64)(wait_s * 1e9);
	k->retry_ns = 0; /* one more try now, whatever the backoff */
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
	if (k->started)
		pthread_join(k->thread, NULL);
	k->started = false;
}

/* The sessions that ended in this harvest (as the store keeps them): interfaces that
 * went, and WireGuard peer sessions. */
static void add_sessions(struct ch_sink *k, const struct report *r)
{
	if (k->finished || !k->smem)
		return;
	for (size_t i = 0; i < r->ngone; i++) {
		const struct iface_total *t = &r->gone[i];
		struct ch_session x = {
		    .user = t->user,
		    .iface = iface_name(t->ifindex),
		    .end = r->final ? "tunflow exit" : "interface gone",
		    .connect_ms = (t->first_ns + r->mono_to_real_ns) / 1000000,
		    .disconnect_ms =
		        ((t->last_ns ? t->last_ns : t->first_ns) + r->mono_to_real_ns) / 1000000};

		if (!t->first_ns)
			continue;
		memcpy(x.bytes, t->bytes, sizeof(x.bytes));
		memcpy(x.packets, t->packets, sizeof(x.packets));
		ch_session_row(k->smem, k->gateway, &x);
		k->sbuilding++;
	}
	for (size_t i = 0; i < r->nsessions; i++) {
		const struct peer_session *p = &r->sessions[i];
		struct ch_session x = {.user = p->user,
		                       .iface = p->ifname,
		                       .peer = p->peer,
		                       .end = session_end_names[p->end],
		                       .connect_ms = p->start_ns / 1000000,
		                       .disconnect_ms = p->end_ns / 1000000};

		memcpy(x.bytes, p->bytes, sizeof(x.bytes));
		memcpy(x.packets, p->packets, sizeof(x.packets));
		ch_session_row(k->smem, k->gateway, &x);
		k->sbuilding++;
	}
}

static void ch_sink_prepare(struct sink *s, struct report *r)
{
	struct ch_sink *k = (struct ch_sink *)s;

	add_sessions(k, r);
	if (r->final)
		finish(k, CH_EXIT_WAIT_S);
	else
		emit(k);
	pthread_mutex_lock(&k->lock);
	k->shown = k->st;
	pthread_mutex_unlock(&k->lock);
	r->clickhouse = &k->shown;
}

static int ch_sink_report(struct sink *s, const struct report *r)
{
	(void)s, (void)r;
	return 0; /* failures are counted in the report, they never stop tunflow */
}

static void ch_sink_close(struct sink *s)
{
	struct ch_sink *k = (struct ch_sink *)s;

	finish(k, 0);
	if (k->rows)
		g_string_free(k->rows, TRUE);
	if (k->smem)
		fclose(k->smem);
	free(k->smembuf);
	ch_conn_free(k->conn);
	g_free(k->insert);
	g_free(k->insert_sess);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->cond);
	free(k);
}

struct sink *clickhouse_sink_new(const struct clickhouse_cfg *cfg, const char *gateway)
{
	struct ch_sink *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	char err[512];
	int version = 0, rc;

	if (!k) {
		pr_err("out of memory");
		return NULL;
	}
	k->cfg = *cfg;
	k->gateway = gateway;
	k->backoff_ns = BACKOFF_MIN_NS;
	pthread_mutex_init(&k->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	k->s = (struct sink){.name = "ClickHouse",
	                     .record = ch_sink_record,
	                     .changes_only = true, /* records only */
	                     .prepare = ch_sink_prepare,
	                     .report = ch_sink_report,
	                     .close = ch_sink_close};
	k->insert = g_string_free(ch_insert_sql(cfg), FALSE);
	k->insert_sess = g_strdup_printf("INSERT INTO %s.%s_sessions FORMAT JSONEachRow",
	                                 cfg->database, cfg->table);
	if (!(k->conn = ch_conn_new(cfg)) || open_mem(k))
		goto fail;
	/* A server that answers must take us now: a wrong password or database is an
	 * error of the configuration, said at start. One that does not answer may come. */
	rc = ch_setup(k->conn, cfg, &version, err, sizeof(err));
	if (rc == CH_REFUSED) {
		pr_err("ClickHouse %s: %s", ch_server(k->conn), err);
		goto fail;
	}
	if (rc == CH_UNREACHABLE) {
		pr_warn("ClickHouse %s: %s; records wait for it (up to --clickhouse-backlog) and "
		        "tunflow retries",
		        ch_server(k->conn), err);
		k->reported = true;
	} else {
		k->ready = true;
		pr_info("ClickHouse %s: server %d.%d, table %s.%s%s", ch_server(k->conn),
		        version / 1000, version % 1000, cfg->database, cfg->table,
		        cfg->ttl_days && version < TTL_VERSION
		            ? " (a new table gets no TTL before ClickHouse 19.6)"
		            : "");
	}
	if (pthread_create(&k->thread, NULL, sender, k)) {
		pr_err("ClickHouse: cannot start the sender thread");
		goto fail;
	}
	k->started = true;
	return &k->s;
fail:
	ch_sink_close(&k->s);
	return NULL;
}

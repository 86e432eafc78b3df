// SPDX-License-Identifier: GPL-2.0-only
/* The report queries in ClickHouse: the same questions and columns as the embedded
 * store's (history/store_report.c), over the table --clickhouse fills (its schema:
 * docs/clickhouse.md), read over HTTP as TabSeparated. A record belongs to the time it
 * ended; "in" is what the user sent (the initiator's bytes when it came in on the
 * tunnel, the responder's otherwise); sessions are in TABLE_sessions, by their
 * disconnect. FINAL collapses records sent twice. SQL that
 * ClickHouse 18.16 runs, as every later version. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "history/backend.h"
#include "history/clickhouse_report.h"
#include "sinks/clickhouse.h"

#define MS 1000000LL /* ns per ms */
#define QUERY_TIMEOUT_MS 300000

/* the record's sides from the user's view */
#define IN_(x, y) "if(dir = 'ingress', " x ", " y ")"
#define SUMS                                                                                       \
	"sum(" IN_("bytes", "rev_bytes") "), sum(" IN_(                                            \
	    "rev_bytes", "bytes") "), "                                                            \
	                          "sum(" IN_("packets", "rev_packets") "), sum(" IN_(              \
	                              "rev_packets", "packets") "), "                              \
	                                                        "count()"
#define RADDR IN_("dst", "src")
#define RADDR_NUM "IPv6StringToNum(if(ip_version = 4, concat('::ffff:', " RADDR "), " RADDR "))"
#define TOTAL "sum(bytes) + sum(rev_bytes)"

/* s as a ClickHouse string literal */
static void quote(GString *sql, const char *s)
{
	g_string_append_c(sql, '\'');
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			g_string_append_c(sql, '\\');
		g_string_append_c(sql, *s);
	}
	g_string_append_c(sql, '\'');
}

static void hex(GString *sql, const __u8 a[16])
{
	g_string_append(sql, "unhex('");
	for (int i = 0; i < 16; i++)
		g_string_append_printf(sql, "%02X", a[i]);
	g_string_append(sql, "')");
}

/* tcol: the time a row belongs to (records: their end; sessions: the disconnect) */
static void where_t(GString *sql, const struct history_query *q, const char *tcol)
{
	g_string_append(sql, " WHERE 1");
	if (q->since_ns)
		g_string_append_printf(sql, " AND %s >= %lld", tcol, (long long)(q->since_ns / MS));
	if (q->until_ns)
		g_string_append_printf(sql, " AND %s < %lld", tcol, (long long)(q->until_ns / MS));
	if (q->user) {
		g_string_append(sql, " AND user = ");
		quote(sql, q->user);
	}
	if (q->gateway) {
		g_string_append(sql, " AND gateway = ");
		quote(sql, q->gateway);
	}
}

static void where(GString *sql, const struct history_query *q) { where_t(sql, q, "end_ms"); }

static void from(GString *sql, const char *db, const char *table)
{
	g_string_append_printf(sql, " FROM %s.%s FINAL", db, table);
}

/* Columns as report_columns() has them, with the same order of rows as the store's. */
static void build(GString *sql, const struct history_query *q, const char *db, const char *t)
{
	const char *key = q->by == BY_IFACE ? "iface" : "user";

	switch (q->kind) {
	case REP_USAGE:
		g_string_append(sql, "SELECT ");
		if (q->per)
			g_string_append_printf(sql, "end_ms - end_ms %% %s AS p, ",
			                       q->per == PER_DAY ? "86400000" : "3600000");
		g_string_append_printf(sql, "%s, " SUMS, key);
		from(sql, db, t);
		where(sql, q);
		g_string_append_printf(sql, " GROUP BY %s%s ORDER BY %s%s", q->per ? "p, " : "",
		                       key, q->per ? "p, " : "", key);
		break;
	case REP_TOP:
		if (q->by == BY_NAME)
			g_string_append(sql, "SELECT user, dest_name, uniqExact(" RADDR "), ");
		else
			g_string_append(sql, "SELECT user, " RADDR " AS raddr, max(dest_name), ");
		g_string_append(sql, SUMS ", min(start_ms), max(end_ms)");
		from(sql, db, t);
		where(sql, q);
		if (q->by == BY_NAME)
			g_string_append(
			    sql, " AND dest_name != '' GROUP BY user, dest_name ORDER BY " TOTAL
			         " DESC, dest_name");
		else
			g_string_append(sql, " GROUP BY user, raddr ORDER BY " TOTAL
			                     " DESC, any(" RADDR_NUM ")");
		g_string_append_printf(sql, " LIMIT %u", q->limit);
		break;
	case REP_WHO:
		g_string_append(sql, "SELECT user, min(start_ms), max(end_ms), uniqExact(" RADDR
		                     "), " SUMS);
		from(sql, db, t);
		where(sql, q);
		if (q->target.kind == TARGET_PREFIX) {
			g_string_append(sql, " AND " RADDR_NUM " >= ");
			hex(sql, q->target.lo);
			g_string_append(sql, " AND " RADDR_NUM " <= ");
			hex(sql, q->target.hi);
		} else {
			g_string_append(sql, " AND (lower(dest_name) = ");
			quote(sql, q->target.name ? q->target.name : "");
			g_string_append(sql, " OR endsWith(lower(dest_name), ");
			g_string_append(sql, "concat('.', ");
			quote(sql, q->target.name ? q->target.name : "");
			g_string_append(sql, ")))");
		}
		g_string_append(sql, " GROUP BY user ORDER BY " TOTAL " DESC, user");
		break;
	default:
		g_string_append_printf(
		    sql,
		    "SELECT user, iface, connect_ms, disconnect_ms, disconnect_ms - "
		    "connect_ms, bytes_in, bytes_out, packets_in, packets_out, "
		    "end_reason, gateway FROM %s.%s_sessions FINAL",
		    db, t);
		where_t(sql, q, "disconnect_ms");
		g_string_append(sql, " ORDER BY connect_ms, user");
		break;
	}
	g_string_append(sql, " FORMAT TabSeparated");
}

/* A TabSeparated field, unescaped in place. */
static char *unescape(char *s)
{
	char *o = s, *r = s;

	for (; *r; r++) {
		if (*r != '\\' || !r[1]) {
			*o++ = *r;
			continue;
		}
		switch (*++r) {
		case 't':
			*o++ = '\t';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case '0':
			*o++ = ' '; /* a NUL in a name: shown as a space, cleaned later */
			break;
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		default:
			*o++ = *r;
		}
	}
	*o = 0;
	return s;
}

int ch_rows_parse(char *body, struct rows *out, char *err, size_t errlen, const char *server)
{
	struct cell *cells = g_new0(struct cell, out->ncols);
	char *line, *next;
	int ret = 0;

	for (line = body; line && *line; line = next) {
		char *f = line, *tab;
		size_t i;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		for (i = 0; i < out->ncols && f; i++, f = tab) {
			struct cell *c = &cells[i];

			tab = strchr(f, '\t');
			if (tab)
				*tab++ = 0;
			memset(c, 0, sizeof(*c));
			if (!strcmp(f, "\\N")) {
				c->null = true;
			} else if (out->cols[i].type == COL_TEXT) {
				c->s = *f ? unescape(f)
				          : NULL; /* "": not known, as the store's NULL */
			} else {
				c->i = strtoll(f, NULL, 10);
				/* times: ms in the table; one past what ns hold is unknown */
				if (out->cols[i].type != COL_INT &&
				    out->cols[i].type != COL_BYTES &&
				    __builtin_mul_overflow(c->i, MS, &c->i)) {
					c->i = 0;
					c->null = true;
				}
			}
		}
		if (i != out->ncols || f) {
			snprintf(err, errlen, "ClickHouse %s: an answer of %zu columns, not %zu",
			         server, i, out->ncols);
			ret = -EPROTO;
			break;
		}
		rows_add(out, cells);
	}
	g_free(cells);
	return ret;
}

struct ch_backend {
	struct history_backend b;
	struct clickhouse_cfg cfg;
	struct ch_conn *conn;
};

static int chb_query(struct history_backend *b, const struct history_query *q, struct rows *out,
                     char *err, size_t errlen)
{
	struct ch_backend *cb = (struct ch_backend *)b;
	GString *sql, *ans;
	char why[512];
	int rc;

	sql = g_string_new(NULL);
	build(sql, q, cb->cfg.database, cb->cfg.table);
	rc = ch_query(cb->conn, sql->str, NULL, 0, QUERY_TIMEOUT_MS, &ans, why, sizeof(why));
	g_string_free(sql, TRUE);
	if (rc) {
		snprintf(err, errlen, "ClickHouse %s: %s", ch_server(cb->conn), why);
		return -EIO;
	}
	return ch_rows_parse(ans->str, out, err, errlen, ch_server(cb->conn));
}

static void chb_close(struct history_backend *b)
{
	ch_conn_free(((struct ch_backend *)b)->conn);
	g_free(b);
}

struct history_backend *clickhouse_backend_open(const struct history_args *a, char *err,
                                                size_t errlen)
{
	struct ch_backend *cb = g_new0(struct ch_backend, 1);

	cb->cfg = (struct clickhouse_cfg){.url = a->clickhouse,
	                                  .user = a->ch_user,
	                                  .password_file = a->ch_password_file,
	                                  .database = a->ch_database ? a->ch_database : "default",
	                                  .table = a->ch_table ? a->ch_table : "tunflow_flows",
	                                  .ca_file = a->ch_ca,
	                                  .insecure = a->ch_insecure};
	if (!(cb->conn = ch_conn_open(&cb->cfg, err, errlen))) {
		g_free(cb);
		return NULL;
	}
	cb->b.name = ch_server(cb->conn);
	cb->b.query = chb_query;
	cb->b.close = chb_close;
	return &cb->b;
}

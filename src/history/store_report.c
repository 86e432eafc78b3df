// SPDX-License-Identifier: GPL-2.0-only
/* The report queries over the embedded store, and the store as a history backend. A
 * record belongs to the time it ended (records last at most --active-timeout):
 * --since and --until select on its end. Usage reads the hourly rollup when the range is
 * whole hours, else the records. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <sqlite3.h>
#include "history/store_db.h"
#include "util/fmt.h"

#define MS 1000000LL /* ns per ms */
#define HOUR_NS 3600000000000LL

/* ?1 since, ?2 until (ms), ?3 user, ?4 gateway, ?5 ?6 the prefix's first and last
 * address, ?7 a name, ?8 the limit */
static void where(GString *sql, const struct history_query *q, const char *tcol, const char *t)
{
	g_string_append(sql, " WHERE 1");
	if (q->since_ns)
		g_string_append_printf(sql, " AND %s.%s >= ?1", t, tcol);
	if (q->until_ns)
		g_string_append_printf(sql, " AND %s.%s < ?2", t, tcol);
	if (q->user)
		g_string_append_printf(sql, " AND %s.user = (SELECT id FROM names WHERE name = ?3)",
		                       t);
	if (q->gateway)
		g_string_append_printf(
		    sql, " AND %s.gateway = (SELECT id FROM names WHERE name = ?4)", t);
}

static void usage_sql(GString *sql, const struct history_query *q)
{
	bool rollup = q->since_ns % HOUR_NS == 0 && q->until_ns % HOUR_NS == 0;
	const char *tcol = rollup ? "hour_ms" : "end_ms";
	const char *key = q->by == BY_IFACE ? "iface" : "user";

	g_string_append(sql, "SELECT ");
	if (q->per == PER_DAY)
		g_string_append_printf(sql, "x.%s - x.%s %% 86400000 AS p, ", tcol, tcol);
	else if (q->per == PER_HOUR)
		g_string_append_printf(sql, "x.%s - x.%s %% 3600000 AS p, ", tcol, tcol);
	g_string_append_printf(sql,
	                       "k.name, sum(x.bytes_in), sum(x.bytes_out), sum(x.packets_in), "
	                       "sum(x.packets_out), %s FROM %s x LEFT JOIN names k ON k.id = x.%s",
	                       rollup ? "sum(x.flows)" : "count(*)",
	                       rollup ? "usage_hour" : "records", key);
	where(sql, q, tcol, "x");
	g_string_append_printf(sql, " GROUP BY %sx.%s ORDER BY %sk.name", q->per ? "p, " : "", key,
	                       q->per ? "p, " : "");
}

static void top_sql(GString *sql, const struct history_query *q)
{
	if (q->by == BY_NAME)
		g_string_append(sql, "SELECT u.name, n.name, count(DISTINCT x.raddr),");
	else
		g_string_append(sql, "SELECT u.name, x.raddr, max(n.name),");
	g_string_append(sql, " sum(x.bytes_in), sum(x.bytes_out), sum(x.packets_in),"
	                     " sum(x.packets_out), count(*), min(x.start_ms), max(x.end_ms)"
	                     " FROM records x LEFT JOIN names u ON u.id = x.user"
	                     " LEFT JOIN names n ON n.id = x.name");
	where(sql, q, "end_ms", "x");
	if (q->by == BY_NAME)
		g_string_append(sql, " AND x.name IS NOT NULL GROUP BY x.user, x.name");
	else
		g_string_append(sql, " GROUP BY x.user, x.raddr");
	g_string_append(sql, " ORDER BY sum(x.bytes_in) + sum(x.bytes_out) DESC, 2 LIMIT ?8");
}

static void who_sql(GString *sql, const struct history_query *q)
{
	g_string_append(sql, "SELECT u.name, min(x.start_ms), max(x.end_ms), count(DISTINCT "
	                     "x.raddr), sum(x.bytes_in), sum(x.bytes_out), sum(x.packets_in), "
	                     "sum(x.packets_out), count(*) FROM records x LEFT JOIN names u ON "
	                     "u.id = x.user");
	where(sql, q, "end_ms", "x");
	if (q->target.kind == TARGET_PREFIX)
		g_string_append(sql, " AND x.raddr BETWEEN ?5 AND ?6");
	else
		g_string_append(sql, " AND x.name IN (SELECT id FROM names WHERE lower(name) = ?7 "
		                     "OR substr(lower(name), -length(?7) - 1) = '.' || ?7)");
	g_string_append(sql, " GROUP BY x.user ORDER BY sum(x.bytes_in) + sum(x.bytes_out) DESC, "
	                     "u.name");
}

static void sessions_sql(GString *sql, const struct history_query *q)
{
	g_string_append(sql, "SELECT u.name, i.name, x.connect_ms, x.disconnect_ms, "
	                     "x.disconnect_ms - x.connect_ms, x.bytes_in, x.bytes_out, "
	                     "x.packets_in, x.packets_out, x.end, g.name FROM sessions x "
	                     "LEFT JOIN names u ON u.id = x.user LEFT JOIN names i ON i.id = "
	                     "x.iface LEFT JOIN names g ON g.id = x.gateway");
	where(sql, q, "disconnect_ms", "x");
	g_string_append(sql, " ORDER BY x.connect_ms, u.name");
}

/* One result row into cells, by the column types. */
static void fill(sqlite3_stmt *s, const struct column *cols, size_t n, struct cell *cells)
{
	for (size_t i = 0; i < n; i++) {
		struct cell *c = &cells[i];
		int t = sqlite3_column_type(s, (int)i);

		memset(c, 0, sizeof(*c));
		if (t == SQLITE_NULL) {
			c->null = true;
			continue;
		}
		switch (cols[i].type) {
		case COL_TEXT:
			if (t == SQLITE_BLOB && sqlite3_column_bytes(s, (int)i) == 16) {
				static const __u8 mapped[12] = {[10] = 0xff, [11] = 0xff};
				const __u8 *a = sqlite3_column_blob(s, (int)i);
				static char buf[ADDR_STRLEN];

				fmt_addr(a, memcmp(a, mapped, 12) ? 6 : 4, buf);
				c->s = buf; /* copied by rows_add before the next row */
			} else {
				c->s = (const char *)sqlite3_column_text(s, (int)i);
			}
			break;
		case COL_INT:
		case COL_BYTES:
			c->i = sqlite3_column_int64(s, (int)i);
			break;
		default: /* times and durations: ms in the store */
			c->i = sqlite3_column_int64(s, (int)i) * MS;
			break;
		}
	}
}

int store_query(struct store *st, const struct history_query *q, struct rows *out, char *err,
                size_t errlen)
{
	sqlite3 *db = store_db_handle(st);
	GString *sql = g_string_new(NULL);
	struct cell *cells = g_new0(struct cell, out->ncols);
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	switch (q->kind) {
	case REP_USAGE:
		usage_sql(sql, q);
		break;
	case REP_TOP:
		top_sql(sql, q);
		break;
	case REP_WHO:
		who_sql(sql, q);
		break;
	default:
		sessions_sql(sql, q);
		break;
	}
	if (sqlite3_prepare_v2(db, sql->str, -1, &s, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "store %s: cannot query it: %s", store_path(st),
		         sqlite3_errmsg(db));
		ret = -EIO;
		goto out;
	}
	/* not every statement has every parameter: SQLITE_RANGE is fine */
	sqlite3_bind_int64(s, 1, q->since_ns / MS);
	sqlite3_bind_int64(s, 2, q->until_ns / MS);
	if (q->user)
		sqlite3_bind_text(s, 3, q->user, -1, SQLITE_STATIC);
	if (q->gateway)
		sqlite3_bind_text(s, 4, q->gateway, -1, SQLITE_STATIC);
	sqlite3_bind_blob(s, 5, q->target.lo, 16, SQLITE_STATIC);
	sqlite3_bind_blob(s, 6, q->target.hi, 16, SQLITE_STATIC);
	if (q->target.name)
		sqlite3_bind_text(s, 7, q->target.name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, q->limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		fill(s, out->cols, out->ncols, cells);
		rows_add(out, cells);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "store %s: cannot query it: %s", store_path(st),
		         sqlite3_errmsg(db));
		ret = -EIO;
	}
out:
	sqlite3_finalize(s);
	g_free(cells);
	g_string_free(sql, TRUE);
	return ret;
}

/* The store as a history backend. */
struct store_backend {
	struct history_backend b;
	struct store *st;
};

static int sb_query(struct history_backend *b, const struct history_query *q, struct rows *out,
                    char *err, size_t errlen)
{
	return store_query(((struct store_backend *)b)->st, q, out, err, errlen);
}

static void sb_close(struct history_backend *b)
{
	store_close(((struct store_backend *)b)->st);
	g_free(b);
}

struct history_backend *store_backend_open(const struct history_args *a, char *err, size_t errlen)
{
	struct store *st = store_open(a->store, true, err, errlen);
	struct store_backend *sb;

	if (!st)
		return NULL;
	sb = g_new0(struct store_backend, 1);
	sb->st = st;
	sb->b.name = a->store;
	sb->b.query = sb_query;
	sb->b.close = sb_close;
	return &sb->b;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The report queries over the embedded store, and the store as a history backend. A
 * record belongs to the time it ended (records last at most --active-timeout):
 * --since and --until select on its end. Usage reads the hourly rollup when the range is
 * whole hours, else the records. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <sqlite3.h>
#include "history/store_db.h"
#include "util/fmt.h"

#define MS 1000000LL /* ns per ms */
#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

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

/* --user and --gateway */
static void filters(GString *sql, const struct history_query *q)
{
	if (q->user)
		g_string_append(sql, " AND user = (SELECT id FROM names WHERE name = ?3)");
	if (q->gateway)
		g_string_append(sql, " AND gateway = (SELECT id FROM names WHERE name = ?4)");
}

/* Usage: the whole days of the range from the daily rollup (?11 to ?12), the other whole
 * hours from the hourly one (?9 to ?11, ?12 to ?10), the hours cut by --since and --until
 * from the records (?1 to ?9, ?10 to ?2): exact, and fast over months. */
static void usage_sql(GString *sql, const struct history_query *q)
{
	const char *key = q->by == BY_IFACE ? "iface" : "user";
	const char *period = q->per == PER_DAY    ? "t - t % 86400000 AS p, "
	                     : q->per == PER_HOUR ? "t - t % 3600000 AS p, "
	                                          : "";

	g_string_append_printf(sql,
	                       "SELECT %sk.name, y.bi, y.bo, y.pi, y.po, y.f FROM (SELECT %s%s AS "
	                       "key, sum(bytes_in) AS bi, sum(bytes_out) AS bo, sum(packets_in) "
	                       "AS pi, sum(packets_out) AS po, sum(flows) AS f FROM (",
	                       q->per ? "y.p, " : "", period, key);
	g_string_append(sql, "SELECT day_ms AS t, user, iface, bytes_in, bytes_out, packets_in, "
	                     "packets_out, flows FROM usage_day WHERE day_ms >= ?11 AND day_ms < "
	                     "?12");
	filters(sql, q);
	g_string_append(sql, " UNION ALL SELECT hour_ms, user, iface, bytes_in, bytes_out, "
	                     "packets_in, packets_out, flows FROM usage_hour WHERE ((hour_ms >= ?9 "
	                     "AND hour_ms < ?11) OR (hour_ms >= ?12 AND hour_ms < ?10))");
	filters(sql, q);
	g_string_append(sql, " UNION ALL SELECT end_ms, coalesce(user, 0), coalesce(iface, 0), "
	                     "bytes_in, bytes_out, packets_in, packets_out, 1 FROM records WHERE "
	                     "((end_ms >= ?1 AND end_ms < ?9) OR (end_ms >= ?10 AND end_ms < ?2))");
	filters(sql, q);
	g_string_append_printf(sql,
	                       ") GROUP BY %skey) y LEFT JOIN names k ON k.id = y.key ORDER BY "
	                       "%sk.name",
	                       q->per ? "p, " : "", q->per ? "y.p, " : "");
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
	/* ms; the whole hours in [since, until): [hours_from, hours_to) */
	__s64 since = q->since_ns / MS, until = q->until_ns ? q->until_ns / MS : INT64_MAX;
	__s64 hours_from = (since + HOUR_MS - 1) / HOUR_MS * HOUR_MS,
	      hours_to = q->until_ns ? until / HOUR_MS * HOUR_MS : INT64_MAX;

	__s64 days_from = (hours_from + DAY_MS - 1) / DAY_MS * DAY_MS,
	      days_to = q->until_ns ? hours_to / DAY_MS * DAY_MS : INT64_MAX;

	if (hours_from > hours_to) /* within one hour: the records alone */
		hours_from = hours_to = since;
	if (days_from > days_to || q->per == PER_HOUR) /* no whole day, or hours wanted */
		days_from = days_to = hours_from;
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
	sqlite3_bind_int64(s, 1, since);
	sqlite3_bind_int64(s, 2, until);
	sqlite3_bind_int64(s, 9, hours_from);
	sqlite3_bind_int64(s, 10, hours_to);
	sqlite3_bind_int64(s, 11, days_from);
	sqlite3_bind_int64(s, 12, days_to);
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

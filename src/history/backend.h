/* SPDX-License-Identifier: GPL-2.0-only */
/* `tunflow report`: the questions asked of a history (struct history_query), the rows
 * that answer them (struct rows: typed columns, printed as a table, JSON or CSV in one
 * place, rows.c) and the interface every history backend fills (struct history_backend:
 * the embedded store, ClickHouse). A backend runs one query and adds its rows in the
 * columns report_columns() names for it; it knows nothing of output formats, and the
 * command (report.c) knows nothing of SQL. */
#ifndef TUNFLOW_HISTORY_BACKEND_H
#define TUNFLOW_HISTORY_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <glib.h>
#include <linux/types.h>

enum report_kind { REP_USAGE, REP_TOP, REP_WHO, REP_SESSIONS, REP_KIND_MAX };
enum report_by { BY_USER, BY_IFACE, BY_ADDRESS, BY_NAME };
enum report_per { PER_NONE, PER_DAY, PER_HOUR };
enum report_format { FMT_TABLE, FMT_JSON, FMT_CSV };

/* What `tunflow report who` asks about: an address, a prefix, or a destination name (the
 * name itself or any name under it: "example.com" finds "www.example.com"). */
struct report_target {
	enum { TARGET_NONE, TARGET_PREFIX, TARGET_NAME } kind;
	__u8 lo[16], hi[16]; /* PREFIX: the first and last address, IPv4 mapped (::ffff:a.b.c.d) */
	int ip_version;      /* PREFIX: 4 or 6 */
	const char *name;    /* NAME: lower case */
};

/* One report. Times are CLOCK_REALTIME in ns since the epoch; days and hours are UTC. */
struct history_query {
	enum report_kind kind;
	__s64 since_ns, until_ns;    /* [since, until); 0: open */
	enum report_by by;           /* usage: BY_USER or BY_IFACE; top: BY_ADDRESS or BY_NAME */
	enum report_per per;         /* usage: one row per user (or iface) and day or hour */
	const char *user;            /* --user: only this user's records */
	const char *gateway;         /* --gateway: only this gateway's records; NULL: all */
	struct report_target target; /* who */
	unsigned limit;              /* top: rows at most */
};

/* The type of a column: how each output writes its values. */
enum col_type {
	COL_TEXT,    /* a string (cleaned where it entered); NULL: unknown */
	COL_INT,     /* a signed 64-bit number */
	COL_BYTES,   /* a count of bytes: a number in JSON and CSV, k/M/G in the table */
	COL_TIME,    /* ns since the epoch: RFC 3339 UTC with milliseconds */
	COL_DAY,     /* ns since the epoch, a day's start: "2026-11-27" */
	COL_HOUR,    /* ns since the epoch, an hour's start: "2026-11-27T14:00Z" */
	COL_SECONDS, /* a duration in ns: seconds with 3 decimals */
};

struct column {
	const char *name; /* the JSON key and the CSV and table header */
	enum col_type type;
};

/* One value: s for COL_TEXT (NULL: null), i for the others; null for an unknown one. */
struct cell {
	const char *s;
	__s64 i;
	bool null;
};

/* The answer to one query: ncols columns, rows of cells in the same order. */
struct rows {
	const struct column *cols;
	size_t ncols;
	GArray *cells;       /* struct cell, ncols per row */
	GStringChunk *texts; /* the strings the cells point into */
};

/* The columns of q's answer, in order (the same for every backend). */
const struct column *report_columns(const struct history_query *q, size_t *n);

void rows_init(struct rows *r, const struct column *cols, size_t ncols);
/* One row: cells[ncols], strings copied. */
void rows_add(struct rows *r, const struct cell *cells);
size_t rows_count(const struct rows *r);
const struct cell *rows_row(const struct rows *r, size_t i);
void rows_free(struct rows *r);
/* The rows as a table (a header, columns aligned, bytes as k/M/G), JSON (one object a
 * line, numbers as numbers, null for unknown) or CSV (a header line). 0, or -errno of a
 * failed write. */
int rows_print(FILE *out, const struct rows *r, enum report_format fmt);

/* A history that answers reports: the store (history/store_db.h), ClickHouse. */
struct history_backend {
	const char *name; /* for messages: the store's path, the server's URL */
	/* Run q and add its rows to out, whose columns are report_columns(q). 0, or -errno
	 * with a one-line reason in err (naming the store or server and the cause). */
	int (*query)(struct history_backend *b, const struct history_query *q, struct rows *out,
	             char *err, size_t errlen);
	void (*close)(struct history_backend *b);
};

/* What `tunflow report` was given to reach a history: one of store and clickhouse.
 * Backends read their own options from here. */
struct history_args {
	const char *store;                                               /* --store PATH */
	const char *clickhouse;                                          /* --clickhouse URL */
	const char *ch_user, *ch_password_file, *ch_database, *ch_table; /* ClickHouse's */
	const char *ch_ca;
	bool ch_insecure;
};

/* The embedded store at a->store, read only (no root needed, only read access to the
 * file and its directory). NULL with a one-line reason in err. */
struct history_backend *store_backend_open(const struct history_args *a, char *err, size_t errlen);

/* ClickHouse at a->clickhouse, the table --clickhouse fills (history/clickhouse_report.c).
 * NULL with a one-line reason in err. */
struct history_backend *clickhouse_backend_open(const struct history_args *a, char *err,
                                                size_t errlen);

/* `tunflow report ...`: argv[0] is "report". Returns the exit status. */
int report_main(int argc, char **argv);

/* Times as --since and --until take them, relative to now_ns: an ISO date
 * ("2026-11-27"), date and time ("2026-11-27T14:00", with ":SS" and a trailing "Z"
 * allowed; UTC), or an age ("90s", "30m", "2h", "1d", "1w": now minus that). 0 and
 * *ns, or -EINVAL. */
int report_parse_time(const char *s, __s64 now_ns, __s64 *ns);
/* An address, a prefix ("203.0.113.0/24", "2001:db8::/32") or a name into t. 0 or
 * -EINVAL (a name that holds characters no name has). */
int report_parse_target(const char *s, struct report_target *t);

#endif

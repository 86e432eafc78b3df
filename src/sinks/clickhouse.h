/* SPDX-License-Identifier: GPL-2.0-only */
/* ClickHouse: flow records inserted over its HTTP interface (libcurl), as RowBinary,
 * by a sender thread of tunflow's own with a bounded backlog, retries with backoff and
 * every record that never arrived counted (struct export_stats, as IPFIX's). The table
 * is a ReplacingMergeTree ordered by user, time and the record's id, so a batch sent
 * twice (its answer was lost) collapses to one copy. The client part (ch_conn) also
 * serves `tunflow report --clickhouse`. Schema and queries: docs/clickhouse.md. */
#ifndef TUNFLOW_CLICKHOUSE_H
#define TUNFLOW_CLICKHOUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include <linux/types.h>
#include "core/records.h"
#include "sinks/sink.h"

struct clickhouse_cfg {
	const char *url;           /* --clickhouse: [http[s]://]HOST[:PORT][/PATH]; NULL: off */
	const char *user;          /* NULL: the server's "default" user */
	const char *password_file; /* first line is the password; NULL: none */
	const char *database;      /* must exist */
	const char *table;         /* created when missing */
	const char *ca_file;       /* https: trust this CA instead of the system's */
	bool insecure;             /* https: no certificate check */
	unsigned long backlog;     /* records that may wait for the server */
	unsigned long ttl_days;    /* a new table's TTL (ClickHouse 19.6+); 0: none */
};

/* Identifiers tunflow puts in SQL: letters, digits and '_', not starting with a digit. */
bool ch_ident_ok(const char *s);

/* A connection to one server: URL, credentials and TLS as cfg says. */
struct ch_conn;
/* NULL with a one-line error printed (a bad URL or name, an unreadable password file). */
struct ch_conn *ch_conn_new(const struct clickhouse_cfg *cfg);
/* The same, with the error in err instead. */
struct ch_conn *ch_conn_open(const struct clickhouse_cfg *cfg, char *err, size_t errlen);
void ch_conn_free(struct ch_conn *c);
/* The server as messages name it: the URL without credentials. */
const char *ch_server(const struct ch_conn *c);

enum { CH_OK = 0, CH_UNREACHABLE = -1, CH_REFUSED = -2 };
/* Run sql (the whole request body, or with data: the statement in the URL and data as
 * the body) with the connection's database as the default one. CH_OK with the answer in
 * *out (owned by c, valid until the next query); CH_UNREACHABLE (no answer: connect,
 * timeout, a TLS handshake cut) or CH_REFUSED (an HTTP error: the cause from
 * ClickHouse's answer, cleaned; or a server certificate that does not check out) with
 * one line in err. */
int ch_query(struct ch_conn *c, const char *sql, const char *data, size_t len, long timeout_ms,
             GString **out, char *err, size_t errlen);
/* "Code: 193, e.displayText() = DB::Exception: Wrong password for user tf, e.what() =
 * DB::Exception" (18.x) or "Code: 516. DB::Exception: tf: Authentication failed: ...
 * (AUTHENTICATION_FAILED) (version 23.8.1.1)" into its cause, on one cleaned line. */
void ch_error_text(const char *body, size_t len, char *out, size_t outlen);

/* The server's version ("18.16.1") as a number: major * 1000 + minor (18016). */
int ch_version_num(const char *v);
/* The table, created when missing (with a TTL when ttl_days and the server is 19.6+),
 * and the server's version into *version when not NULL. As ch_query(). */
int ch_setup(struct ch_conn *c, const struct clickhouse_cfg *cfg, int *version, char *err,
             size_t errlen);
/* CREATE TABLE IF NOT EXISTS for a server of that version, into a new GString. */
GString *ch_create_sql(const struct clickhouse_cfg *cfg, int version);

/* CREATE TABLE IF NOT EXISTS for the sessions (TABLE_sessions), as ch_create_sql(). */
GString *ch_sessions_sql(const struct clickhouse_cfg *cfg, int version);

/* A session that ended: an interface that went, a WireGuard peer's. Times in ms since
 * the epoch; NULL strings are unknown. */
struct ch_session {
	const char *user, *iface, *peer, *end;
	__u64 connect_ms, disconnect_ms;
	__u64 packets[2], bytes[2]; /* by enum flow_dir */
};
void ch_session_row(FILE *out, const char *gateway, const struct ch_session *x);

/* "INSERT INTO db.table (every column of a row) FORMAT RowBinary", into a new GString. */
GString *ch_insert_sql(const struct clickhouse_cfg *cfg);
/* One record as a RowBinary row, in the columns of ch_insert_sql(), onto out. */
void ch_row(GString *out, const struct record *r, const char *gateway, __s64 mono_to_real_ns);

/* The sender as a sink of the pipeline. NULL with a one-line error printed: a bad
 * option, or a server that answers but refuses (wrong password, unknown database). A
 * server that does not answer yet is retried. */
struct sink *clickhouse_sink_new(const struct clickhouse_cfg *cfg, const char *gateway);

#endif

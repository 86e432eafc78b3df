/* SPDX-License-Identifier: GPL-2.0-only
 * The embedded store (SQLite): its schema and version (docs/store.md), writing records
 * and sessions in transactions, retention, and the report queries. One struct store is
 * used by one thread at a time: the store sink's writer, or `tunflow report`. */
#ifndef TUNFLOW_STORE_DB_H
#define TUNFLOW_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "history/backend.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_APPLICATION_ID 0x74666c77 /* "tflw" */

/* One finished flow record as stored. "in" is ingress on the interface (on a VPN
 * server's tunnel: what the user sent), "out" egress. l is the user's side (the source
 * of ingress packets), r the far side. Times in ms since the epoch. */
struct store_rec {
	const char *gateway, *user, *iface, *peer; /* user, peer: NULL unknown */
	__u64 run, seq;
	__s64 start_ms, end_ms;
	__u8 dir; /* enum flow_dir of the initiator's packets */
	__u8 proto, end_reason, tcp_flags, rev_tcp_flags;
	__u8 laddr[16], raddr[16]; /* IPv4 mapped */
	__u16 lport, rport;        /* ICMP: 0 */
	__u64 bytes_in, packets_in, bytes_out, packets_out;
	/* core/dest.h: the far side's name, where it came from, AS, country */
	const char *name, *as_name, *country; /* NULL or "": unknown */
	__u8 name_src;
	bool ech;
	__u32 asn;
};

/* A VPN session: an interface's life (ocserv, pppd: one interface per session) or a
 * WireGuard peer's, with what tunflow counted in it. */
struct store_session {
	const char *gateway, *user, *iface, *peer, *end;
	__s64 connect_ms, disconnect_ms;
	__u64 bytes_in, packets_in, bytes_out, packets_out;
};

struct store;

/* Open (and, writable, create or upgrade) the store at path. Read only: the report
 * queries only, no root needed. NULL with a one-line reason in err: not a tunflow
 * store, a newer schema, a file that cannot be opened or read. */
struct store *store_open(const char *path, bool readonly, char *err, size_t errlen);
/* The same, with *code -EINVAL when the file is refused (another program's, a newer or
 * unknown schema, empty when read only) and -EIO when it cannot be opened, created or
 * written now (permissions, a read-only or full file system): worth trying again. */
struct store *store_open_ex(const char *path, bool readonly, int *code, char *err, size_t errlen);
void store_close(struct store *st);
/* A transaction around puts: begin, then commit (the batch's usage rollup is written
 * with it) or rollback. 0 or -EIO, with the error in store_error(). */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
int store_put_record(struct store *st, const struct store_rec *r);
int store_put_session(struct store *st, const struct store_session *s);
/* Delete at most limit rows (records, sessions, usage hours) that ended before
 * cutoff_ms, in a transaction of its own. The number deleted, or -EIO. */
long store_retention(struct store *st, __s64 cutoff_ms, int limit);
/* The last error, one line: "PATH: what SQLite said". */
const char *store_error(const struct store *st);
/* The SQLite result code of the last error (SQLITE_FULL, SQLITE_READONLY, ...). */
int store_errcode(const struct store *st);
/* The SQLite handle and the path (for the report queries). */
struct sqlite3;
struct sqlite3 *store_db_handle(struct store *st);
const char *store_path(const struct store *st);
/* Run a report over the store. 0, or -EIO with the reason in err. */
int store_query(struct store *st, const struct history_query *q, struct rows *out, char *err,
                size_t errlen);

#endif

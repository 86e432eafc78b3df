// SPDX-License-Identifier: GPL-2.0-only
/* The embedded store: SQLite in WAL mode, strings kept once in a names table, an hourly
 * usage rollup written with each batch, indexes for the report queries. The schema is
 * docs/store.md's, versioned by PRAGMA user_version. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <sqlite3.h>
#include "history/store_db.h"
#include "util/fmt.h"

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

/* Version 1. A new version appends its steps to upgrades[] (the ALTERs from the one
 * before) and raises STORE_SCHEMA_VERSION. */
static const char schema_v1[] =
    "CREATE TABLE names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);\n"
    "CREATE TABLE records (\n"
    "  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,\n"
    "  gateway INTEGER NOT NULL, run INTEGER NOT NULL, seq INTEGER NOT NULL,\n"
    "  user INTEGER, iface INTEGER, peer INTEGER,\n"
    "  dir INTEGER NOT NULL, proto INTEGER NOT NULL,\n"
    "  laddr BLOB NOT NULL, lport INTEGER NOT NULL,\n"
    "  raddr BLOB NOT NULL, rport INTEGER NOT NULL,\n"
    "  bytes_in INTEGER NOT NULL, packets_in INTEGER NOT NULL,\n"
    "  bytes_out INTEGER NOT NULL, packets_out INTEGER NOT NULL,\n"
    "  tcp_flags INTEGER NOT NULL, rev_tcp_flags INTEGER NOT NULL,\n"
    "  end_reason INTEGER NOT NULL,\n"
    "  name INTEGER, name_src INTEGER NOT NULL, ech INTEGER NOT NULL,\n"
    "  asn INTEGER NOT NULL, as_name INTEGER, country TEXT);\n"
    "CREATE INDEX records_end ON records (end_ms);\n"
    "CREATE INDEX records_user ON records (user, end_ms);\n"
    "CREATE INDEX records_raddr ON records (raddr, end_ms);\n"
    "CREATE INDEX records_name ON records (name, end_ms) WHERE name IS NOT NULL;\n"
    "CREATE TABLE usage_hour (\n"
    "  hour_ms INTEGER NOT NULL, gateway INTEGER NOT NULL, user INTEGER NOT NULL,\n"
    "  iface INTEGER NOT NULL,\n"
    "  bytes_in INTEGER NOT NULL, packets_in INTEGER NOT NULL,\n"
    "  bytes_out INTEGER NOT NULL, packets_out INTEGER NOT NULL, flows INTEGER NOT NULL,\n"
    "  PRIMARY KEY (hour_ms, gateway, user, iface)) WITHOUT ROWID;\n"
    "CREATE TABLE usage_day (\n"
    "  day_ms INTEGER NOT NULL, gateway INTEGER NOT NULL, user INTEGER NOT NULL,\n"
    "  iface INTEGER NOT NULL,\n"
    "  bytes_in INTEGER NOT NULL, packets_in INTEGER NOT NULL,\n"
    "  bytes_out INTEGER NOT NULL, packets_out INTEGER NOT NULL, flows INTEGER NOT NULL,\n"
    "  PRIMARY KEY (day_ms, gateway, user, iface)) WITHOUT ROWID;\n"
    "CREATE TABLE sessions (\n"
    "  connect_ms INTEGER NOT NULL, disconnect_ms INTEGER NOT NULL,\n"
    "  gateway INTEGER NOT NULL, user INTEGER, iface INTEGER, peer INTEGER, end TEXT,\n"
    "  bytes_in INTEGER NOT NULL, packets_in INTEGER NOT NULL,\n"
    "  bytes_out INTEGER NOT NULL, packets_out INTEGER NOT NULL);\n"
    "CREATE INDEX sessions_end ON sessions (disconnect_ms);\n";

enum {
	ST_NAME_GET,
	ST_NAME_PUT,
	ST_RECORD,
	ST_USAGE,
	ST_USAGE_DAY,
	ST_SESSION,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MAX
};

static const char *const statements[ST_MAX] = {
    [ST_NAME_GET] = "SELECT id FROM names WHERE name = ?",
    [ST_NAME_PUT] = "INSERT INTO names (name) VALUES (?)",
    [ST_RECORD] = "INSERT INTO records VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                  "?,?,?)",
    [ST_USAGE] = "INSERT INTO usage_hour VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                 "bytes_in = bytes_in + excluded.bytes_in, packets_in = packets_in + "
                 "excluded.packets_in, bytes_out = bytes_out + excluded.bytes_out, "
                 "packets_out = packets_out + excluded.packets_out, flows = flows + "
                 "excluded.flows",
    [ST_USAGE_DAY] = "INSERT INTO usage_day VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE "
                     "SET bytes_in = bytes_in + excluded.bytes_in, packets_in = packets_in + "
                     "excluded.packets_in, bytes_out = bytes_out + excluded.bytes_out, "
                     "packets_out = packets_out + excluded.packets_out, flows = flows + "
                     "excluded.flows",
    [ST_SESSION] = "INSERT INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
};

/* The usage rollup of one batch: (hour, gateway, user, iface) -> totals. */
struct usage_key {
	__s64 hour_ms, gateway, user, iface;
};
struct usage_val {
	struct usage_key k;
	__u64 bytes_in, packets_in, bytes_out, packets_out, flows;
};

struct store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_MAX];
	GHashTable *ids;   /* name -> id (GINT64 boxed), names known to be committed or in
	                    * this transaction; cleared on rollback */
	GHashTable *usage; /* struct usage_key -> struct usage_val, this batch */
	char err[512];
	int errcode;
};

static guint usage_hash(gconstpointer p)
{
	const struct usage_key *k = p;

	return (guint)(k->hour_ms / HOUR_MS * 31 + k->gateway * 17 + k->user * 7 + k->iface);
}

static gboolean usage_equal(gconstpointer a, gconstpointer b)
{
	return !memcmp(a, b, sizeof(struct usage_key));
}

static int fail_db(struct store *st, const char *what)
{
	st->errcode = sqlite3_extended_errcode(st->db);
	snprintf(st->err, sizeof(st->err), "store %s: %s: %s", st->path, what,
	         sqlite3_errmsg(st->db));
	return -EIO;
}

struct sqlite3 *store_db_handle(struct store *st) { return st->db; }
const char *store_path(const struct store *st) { return st->path; }

const char *store_error(const struct store *st) { return st->err; }
int store_errcode(const struct store *st) { return st->errcode & 0xff; }

static int exec(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail_db(st, sql);
}

/* One integer from a query (a PRAGMA), or -1. */
static long long one_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Check the version, create an empty store, upgrade an older one. 0 or -EIO/-EINVAL. */
static int check_schema(struct store *st, bool readonly)
{
	long long app = one_int(st, "PRAGMA application_id");
	long long ver = one_int(st, "PRAGMA user_version");
	long long tables = one_int(st, "SELECT count(*) FROM sqlite_schema");

	if (app < 0 || ver < 0 || tables < 0)
		return fail_db(st, "cannot read it");
	if (!tables && !app && !ver) {
		char sql[64];

		if (readonly) {
			snprintf(st->err, sizeof(st->err),
			         "store %s: empty: no tunflow has written it (tunflow --store %s)",
			         st->path, st->path);
			return -EINVAL;
		}
		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		         STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
		if (exec(st, "BEGIN IMMEDIATE") || exec(st, schema_v1) || exec(st, sql) ||
		    exec(st, "COMMIT")) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return -EIO;
		}
		return 0;
	}
	if (app != STORE_APPLICATION_ID) {
		snprintf(st->err, sizeof(st->err),
		         "store %s: not a tunflow store (another program's database); name "
		         "another file",
		         st->path);
		return -EINVAL;
	}
	if (ver > STORE_SCHEMA_VERSION || ver < 1) {
		snprintf(st->err, sizeof(st->err),
		         "store %s: schema version %lld, this tunflow knows %d: written by a %s "
		         "tunflow; use that one, or another file",
		         st->path, ver, STORE_SCHEMA_VERSION, ver < 1 ? "broken" : "newer");
		return -EINVAL;
	}
	/* ver < STORE_SCHEMA_VERSION: upgrade here, step by step, in one transaction (none
	 * yet: version 1 is the first). */
	return 0;
}

static void code_set(int *code, int v)
{
	if (code)
		*code = v;
}

/* Reading: no -wal file beside the store means no writer has it open (the writer keeps
 * it while it runs, and after: SQLITE_FCNTL_PERSIST_WAL); then it can be opened as an
 * immutable file, which needs no -shm. Whether that was done. */
static bool reopen_immutable(struct store *st)
{
	char *wal = g_strconcat(st->path, "-wal", NULL);
	bool writer = g_file_test(wal, G_FILE_TEST_EXISTS);
	GString *uri = g_string_new("file:");
	bool ok;

	g_free(wal);
	if (writer) {
		g_string_free(uri, TRUE);
		return false;
	}
	for (const char *p = st->path; *p; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			g_string_append_printf(uri, "%%%02X", (unsigned char)*p);
		else
			g_string_append_c(uri, *p);
	}
	g_string_append(uri, "?immutable=1");
	sqlite3_close(st->db);
	st->db = NULL;
	ok = sqlite3_open_v2(uri->str, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) ==
	     SQLITE_OK;
	g_string_free(uri, TRUE);
	return ok;
}

struct store *store_open(const char *path, bool readonly, char *err, size_t errlen)
{
	return store_open_ex(path, readonly, NULL, err, errlen);
}

struct store *store_open_ex(const char *path, bool readonly, int *code, char *err, size_t errlen)
{
	struct store *st = g_new0(struct store, 1);
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int ret = -EIO;

	st->path = g_strdup(path);
	if (readonly && !g_file_test(path, G_FILE_TEST_EXISTS)) {
		snprintf(err, errlen, "store %s: no such file (tunflow --store %s writes it)", path,
		         path);
		code_set(code, -EIO);
		goto fail;
	}
	if (sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (!st->db) {
			snprintf(err, errlen, "store %s: out of memory", path);
			goto fail;
		}
		fail_db(st, readonly ? "cannot open it" : "cannot open or create it");
		goto fail_msg;
	}
	sqlite3_extended_result_codes(st->db, 1);
	/* a reader waits for a checkpoint; the writer for a report's read lock */
	sqlite3_busy_timeout(st->db, 5000);
	/* the -wal and -shm files stay after close (whoever closes last): readers without
	 * write access to the directory (tunflow report as another user) can open it */
	sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL, &(int){1});
	if (!readonly) {
		/* 64 MiB of page cache: the index pages that random addresses touch stay in
		 * memory from batch to batch */
		if (exec(st, "PRAGMA journal_mode = WAL") ||
		    exec(st, "PRAGMA synchronous = NORMAL") ||
		    exec(st, "PRAGMA cache_size = -65536"))
			goto fail_msg;
		if (sqlite3_db_readonly(st->db, "main") == 1) {
			snprintf(st->err, sizeof(st->err), "store %s: read only: cannot write it",
			         path);
			goto fail_msg;
		}
	}
	ret = check_schema(st, readonly);
	if (ret == -EIO && readonly && reopen_immutable(st)) {
		/* a store nobody writes now, without its -shm file, in a directory this user
		 * cannot write: read as it is (SQLite would have to create the -shm) */
		ret = check_schema(st, readonly);
	}
	if (ret)
		goto fail_msg;
	ret = -EIO;
	/* reports group and sort in memory, not in temporary files */
	sqlite3_exec(st->db, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
	for (int i = 0; i < ST_MAX && !readonly; i++)
		if (sqlite3_prepare_v3(st->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &st->st[i], NULL) != SQLITE_OK) {
			fail_db(st, "cannot prepare its statements");
			goto fail_msg;
		}
	st->ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	st->usage = g_hash_table_new_full(usage_hash, usage_equal, NULL, g_free);
	return st;
fail_msg:
	snprintf(err, errlen, "%s", st->err);
	code_set(code, ret);
fail:
	store_close(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < ST_MAX; i++)
		sqlite3_finalize(st->st[i]);
	sqlite3_close(st->db);
	if (st->ids)
		g_hash_table_destroy(st->ids);
	if (st->usage)
		g_hash_table_destroy(st->usage);
	g_free(st->path);
	g_free(st);
}

/* Run a prepared statement that returns no rows. 0 or -EIO. */
static int run(struct store *st, int which)
{
	sqlite3_stmt *s = st->st[which];
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : fail_db(st, "cannot write");
}

int store_begin(struct store *st)
{
	g_hash_table_remove_all(st->usage);
	return run(st, ST_BEGIN);
}

static int put_usage(struct store *st, int which, const struct usage_val *u, __s64 t)
{
	sqlite3_stmt *s = st->st[which];

	sqlite3_bind_int64(s, 1, t);
	sqlite3_bind_int64(s, 2, u->k.gateway);
	sqlite3_bind_int64(s, 3, u->k.user);
	sqlite3_bind_int64(s, 4, u->k.iface);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)u->bytes_in);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)u->packets_in);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)u->bytes_out);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)u->packets_out);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)u->flows);
	return run(st, which);
}

/* The batch's usage into the hourly and the daily rollup (an hour lies in one day). */
static int flush_usage(struct store *st)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, st->usage);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const struct usage_val *u = v;

		if (put_usage(st, ST_USAGE, u, u->k.hour_ms) ||
		    put_usage(st, ST_USAGE_DAY, u, u->k.hour_ms - u->k.hour_ms % DAY_MS))
			return -EIO;
	}
	g_hash_table_remove_all(st->usage);
	return 0;
}

int store_commit(struct store *st)
{
	if (flush_usage(st) || run(st, ST_COMMIT)) {
		store_rollback(st);
		return -EIO;
	}
	return 0;
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	/* names added in the transaction are gone with it */
	g_hash_table_remove_all(st->ids);
	g_hash_table_remove_all(st->usage);
}

/* The id of name (added when new); 0 for NULL or "". -1 on an error. */
static sqlite3_int64 name_id(struct store *st, const char *name)
{
	gint64 *cached;
	sqlite3_stmt *s;
	sqlite3_int64 id = -1;
	int rc;

	if (!name || !*name)
		return 0;
	if ((cached = g_hash_table_lookup(st->ids, name)))
		return *cached;
	s = st->st[ST_NAME_GET];
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail_db(st, "cannot read names"), -1;
	if (id < 0) {
		sqlite3_bind_text(st->st[ST_NAME_PUT], 1, name, -1, SQLITE_STATIC);
		if (run(st, ST_NAME_PUT))
			return -1;
		id = sqlite3_last_insert_rowid(st->db);
	}
	g_hash_table_insert(st->ids, g_strdup(name), g_memdup2(&id, sizeof(gint64)));
	return id;
}

static void bind_id(sqlite3_stmt *s, int i, sqlite3_int64 id)
{
	if (id > 0)
		sqlite3_bind_int64(s, i, id);
	else
		sqlite3_bind_null(s, i);
}

int store_put_record(struct store *st, const struct store_rec *r)
{
	sqlite3_int64 gw = name_id(st, r->gateway), user = name_id(st, r->user),
	              iface = name_id(st, r->iface), peer = name_id(st, r->peer),
	              name = name_id(st, r->name), as_name = name_id(st, r->as_name);
	sqlite3_stmt *s = st->st[ST_RECORD];
	struct usage_key k = {.hour_ms = r->end_ms - r->end_ms % HOUR_MS,
	                      .gateway = gw,
	                      .user = user,
	                      .iface = iface};
	struct usage_val *u;
	int i = 1;

	if (gw < 0 || user < 0 || iface < 0 || peer < 0 || name < 0 || as_name < 0)
		return -EIO;
	sqlite3_bind_int64(s, i++, r->start_ms);
	sqlite3_bind_int64(s, i++, r->end_ms);
	sqlite3_bind_int64(s, i++, gw);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->run);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->seq);
	bind_id(s, i++, user);
	bind_id(s, i++, iface);
	bind_id(s, i++, peer);
	sqlite3_bind_int(s, i++, r->dir);
	sqlite3_bind_int(s, i++, r->proto);
	sqlite3_bind_blob(s, i++, r->laddr, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, r->lport);
	sqlite3_bind_blob(s, i++, r->raddr, 16, SQLITE_STATIC);
	sqlite3_bind_int(s, i++, r->rport);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->bytes_in);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->packets_in);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->bytes_out);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->packets_out);
	sqlite3_bind_int(s, i++, r->tcp_flags);
	sqlite3_bind_int(s, i++, r->rev_tcp_flags);
	sqlite3_bind_int(s, i++, r->end_reason);
	bind_id(s, i++, name);
	sqlite3_bind_int(s, i++, r->name_src);
	sqlite3_bind_int(s, i++, r->ech);
	sqlite3_bind_int64(s, i++, r->asn);
	bind_id(s, i++, as_name);
	if (r->country && *r->country)
		sqlite3_bind_text(s, i++, r->country, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i++);
	if (run(st, ST_RECORD))
		return -EIO;
	if (!(u = g_hash_table_lookup(st->usage, &k))) {
		u = g_new0(struct usage_val, 1);
		u->k = k;
		g_hash_table_insert(st->usage, &u->k, u);
	}
	u->bytes_in += r->bytes_in;
	u->packets_in += r->packets_in;
	u->bytes_out += r->bytes_out;
	u->packets_out += r->packets_out;
	u->flows++;
	return 0;
}

int store_put_session(struct store *st, const struct store_session *x)
{
	sqlite3_int64 gw = name_id(st, x->gateway), user = name_id(st, x->user),
	              iface = name_id(st, x->iface), peer = name_id(st, x->peer);
	sqlite3_stmt *s = st->st[ST_SESSION];

	if (gw < 0 || user < 0 || iface < 0 || peer < 0)
		return -EIO;
	sqlite3_bind_int64(s, 1, x->connect_ms);
	sqlite3_bind_int64(s, 2, x->disconnect_ms);
	sqlite3_bind_int64(s, 3, gw);
	bind_id(s, 4, user);
	bind_id(s, 5, iface);
	bind_id(s, 6, peer);
	if (x->end)
		sqlite3_bind_text(s, 7, x->end, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, (sqlite3_int64)x->bytes_in);
	sqlite3_bind_int64(s, 9, (sqlite3_int64)x->packets_in);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)x->bytes_out);
	sqlite3_bind_int64(s, 11, (sqlite3_int64)x->packets_out);
	return run(st, ST_SESSION);
}

long store_retention(struct store *st, __s64 cutoff_ms, int limit)
{
	static const char *const del[] = {
	    "DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE end_ms < ?1 "
	    "LIMIT ?2)",
	    "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE "
	    "disconnect_ms < ?1 LIMIT ?2)",
	    /* an hour (a day) goes with the records that ended in it: cutoff_ms is a day's
	     * start */
	    "DELETE FROM usage_hour WHERE (hour_ms, gateway, user, iface) IN (SELECT hour_ms, "
	    "gateway, user, iface FROM usage_hour WHERE hour_ms < ?1 LIMIT ?2)",
	    "DELETE FROM usage_day WHERE (day_ms, gateway, user, iface) IN (SELECT day_ms, "
	    "gateway, user, iface FROM usage_day WHERE day_ms < ?1 LIMIT ?2)",
	};
	long n = 0;

	if (exec(st, "BEGIN"))
		return -EIO;
	for (size_t i = 0; i < G_N_ELEMENTS(del) && n < limit; i++) {
		sqlite3_stmt *s;
		int rc;

		if (sqlite3_prepare_v2(st->db, del[i], -1, &s, NULL) != SQLITE_OK) {
			fail_db(st, "cannot delete old data");
			store_rollback(st);
			return -EIO;
		}
		sqlite3_bind_int64(s, 1, cutoff_ms);
		sqlite3_bind_int64(s, 2, limit - n);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			fail_db(st, "cannot delete old data");
			store_rollback(st);
			return -EIO;
		}
		n += sqlite3_changes(st->db);
	}
	if (exec(st, "COMMIT")) {
		store_rollback(st);
		return -EIO;
	}
	return n;
}

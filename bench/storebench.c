// SPDX-License-Identifier: GPL-2.0-only
/* storebench: the embedded store's numbers (bench/store.sh).
 *   storebench write PATH N   N records through the store's writer code (batches of 10,000
 *                             in a transaction each, as the --store writer thread does);
 *                             prints "RECORDS_PER_WALL_S RECORDS_PER_CPU_S BYTES_PER_RECORD"
 *   storebench gen PATH N     a store of N records over 30 days, 1,000 users, 100,000
 *                             far addresses (half with a name), written straight into
 *                             SQLite without indexes, then the rollup and the indexes:
 *                             only for the report benchmark */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "history/store_db.h"

#define BATCH 10000
#define DAY_MS 86400000LL
#define USERS 1000
#define ADDRS 100000
#define NAMES 10000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) of this process so far */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static long long end_of(long long i, long long n, long long t_end)
{
	return t_end - i * (30 * DAY_MS / n) - i % 1000;
}

static void addr(unsigned a, __u8 out[16])
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = 203, out[13] = (a >> 16) & 0xff, out[14] = (a >> 8) & 0xff, out[15] = a & 0xff;
}

static long long file_bytes(const char *path)
{
	char p[4096];
	struct stat st;
	long long n = 0;

	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", path, i == 0 ? "" : i == 1 ? "-wal" : "-shm");
		if (i < 2 && !stat(p, &st))
			n += st.st_size;
	}
	return n;
}

static int write_bench(const char *path, long long n)
{
	char err[512], user[16], iface[16], name[32];
	struct store *st = store_open(path, false, err, sizeof(err));
	long long t_end = (long long)time(NULL) * 1000;
	double t0, c0;

	if (!st) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_s();
	c0 = cpu_s();
	for (long long i = 0; i < n;) {
		if (store_begin(st))
			goto fail;
		for (long long b = 0; b < BATCH && i < n; b++, i++) {
			struct store_rec r = {.gateway = "gw1",
			                      .user = user,
			                      .iface = iface,
			                      .run = 1,
			                      .seq = i + 1,
			                      .proto = 6,
			                      .end_reason = 2,
			                      .lport = 40000 + i % 20000,
			                      .rport = 443,
			                      .bytes_in = 1000 + i % 50000,
			                      .packets_in = 10 + i % 50,
			                      .bytes_out = 20000 + i % 90000,
			                      .packets_out = 20 + i % 90,
			                      .tcp_flags = 0x1b,
			                      .rev_tcp_flags = 0x1b,
			                      .name = i % 2 ? name : NULL,
			                      .name_src = i % 2 ? 3 : 0};

			snprintf(user, sizeof(user), "u%04lld", i % USERS);
			snprintf(iface, sizeof(iface), "vpns%lld", i % USERS);
			snprintf(name, sizeof(name), "n%lld.example.com", i % NAMES);
			r.end_ms = end_of(n - i, n, t_end);
			r.start_ms = r.end_ms - 5000;
			addr(0x000a0000u + (unsigned)(i % USERS), r.laddr);
			addr((unsigned)(i * 7919 % ADDRS), r.raddr);
			if (store_put_record(st, &r))
				goto fail;
		}
		if (store_commit(st))
			goto fail;
	}
	{
		double dt = now_s() - t0, dc = cpu_s() - c0;

		store_close(st);
		printf("%.0f %.0f %.1f\n", n / dt, n / dc, (double)file_bytes(path) / n);
	}
	return 0;
fail:
	fprintf(stderr, "%s\n", store_error(st));
	store_close(st);
	return 1;
}

static int exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	fprintf(stderr, "storebench: %s: %s\n", sql, msg);
	sqlite3_free(msg);
	return 1;
}

static int gen(const char *path, long long n)
{
	char err[512], buf[64];
	struct store *st = store_open(path, false, err, sizeof(err));
	long long t_end = (long long)time(NULL) * 1000;
	sqlite3 *db;
	sqlite3_stmt *s, *idx;
	GPtrArray *indexes = g_ptr_array_new_with_free_func(g_free);
	int ret = 1;

	if (!st) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	store_close(st);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return 1;
	sqlite3_prepare_v2(db,
	                   "SELECT sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL",
	                   -1, &idx, NULL);
	while (sqlite3_step(idx) == SQLITE_ROW)
		g_ptr_array_add(indexes, g_strdup((const char *)sqlite3_column_text(idx, 0)));
	sqlite3_finalize(idx);
	if (exec(db,
	         "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; "
	         "PRAGMA cache_size = -262144; DROP INDEX records_end; DROP INDEX records_user; "
	         "DROP INDEX records_raddr; DROP INDEX records_name; BEGIN"))
		goto out;
	/* names: 1 gateway, then users, interfaces, destination names */
	sqlite3_prepare_v2(db, "INSERT INTO names (id, name) VALUES (?, ?)", -1, &s, NULL);
	for (int i = 0; i < 1 + 2 * USERS + NAMES; i++) {
		if (!i)
			snprintf(buf, sizeof(buf), "gw1");
		else if (i <= USERS)
			snprintf(buf, sizeof(buf), "u%04d", i - 1);
		else if (i <= 2 * USERS)
			snprintf(buf, sizeof(buf), "vpns%d", i - 1 - USERS);
		else
			snprintf(buf, sizeof(buf), "n%d.example.com", i - 1 - 2 * USERS);
		sqlite3_bind_int(s, 1, i + 1);
		sqlite3_bind_text(s, 2, buf, -1, SQLITE_TRANSIENT);
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	sqlite3_prepare_v2(db,
	                   "INSERT INTO records VALUES (?1 - 5000, ?1, 1, 1, ?2, ?3, ?4, NULL, 0, "
	                   "6, ?5, ?6, ?7, 443, ?8, ?9, ?10, ?11, 27, 27, 2, ?12, ?13, 0, 0, "
	                   "NULL, NULL)",
	                   -1, &s, NULL);
	for (long long i = 0; i < n; i++) {
		__u8 la[16], ra[16];
		int u = (int)(i % USERS);

		addr(0x000a0000u + (unsigned)u, la);
		addr((unsigned)(i * 7919 % ADDRS), ra);
		sqlite3_bind_int64(s, 1, end_of(n - i, n, t_end));
		sqlite3_bind_int64(s, 2, i + 1);
		sqlite3_bind_int(s, 3, 2 + u);
		sqlite3_bind_int(s, 4, 2 + USERS + u);
		sqlite3_bind_blob(s, 5, la, 16, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 6, 40000 + (int)(i % 20000));
		sqlite3_bind_blob(s, 7, ra, 16, SQLITE_TRANSIENT);
		sqlite3_bind_int64(s, 8, 1000 + i % 50000);
		sqlite3_bind_int64(s, 9, 10 + i % 50);
		sqlite3_bind_int64(s, 10, 20000 + i % 90000);
		sqlite3_bind_int64(s, 11, 20 + i % 90);
		if (i % 2) {
			sqlite3_bind_int(s, 12, 2 + 2 * USERS + (int)(i % NAMES));
			sqlite3_bind_int(s, 13, 3);
		} else {
			sqlite3_bind_null(s, 12);
			sqlite3_bind_int(s, 13, 0);
		}
		if (sqlite3_step(s) != SQLITE_DONE) {
			fprintf(stderr, "storebench: %s\n", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	if (exec(db, "INSERT INTO usage_hour SELECT end_ms - end_ms % 3600000, gateway, "
	             "coalesce(user, 0), coalesce(iface, 0), sum(bytes_in), sum(packets_in), "
	             "sum(bytes_out), sum(packets_out), count(*) FROM records GROUP BY 1, 2, 3, 4; "
	             "INSERT INTO usage_day SELECT hour_ms - hour_ms % 86400000, gateway, user, "
	             "iface, sum(bytes_in), sum(packets_in), sum(bytes_out), sum(packets_out), "
	             "sum(flows) FROM usage_hour GROUP BY 1, 2, 3, 4"))
		goto out;
	for (guint i = 0; i < indexes->len; i++)
		if (strstr(indexes->pdata[i], " records_") && exec(db, indexes->pdata[i]))
			goto out;
	if (exec(db, "COMMIT; PRAGMA journal_mode = WAL"))
		goto out;
	ret = 0;
out:
	sqlite3_close(db);
	g_ptr_array_free(indexes, TRUE);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_bench(argv[2], atoll(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return gen(argv[2], atoll(argv[3]));
	fprintf(stderr, "usage: storebench write|gen PATH N\n");
	return 2;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The embedded store at the unit level, with records of controlled times: the reports
 * (usage per user and day, per iface and hour, over the rollup and over the records; top
 * by address and by name; who by address, prefix and name; sessions) as JSON; retention
 * deleting exactly the old days; a store of an unknown schema version, another program's
 * database and an empty file refused; times and targets as the command line takes them. */
#define CHECK_SUITE "store"
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sqlite3.h>
#include "check.h"
#include "history/backend.h"
#include "history/store_db.h"
#include "core/report.h"
#include "sinks/store.h"

#define DAY 86400000LL
#define HOUR 3600000LL
#define T0 1795737600000LL /* 2026-11-27T00:00Z in ms */

static char dir[] = "/tmp/test_store.XXXXXX";

static char *path(const char *name) { return g_strdup_printf("%s/%s", dir, name); }

static struct store_rec rec(const char *user, const char *iface, __s64 end_ms, int a, __u64 in,
                            __u64 out, const char *name)
{
	static __u64 seq;
	struct store_rec r = {.gateway = "gw1", .user = user, .iface = iface, .run = 1,
	                      .seq = ++seq, .start_ms = end_ms - 1000, .end_ms = end_ms,
	                      .proto = 6, .end_reason = 2, .bytes_in = in, .packets_in = in / 100,
	                      .bytes_out = out, .packets_out = out / 100, .name = name,
	                      .name_src = name ? 3 : 0};

	r.laddr[10] = r.laddr[11] = r.raddr[10] = r.raddr[11] = 0xff;
	r.laddr[12] = 10, r.laddr[15] = 2;
	r.raddr[12] = 203, r.raddr[13] = 0, r.raddr[14] = 113, r.raddr[15] = a;
	return r;
}

/* A report's rows as JSON lines, in one string. */
static char *report(const char *p, struct history_query q)
{
	struct history_args a = {.store = p};
	char err[512] = "", *buf = NULL;
	struct history_backend *b = store_backend_open(&a, err, sizeof(err));
	const struct column *cols;
	struct rows rows;
	size_t n, len = 0;
	FILE *f;

	if (!b)
		return g_strdup(err);
	cols = report_columns(&q, &n);
	rows_init(&rows, cols, n);
	f = open_memstream(&buf, &len);
	if (b->query(b, &q, &rows, err, sizeof(err)))
		fputs(err, f);
	else
		rows_print(f, &rows, FMT_JSON);
	fclose(f);
	rows_free(&rows);
	b->close(b);
	return buf;
}

static void fill(const char *p)
{
	char err[512] = "";
	struct store *st = store_open(p, false, err, sizeof(err));
	struct store_rec r[] = {
	    /* day 1: alice 1000/5000 in two records at two addresses, bob 300/700 */
	    rec("alice", "vpns0", T0 + 1 * HOUR, 5, 600, 3000, "www.example.com"),
	    rec("alice", "vpns0", T0 + 2 * HOUR + 5, 6, 400, 2000, NULL),
	    rec("bob", "vpns1", T0 + 1 * HOUR + 10, 5, 300, 700, "www.example.com"),
	    /* day 2: alice 100/200; an unknown user 50/50 */
	    rec("alice", "vpns2", T0 + DAY + 30 * 60000, 7, 100, 200, "example.org"),
	    rec(NULL, "vpns3", T0 + DAY + 40 * 60000, 8, 50, 50, NULL),
	};
	struct store_session s = {.gateway = "gw1", .user = "alice", .iface = "vpns0",
	                          .end = "interface gone", .connect_ms = T0 + 10 * 60000,
	                          .disconnect_ms = T0 + 3 * HOUR, .bytes_in = 1000,
	                          .bytes_out = 5000, .packets_in = 10, .packets_out = 50};

	CHECK_STR("open: creates", st ? "" : err, "");
	if (!st)
		return;
	CHECK_INT("batch 1: begin", store_begin(st), 0);
	for (size_t i = 0; i < 3; i++)
		CHECK_INT("batch 1: record", store_put_record(st, &r[i]), 0);
	CHECK_INT("batch 1: session", store_put_session(st, &s), 0);
	CHECK_INT("batch 1: commit", store_commit(st), 0);
	/* a rolled back batch leaves nothing, not even its names */
	CHECK_INT("rolled back: begin", store_begin(st), 0);
	{
		struct store_rec x = rec("mallory", "vpns9", T0 + 5 * HOUR, 9, 1, 1, "evil.test");

		store_put_record(st, &x);
	}
	store_rollback(st);
	CHECK_INT("batch 2: begin", store_begin(st), 0);
	for (size_t i = 3; i < 5; i++)
		CHECK_INT("batch 2: record", store_put_record(st, &r[i]), 0);
	CHECK_INT("batch 2: commit", store_commit(st), 0);
	store_close(st);
}

static void reports(const char *p)
{
	char *s;

	s = report(p, (struct history_query){.kind = REP_USAGE, .per = PER_DAY});
	CHECK_STR("usage per day (rollup)", s,
	          "{\"day\":\"2026-11-27\",\"user\":\"alice\",\"bytes_in\":1000,\"bytes_out\":5000,"
	          "\"packets_in\":10,\"packets_out\":50,\"flows\":2}\n"
	          "{\"day\":\"2026-11-27\",\"user\":\"bob\",\"bytes_in\":300,\"bytes_out\":700,"
	          "\"packets_in\":3,\"packets_out\":7,\"flows\":1}\n"
	          "{\"day\":\"2026-11-28\",\"user\":null,\"bytes_in\":50,\"bytes_out\":50,"
	          "\"packets_in\":0,\"packets_out\":0,\"flows\":1}\n"
	          "{\"day\":\"2026-11-28\",\"user\":\"alice\",\"bytes_in\":100,\"bytes_out\":200,"
	          "\"packets_in\":1,\"packets_out\":2,\"flows\":1}\n");
	g_free(s);
	/* not whole hours: from the records; the same numbers where the ranges agree */
	s = report(p, (struct history_query){.kind = REP_USAGE,
	                                     .since_ns = (T0 + 30 * 60000) * 1000000,
	                                     .until_ns = (T0 + 2 * HOUR) * 1000000});
	CHECK_STR("usage, a half-hour range (records)", s,
	          "{\"user\":\"alice\",\"bytes_in\":600,\"bytes_out\":3000,\"packets_in\":6,"
	          "\"packets_out\":30,\"flows\":1}\n"
	          "{\"user\":\"bob\",\"bytes_in\":300,\"bytes_out\":700,\"packets_in\":3,"
	          "\"packets_out\":7,\"flows\":1}\n");
	g_free(s);
	/* from 00:30 on day 1 to 00:35 on day 2: a cut hour, whole hours, a whole day would
	 * be none here; the records of day 2 before 00:35 only */
	s = report(p, (struct history_query){.kind = REP_USAGE,
	                                     .user = "alice",
	                                     .since_ns = (T0 + 30 * 60000) * 1000000,
	                                     .until_ns = (T0 + DAY + 35 * 60000) * 1000000});
	CHECK_STR("usage across a day, cut hours at both ends", s,
	          "{\"user\":\"alice\",\"bytes_in\":1100,\"bytes_out\":5200,\"packets_in\":11,"
	          "\"packets_out\":52,\"flows\":3}\n");
	g_free(s);
	s = report(p, (struct history_query){.kind = REP_USAGE,
	                                     .user = "alice",
	                                     .since_ns = (T0 + 90 * 60000) * 1000000,
	                                     .until_ns = (T0 + 2 * DAY) * 1000000});
	CHECK_STR("usage from 01:30 day 1 on: the 01:00 record is out", s,
	          "{\"user\":\"alice\",\"bytes_in\":500,\"bytes_out\":2200,\"packets_in\":5,"
	          "\"packets_out\":22,\"flows\":2}\n");
	g_free(s);
	s = report(p, (struct history_query){.kind = REP_USAGE, .by = BY_IFACE, .per = PER_HOUR,
	                                     .user = "alice"});
	CHECK_STR("usage per iface and hour, alice", s,
	          "{\"hour\":\"2026-11-27T01:00Z\",\"iface\":\"vpns0\",\"bytes_in\":600,"
	          "\"bytes_out\":3000,\"packets_in\":6,\"packets_out\":30,\"flows\":1}\n"
	          "{\"hour\":\"2026-11-27T02:00Z\",\"iface\":\"vpns0\",\"bytes_in\":400,"
	          "\"bytes_out\":2000,\"packets_in\":4,\"packets_out\":20,\"flows\":1}\n"
	          "{\"hour\":\"2026-11-28T00:00Z\",\"iface\":\"vpns2\",\"bytes_in\":100,"
	          "\"bytes_out\":200,\"packets_in\":1,\"packets_out\":2,\"flows\":1}\n");
	g_free(s);
	s = report(p, (struct history_query){.kind = REP_TOP, .by = BY_ADDRESS, .user = "alice",
	                                     .limit = 2});
	CHECK_STR("top by address, alice, 2 rows", s,
	          "{\"user\":\"alice\",\"address\":\"203.0.113.5\",\"name\":\"www.example.com\","
	          "\"bytes_in\":600,\"bytes_out\":3000,\"packets_in\":6,\"packets_out\":30,"
	          "\"flows\":1,\"first\":\"2026-11-27T00:59:59.000Z\","
	          "\"last\":\"2026-11-27T01:00:00.000Z\"}\n"
	          "{\"user\":\"alice\",\"address\":\"203.0.113.6\",\"name\":null,"
	          "\"bytes_in\":400,\"bytes_out\":2000,\"packets_in\":4,\"packets_out\":20,"
	          "\"flows\":1,\"first\":\"2026-11-27T01:59:59.005Z\","
	          "\"last\":\"2026-11-27T02:00:00.005Z\"}\n");
	g_free(s);
	s = report(p, (struct history_query){.kind = REP_TOP, .by = BY_NAME, .limit = 10});
	CHECK_STR("top by name", s,
	          "{\"user\":\"alice\",\"name\":\"www.example.com\",\"addresses\":1,"
	          "\"bytes_in\":600,\"bytes_out\":3000,\"packets_in\":6,\"packets_out\":30,"
	          "\"flows\":1,\"first\":\"2026-11-27T00:59:59.000Z\","
	          "\"last\":\"2026-11-27T01:00:00.000Z\"}\n"
	          "{\"user\":\"bob\",\"name\":\"www.example.com\",\"addresses\":1,"
	          "\"bytes_in\":300,\"bytes_out\":700,\"packets_in\":3,\"packets_out\":7,"
	          "\"flows\":1,\"first\":\"2026-11-27T00:59:59.010Z\","
	          "\"last\":\"2026-11-27T01:00:00.010Z\"}\n"
	          "{\"user\":\"alice\",\"name\":\"example.org\",\"addresses\":1,"
	          "\"bytes_in\":100,\"bytes_out\":200,\"packets_in\":1,\"packets_out\":2,"
	          "\"flows\":1,\"first\":\"2026-11-28T00:29:59.000Z\","
	          "\"last\":\"2026-11-28T00:30:00.000Z\"}\n");
	g_free(s);
	{
		struct history_query q = {.kind = REP_WHO};

		report_parse_target("203.0.113.5", &q.target);
		s = report(p, q);
		CHECK_STR("who ADDRESS", s,
		          "{\"user\":\"alice\",\"first\":\"2026-11-27T00:59:59.000Z\","
		          "\"last\":\"2026-11-27T01:00:00.000Z\",\"addresses\":1,\"bytes_in\":600,"
		          "\"bytes_out\":3000,\"packets_in\":6,\"packets_out\":30,\"flows\":1}\n"
		          "{\"user\":\"bob\",\"first\":\"2026-11-27T00:59:59.010Z\","
		          "\"last\":\"2026-11-27T01:00:00.010Z\",\"addresses\":1,\"bytes_in\":300,"
		          "\"bytes_out\":700,\"packets_in\":3,\"packets_out\":7,\"flows\":1}\n");
		g_free(s);
		report_parse_target("203.0.113.4/31", &q.target);
		q.since_ns = (T0 + DAY) * 1000000;
		s = report(p, q);
		CHECK_STR("who PREFIX, since day 2: nobody", s, "");
		g_free(s);
		q.since_ns = 0;
		report_parse_target("203.0.113.6/31", &q.target);
		s = report(p, q);
		CHECK_STR("who PREFIX /31: .6 and .7 (alice, 2 addresses)", s,
		          "{\"user\":\"alice\",\"first\":\"2026-11-27T01:59:59.005Z\","
		          "\"last\":\"2026-11-28T00:30:00.000Z\",\"addresses\":2,\"bytes_in\":500,"
		          "\"bytes_out\":2200,\"packets_in\":5,\"packets_out\":22,\"flows\":2}\n");
		g_free(s);
		report_parse_target("Example.COM", &q.target);
		s = report(p, q);
		CHECK("who NAME: the name and those under it (alice, bob)",
		      s && strstr(s, "\"alice\"") && strstr(s, "\"bob\"") && !strstr(s, "org"));
		g_free(s);
		g_free((char *)q.target.name);
	}
	s = report(p, (struct history_query){.kind = REP_SESSIONS});
	CHECK_STR("sessions", s,
	          "{\"user\":\"alice\",\"iface\":\"vpns0\",\"connect\":\"2026-11-27T00:10:00.000Z\","
	          "\"disconnect\":\"2026-11-27T03:00:00.000Z\",\"duration\":10200.000,"
	          "\"bytes_in\":1000,\"bytes_out\":5000,\"packets_in\":10,\"packets_out\":50,"
	          "\"end\":\"interface gone\",\"gateway\":\"gw1\"}\n");
	g_free(s);
	s = report(p, (struct history_query){.kind = REP_USAGE, .user = "mallory"});
	CHECK_STR("a rolled back batch left nothing", s, "");
	g_free(s);
}

static long long count(const char *p, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long n = -1;

	if (sqlite3_open(p, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == 0) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return n;
}

static void retention(const char *p)
{
	char err[512];
	struct store *st = store_open(p, false, err, sizeof(err));
	long n, total = 0;

	/* keep day 2 (2026-11-28) on: everything that ended before it goes, 1 row a step */
	while ((n = store_retention(st, T0 + DAY, 1)) > 0)
		total += n;
	CHECK_INT("retention: no error", n, 0);
	/* 3 records, 1 session, 3 usage hours and 2 usage days (alice, bob) of day 1 */
	CHECK_INT("retention: rows deleted", total, 9);
	CHECK_INT("retention: day 2's records stay", count(p, "SELECT count(*) FROM records"), 2);
	CHECK_INT("retention: none of day 1", count(p, "SELECT count(*) FROM records WHERE end_ms "
	                                               "< 1795824000000"),
	          0);
	CHECK_INT("retention: day 2's usage hours stay",
	          count(p, "SELECT count(*) FROM usage_hour"), 2);
	CHECK_INT("retention: day 2's usage days stay", count(p, "SELECT count(*) FROM usage_day"),
	          2);
	store_close(st);
}

static void versions(void)
{
	char err[512] = "", *p = path("v.db"), *q = path("other.db"), *e = path("empty.db");
	struct history_args a = {.store = p};
	struct store *st = store_open(p, false, err, sizeof(err));
	sqlite3 *db;

	store_close(st);
	sqlite3_open(p, &db);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK("unknown version: refused writing", !store_open(p, false, err, sizeof(err)));
	CHECK_STR("unknown version: the message", strstr(err, "schema version 99, this tunflow "
	                                                      "knows 1: written by a newer"),
	          strstr(err, "schema"));
	CHECK("unknown version: refused reading", !store_backend_open(&a, err, sizeof(err)));
	sqlite3_open(q, &db);
	sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK("another program's database: refused", !store_open(q, false, err, sizeof(err)));
	CHECK("another program's database: said", strstr(err, "not a tunflow store") != NULL);
	a.store = e;
	fclose(fopen(e, "w"));
	CHECK("an empty file: refused reading", !store_backend_open(&a, err, sizeof(err)));
	CHECK("an empty file: said", strstr(err, "empty") != NULL);
	g_free(p);
	g_free(q);
	g_free(e);
}

static void times(void)
{
	__s64 ns = 0, now = (T0 + 12 * HOUR) * 1000000;
	struct report_target t;

	CHECK_INT("time: a date", report_parse_time("2026-11-27", now, &ns) ? -1 : ns / 1000000, T0);
	CHECK_INT("time: date and time",
	          report_parse_time("2026-11-27T14:00", now, &ns) ? -1 : ns / 1000000,
	          T0 + 14 * HOUR);
	CHECK_INT("time: with seconds and Z",
	          report_parse_time("2026-11-27T14:00:30Z", now, &ns) ? -1 : ns / 1000000,
	          T0 + 14 * HOUR + 30000);
	CHECK_INT("time: 2h", report_parse_time("2h", now, &ns) ? -1 : ns / 1000000,
	          T0 + 10 * HOUR);
	CHECK_INT("time: 1d", report_parse_time("1d", now, &ns) ? -1 : ns / 1000000,
	          T0 + 12 * HOUR - DAY);
	CHECK("time: year 4052 refused (ns would overflow)",
	      report_parse_time("4052-11-14", now, &ns) == -EINVAL);
	CHECK("time: an age of 10^6 weeks refused", report_parse_time("999999w", now, &ns));
	CHECK("time: junk refused", report_parse_time("yesterday", now, &ns) == -EINVAL);
	CHECK("time: month 13 refused", report_parse_time("2026-13-01", now, &ns) == -EINVAL);
	CHECK("time: trailing junk refused", report_parse_time("2026-11-27T14:00x", now, &ns));
	CHECK("target: v6 prefix", !report_parse_target("2001:db8::/32", &t) &&
	                               t.kind == TARGET_PREFIX && t.hi[3] == 0xb8 &&
	                               t.hi[4] == 0xff && t.lo[15] == 0);
	CHECK("target: prefix too long refused", report_parse_target("192.0.2.0/33", &t));
	CHECK("target: a name", !report_parse_target("Example.com", &t) && t.kind == TARGET_NAME &&
	                            !strcmp(t.name, "example.com"));
	g_free((char *)t.name);
	CHECK("target: not a name", report_parse_target("a b", &t));
}

/* The sink: a record its initiator sent from outside (egress first) is stored from the
 * user's side (in = the responder's packets, the far address = the initiator), with its
 * id; a WireGuard peer session and an interface that went become session rows; the last
 * report waits for the writer and counts rows. */
static void sink(void)
{
	char *p = path("sink.db"), *s;
	struct store_cfg cfg = {.path = p, .gateway = "gw2"};
	struct sink *sk = store_sink_new(&cfg);
	struct record rec = {.key = {.ifindex = 1, .dir = DIR_EGRESS, .ip_version = 4,
	                             .proto = IPPROTO_UDP, .sport = 53, .dport = 4000},
	                     .user = "alice", .start_ns = 5 * 1000000000ull,
	                     .end_ns = 6 * 1000000000ull, .packets = 2, .bytes = 100,
	                     .rev_packets = 3, .rev_bytes = 300, .end = END_IDLE, .run = 9,
	                     .seq = 1};
	struct peer_session ps = {.ifname = "wg0", .user = "dave", .peer = "KEY=",
	                          .start_ns = (T0 + HOUR) * 1000000, .end_ns = (T0 + 2 * HOUR) * 1000000,
	                          .packets = {4, 5}, .bytes = {400, 500}, .end = SESSION_EXPIRED};
	struct report r = {.mono_to_real_ns = T0 * 1000000, .sessions = &ps, .nsessions = 1,
	                   .final = true};
	struct history_query q = {.kind = REP_WHO};

	CHECK("sink: opens", sk != NULL);
	if (!sk)
		return;
	rec.key.src[10] = rec.key.src[11] = rec.key.dst[10] = rec.key.dst[11] = 0xff;
	rec.key.src[12] = 203, rec.key.src[14] = 113, rec.key.src[15] = 9;
	rec.key.dst[12] = 192, rec.key.dst[14] = 2, rec.key.dst[15] = 9;
	sk->record(sk, &rec, &r);
	sk->prepare(sk, &r);
	CHECK_INT("sink: stored, the record and the session", r.store ? r.store->records : 0, 2);
	CHECK_INT("sink: none waiting after the last report", r.store ? r.store->backlog : 1, 0);
	sk->close(sk);
	report_parse_target("203.0.113.9", &q.target);
	s = report(p, q);
	CHECK_STR("sink: from the user's side", s,
	          "{\"user\":\"alice\",\"first\":\"2026-11-27T00:00:05.000Z\","
	          "\"last\":\"2026-11-27T00:00:06.000Z\",\"addresses\":1,\"bytes_in\":300,"
	          "\"bytes_out\":100,\"packets_in\":3,\"packets_out\":2,\"flows\":1}\n");
	g_free(s);
	CHECK_INT("sink: the record's id and ports",
	          count(p, "SELECT run * 1000000 + seq * 100000 + lport * 10 + (rport = 53) FROM "
	                   "records"),
	          9 * 1000000 + 100000 + 40000 + 1);
	s = report(p, (struct history_query){.kind = REP_SESSIONS});
	CHECK_STR("sink: the WireGuard peer's session", s,
	          "{\"user\":\"dave\",\"iface\":\"wg0\",\"connect\":\"2026-11-27T01:00:00.000Z\","
	          "\"disconnect\":\"2026-11-27T02:00:00.000Z\",\"duration\":3600.000,"
	          "\"bytes_in\":400,\"bytes_out\":500,\"packets_in\":4,\"packets_out\":5,"
	          "\"end\":\"handshake expired\",\"gateway\":\"gw2\"}\n");
	g_free(s);
	g_free(p);
}

int main(void)
{
	char *p;

	if (!mkdtemp(dir))
		return 1;
	p = path("flows.db");
	fill(p);
	reports(p);
	retention(p);
	versions();
	times();
	sink();
	g_free(p);
	if (!check_fails) {
		char *cmd = g_strdup_printf("rm -rf '%s'", dir);

		int rc = system(cmd);

		(void)rc;
		g_free(cmd);
	}
	return check_done();
}

// SPDX-License-Identifier: GPL-2.0-only
/* The ClickHouse client's pieces that need no server: the cause taken from an error
 * answer (18.x and current forms), versions, identifiers, the table's SQL (TTL only
 * from 19.6), a RowBinary row, and a URL given wrong. */
#define CHECK_SUITE "clickhouse"
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "check.h"
#include "sinks/clickhouse.h"

static void error_text(void)
{
	char out[256];
	const char *old = "Code: 193, e.displayText() = DB::Exception: Wrong password for user "
	                  "tf, e.what() = DB::Exception\n";
	const char *cur = "Code: 516. DB::Exception: tf: Authentication failed: password is "
	                  "incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) "
	                  "(version 23.8.1.94 (official build))\n";
	const char *ctl = "Code: 81, e.displayText() = DB::Exception: Database \x1b[31mx "
	                  "doesn't exist, e.what() = DB::Exception";

	ch_error_text(old, strlen(old), out, sizeof(out));
	CHECK_STR("18.x: the cause", out, "Wrong password for user tf");
	ch_error_text(cur, strlen(cur), out, sizeof(out));
	CHECK_STR("current: the cause", out,
	          "tf: Authentication failed: password is incorrect, or there is no user with "
	          "such name. (AUTHENTICATION_FAILED)");
	ch_error_text(ctl, strlen(ctl), out, sizeof(out));
	CHECK_STR("controls made visible", out, "Database \\x1b[31mx doesn't exist");
	ch_error_text("", 0, out, sizeof(out));
	CHECK_STR("empty answer", out, "no reason given");
	ch_error_text("Bad gateway\nmore", 16, out, sizeof(out));
	CHECK_STR("not ClickHouse's: the first line", out, "Bad gateway");
}

static void versions(void)
{
	CHECK_INT("18.16.1", ch_version_num("18.16.1"), 18016);
	CHECK_INT("19.6", ch_version_num("19.6.2.11\n"), 19006);
	CHECK_INT("24.3", ch_version_num("24.3.1.2672"), 24003);
	CHECK_INT("garbage", ch_version_num("x"), 0);
	CHECK_INT("no minor", ch_version_num("18"), 0);
}

static void idents(void)
{
	CHECK("plain", ch_ident_ok("tunflow_flows"));
	CHECK("digit first", !ch_ident_ok("1x"));
	CHECK("quote", !ch_ident_ok("a`b"));
	CHECK("dot", !ch_ident_ok("db.t"));
	CHECK("empty", !ch_ident_ok(""));
	CHECK("NULL", !ch_ident_ok(NULL));
}

static void create_sql(void)
{
	struct clickhouse_cfg c = {.database = "db", .table = "t", .ttl_days = 30};
	GString *q = ch_create_sql(&c, 18016);

	CHECK("18.16: no TTL", !strstr(q->str, "TTL"));
	CHECK("ReplacingMergeTree by day, per user, then the id",
	      strstr(q->str, "ENGINE = ReplacingMergeTree PARTITION BY toDate(start) ORDER BY "
	                     "(user, start, gateway, run, seq)") != NULL);
	CHECK("the table named", !strncmp(q->str, "CREATE TABLE IF NOT EXISTS db.t (", 33));
	g_string_free(q, TRUE);
	q = ch_create_sql(&c, 19006);
	CHECK("19.6: TTL", g_str_has_suffix(q->str, " TTL start + INTERVAL 30 DAY"));
	g_string_free(q, TRUE);
	c.ttl_days = 0;
	q = ch_create_sql(&c, 24003);
	CHECK("no --clickhouse-ttl: no TTL", !strstr(q->str, "TTL"));
	g_string_free(q, TRUE);
}

static void row(void)
{
	struct record r = {.user = "al\"ice",
	                   .start_ns = 1500000000,
	                   .end_ns = 2999000000,
	                   .packets = 3,
	                   .bytes = 114,
	                   .rev_packets = 1,
	                   .rev_bytes = 38,
	                   .end = END_IDLE,
	                   .run = 77,
	                   .seq = 5};
	GString *out = g_string_new(NULL);
	const char *buf;
	size_t len;

	r.key.ip_version = 4;
	r.key.proto = 17;
	r.key.sport = 1000;
	r.key.dport = 53;
	r.key.dir = DIR_INGRESS;
	r.key.src[10] = r.key.src[11] = r.key.dst[10] = r.key.dst[11] = 0xff;
	inet_pton(AF_INET, "192.0.2.9", r.key.src + 12);
	inet_pton(AF_INET, "198.51.100.7", r.key.dst + 12);
	r.dest.name = "example.org";
	r.dest.name_src = NAME_DNS;
	r.dest.asn = 64496;
	memcpy(r.dest.country, "NL", 3);
	ch_row(out, &r, "gw1", 1700000000000000000ll);
	buf = out->str;
	len = out->len;
	/* RowBinary in the columns of the INSERT */
	CHECK_INT("row length", len,
	          4 + 8 + 8 + 4 + 4 + 8 + 8 + 7 + 4 + 1 + 1 + 8 + 1 + 1 + 10 + 13 + 2 + 2 + 8 * 4 +
	              1 + 1 + 13 + 12 + 4 + 1 + 4 + 1 + 3);
	CHECK("gateway: length, then the bytes", len > 4 && !memcmp(buf, "\x03gw1", 4));
	CHECK("run and seq, little-endian", len > 20 && buf[4] == 77 && buf[12] == 5);
	CHECK("start, end: seconds as UInt32", len > 28 &&
	                                           !memcmp(buf + 20, "\x01\xf1\x53\x65", 4) &&
	                                           !memcmp(buf + 24, "\x02\xf1\x53\x65", 4));
	CHECK("user: cleaned text as it is", len > 52 && !memcmp(buf + 44,
	                                                         "\x06"
	                                                         "al\"ice",
	                                                         7));
	CHECK("country last", len > 3 && !memcmp(buf + len - 3, "\x02NL", 3));
	{
		struct clickhouse_cfg c = {.database = "db", .table = "t"};
		GString *q = ch_insert_sql(&c);

		CHECK(
		    "INSERT names every column",
		    g_str_has_prefix(q->str, "INSERT INTO db.t (gateway, run, seq, start, end, ") &&
		        g_str_has_suffix(q->str, "as_name, country) FORMAT RowBinary"));
		g_string_free(q, TRUE);
	}
	g_string_free(out, TRUE);
}

static void bad_url(void)
{
	struct clickhouse_cfg c = {.url = "ftp://x", .database = "d", .table = "t"};
	struct ch_conn *k;

	CHECK("ftp:// refused", !ch_conn_new(&c));
	c.url = "127.0.0.1";
	k = ch_conn_new(&c);
	CHECK_STR("no scheme, no port: http and 8123", k ? ch_server(k) : NULL,
	          "http://127.0.0.1:8123/");
	ch_conn_free(k);
	c.url = "https://ch.example:9440/x";
	k = ch_conn_new(&c);
	CHECK_STR("https, a port and a path kept", k ? ch_server(k) : NULL,
	          "https://ch.example:9440/x");
	ch_conn_free(k);
	c.url = "https://u:pw@ch.example/";
	CHECK("credentials in the URL refused", !ch_conn_new(&c));
	c.url = "127.0.0.1";
	c.database = "a;b";
	CHECK("a database name with ';' refused", !ch_conn_new(&c));
	c.database = "d";
	c.password_file = "/nonexistent/pw";
	CHECK("a missing password file refused", !ch_conn_new(&c));
}

int main(void)
{
	error_text();
	versions();
	idents();
	create_sql();
	row();
	bad_url();
	return check_done();
}

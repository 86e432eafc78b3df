// SPDX-License-Identifier: GPL-2.0-only
/* Outside strings on their way in (text_clean) and out (JSON, CSV, the table), and what
 * the table, JSON and CSV sinks do when their output fails. Exact strings throughout. */
#define CHECK_SUITE "text"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <glib.h>
#include "check.h"
#include "util/fmt.h"
#include "util/text.h"
#include "sinks/sink.h"
#include "core/datapath.h"
#include "core/flowtab.h"
#include "core/records.h"
#include "sinks/sink.h"
#include "sources/ifwatch.h"

static void clean_is(const char *name, const char *s, size_t len, size_t max, const char *want)
{
	char *got = text_clean(s, len, max);
	char *again = text_clean(got, strlen(got), max);

	CHECK_STR(name, got, want);
	CHECK(name, strlen(got) <= max);
	CHECK_STR(name, again, got); /* idempotent */
	CHECK(name, text_is_clean(got));
	g_free(again);
	g_free(got);
}
#define CLEAN(name, lit, max, want) clean_is(name, lit, sizeof(lit) - 1, max, want)

static void test_clean(void)
{
	CLEAN("plain name unchanged", "alice", 256, "alice");
	CLEAN("UTF-8 kept", "J\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x98\x80", 256,
	      "J\xc3\xb6rg \xe2\x82\xac \xf0\x9f\x98\x80");
	CLEAN("ESC sequence made visible", "a\x1b[2J\x1b]0;owned\x07z", 256,
	      "a\\x1b[2J\\x1b]0;owned\\x07z");
	CLEAN("tab, CR, LF, DEL", "a\tb\rc\nd\x7f", 256, "a\\x09b\\x0dc\\x0ad\\x7f");
	CLEAN("NUL byte in the middle", "a\0b", 256, "a\\x00b");
	CLEAN("C1 CSI (U+009B) as its two bytes", "x\xc2\x9b" "2Jy", 256, "x\\xc2\\x9b2Jy");
	CLEAN("lone continuation and 0xff", "\x80\xff", 256, "\\x80\\xff");
	CLEAN("overlong '/' (2 bytes)", "\xc0\xaf", 256, "\\xc0\\xaf");
	CLEAN("overlong '/' (3 bytes)", "\xe0\x80\xaf", 256, "\\xe0\\x80\\xaf");
	CLEAN("overlong (4 bytes)", "\xf0\x80\x80\xaf", 256, "\\xf0\\x80\\x80\\xaf");
	CLEAN("surrogate U+D800", "\xed\xa0\x80", 256, "\\xed\\xa0\\x80");
	CLEAN("beyond U+10FFFF", "\xf4\x90\x80\x80", 256, "\\xf4\\x90\\x80\\x80");
	CLEAN("U+10FFFF kept", "\xf4\x8f\xbf\xbf", 256, "\xf4\x8f\xbf\xbf");
	CLEAN("sequence cut short at the end", "ab\xe2\x82", 256, "ab\\xe2\\x82");
	CLEAN("sequence cut short by ASCII", "\xe2\x82" "a", 256, "\\xe2\\x82a");
	CLEAN("RLO (U+202E) made visible", "abc\xe2\x80\xae" "fdp.exe", 256,
	      "abc\\xe2\\x80\\xaefdp.exe");
	CLEAN("line separator U+2028", "a\xe2\x80\xa8z", 256, "a\\xe2\\x80\\xa8z");
	CLEAN("backslash kept", "dom\\user", 256, "dom\\user");
	CLEAN("empty", "", 256, "");
	/* bounded length */
	CLEAN("exactly max: whole, no ...", "abcdefgh", 8, "abcdefgh");
	CLEAN("one over max: cut with ...", "abcdefghi", 8, "abcde...");
	CLEAN("escape that fits exactly", "abcd\x1b", 8, "abcd\\x1b");
	CLEAN("escape not split by the cut", "abcde\x1b", 8, "abcde...");
	CLEAN("cut on a UTF-8 boundary", "aaaa\xe2\x82\xac\xe2\x82\xac", 9, "aaaa...");
	CLEAN("UTF-8 that fits exactly", "aaaa\xe2\x82\xac\xe2\x82\xac", 10,
	      "aaaa\xe2\x82\xac\xe2\x82\xac");
	CLEAN("tiny max", "abcdef", 2, "..");
	CLEAN("zero max", "abcdef", 0, "");

	{
		char big[2000];
		char *c;

		memset(big, 'u', sizeof(big));
		c = text_clean(big, sizeof(big), TEXT_NAME_MAX);
		CHECK_INT("2000-byte name: TEXT_NAME_MAX bytes", strlen(c), TEXT_NAME_MAX);
		CHECK_STR("2000-byte name: ends in ...", c + TEXT_NAME_MAX - 4, "u...");
		g_free(c);
	}
	CHECK("clean: plain", text_is_clean("vpns0 \xc3\xa9"));
	CHECK("not clean: ESC", !text_is_clean("a\x1b"));
	CHECK("not clean: C1", !text_is_clean("a\xc2\x85"));
	CHECK("not clean: invalid", !text_is_clean("a\xfe"));
	CHECK("not clean: bidi isolate U+2066", !text_is_clean("\xe2\x81\xa6"));
}

/* What a writer of FILE * puts out for s. */
static char *written(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, s);
	fclose(f);
	return buf;
}

static void is_written(const char *name, void (*fn)(FILE *, const char *), const char *s,
		       const char *want)
{
	char *got = written(fn, s);

	CHECK_STR(name, got, want);
	free(got);
}

static void test_json(void)
{
	is_written("json: plain", json_str, "alice", "\"alice\"");
	is_written("json: quote, backslash", json_str, "a\"b\\c", "\"a\\\"b\\\\c\"");
	is_written("json: controls as the text \\xHH", json_str, "\x1b[2J\n\t",
		   "\"\\\\x1b[2J\\\\x0a\\\\x09\"");
	is_written("json: DEL and C1", json_str, "\x7f\xc2\x85", "\"\\\\x7f\\\\xc2\\\\x85\"");
	is_written("json: U+2028, RLO", json_str, "\xe2\x80\xa8\xe2\x80\xae",
		   "\"\\\\xe2\\\\x80\\\\xa8\\\\xe2\\\\x80\\\\xae\"");
	is_written("json: UTF-8 kept", json_str, "J\xc3\xb6rg \xf0\x9f\x98\x80",
		   "\"J\xc3\xb6rg \xf0\x9f\x98\x80\"");
	is_written("json: invalid bytes", json_str, "a\xff\xc0\xaf" "b",
		   "\"a\\\\xff\\\\xc0\\\\xafb\"");
	is_written("json: surrogate", json_str, "\xed\xb0\x80", "\"\\\\xed\\\\xb0\\\\x80\"");
	is_written("json: a cleaned name reads the same", json_str, "t\\x1b[2J",
		   "\"t\\\\x1b[2J\"");
	is_written("json: empty", json_str, "", "\"\"");
}

static void test_csv(void)
{
	is_written("csv: plain", csv_str, "alice", "alice");
	is_written("csv: empty", csv_str, "", "");
	is_written("csv: comma quoted", csv_str, "a,b", "\"a,b\"");
	is_written("csv: quote doubled", csv_str, "say \"hi\"", "\"say \"\"hi\"\"\"");
	is_written("csv: = formula", csv_str, "=HYPERLINK(\"http://x\")",
		   "\"'=HYPERLINK(\"\"http://x\"\")\"");
	is_written("csv: + formula", csv_str, "+1+cmd", "\"'+1+cmd\"");
	is_written("csv: - formula", csv_str, "-2+3", "\"'-2+3\"");
	is_written("csv: @ formula", csv_str, "@SUM(A1)", "\"'@SUM(A1)\"");
	is_written("csv: tab first", csv_str, "\t=1", "\"'\\x09=1\"");
	is_written("csv: CR first", csv_str, "\r=1", "\"'\\x0d=1\"");
	is_written("csv: = later is fine", csv_str, "a=b", "a=b");
	is_written("csv: line break made visible", csv_str, "a\r\nb", "a\\x0d\\x0ab");
	is_written("csv: ESC and invalid", csv_str, "a\x1b\xff", "a\\x1b\\xff");
	is_written("csv: UTF-8 kept", csv_str, "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
}

static const __u64 zero_counters[CNT_ALL];

/* A flow on ifindex from 192.0.2.9:5353 to 192.0.2.1:9, UDP, 2 packets, 96 bytes. */
static void make_flow(struct flow *f, int ifindex, const char *user)
{
	memset(f, 0, sizeof(*f));
	f->key.ifindex = ifindex;
	f->key.dir = DIR_INGRESS;
	f->key.ip_version = 4;
	f->key.proto = 17;
	f->key.src[10] = f->key.src[11] = 0xff;
	f->key.dst[10] = f->key.dst[11] = 0xff;
	memcpy(f->key.src + 12, "\xc0\x00\x02\x09", 4);
	memcpy(f->key.dst + 12, "\xc0\x00\x02\x01", 4);
	f->key.sport = 5353;
	f->key.dport = 9;
	f->user = user;
	f->packets = f->d_packets = 2;
	f->bytes = f->d_bytes = 96;
	f->gen = 1;
}

/* Run a sink's report on one flow and return the line of its output that starts with
 * prefix (malloc'd), or NULL. */
static char *sink_line(struct sink *s, FILE *f, char **buf, int ifindex, const char *user,
		       const char *prefix)
{
	struct flow fl, *flows[1] = {&fl};
	struct report r = {.flows = flows, .nflows = 1, .gen = 1, .counters = zero_counters,
			   .users = true, .interval_s = 1};
	char *line = NULL, *p;

	make_flow(&fl, ifindex, user);
	CHECK_INT("sink report on a good output", s->report(s, &r), 0);
	fflush(f);
	for (p = *buf; p && *p; p = strchr(p, '\n') + 1) {
		if (!strncmp(p, prefix, strlen(prefix))) {
			line = strndup(p, strcspn(p, "\n"));
			break;
		}
		if (!strchr(p, '\n'))
			break;
	}
	return line;
}

static void test_sinks_escape(void)
{
	struct table_opts o = {.wide = true};
	char *buf = NULL, *line;
	size_t len = 0;
	FILE *f;
	struct sink *s;

	iface_remember(99, "t\x1b[2J\xff");

	f = open_memstream(&buf, &len);
	s = sink_table_new(f, &o, GROUP_FLOW);
	line = sink_line(s, f, &buf, 99, "bob\x1b]0;pwned\x07", "t\\x1b");
	CHECK_STR("table: interface and user escaped, columns kept", line,
		  "t\\x1b[2J\\xff    in  udp   ~x1b]0;pwned\\x07 192.0.2.9:5353"
		  "                                  192.0.2.1:9"
		  "                                          2     96      0");
	CHECK("table: no ESC byte anywhere", !strchr(buf, 0x1b));
	free(line);
	s->close(s);
	fclose(f);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	s = sink_json_new(f, GROUP_FLOW, false);
	line = sink_line(s, f, &buf, 99, "bob\x1b]0;pwned\x07", "{\"type\":\"flow\"");
	CHECK("json: flow line", line != NULL);
	CHECK("json: interface escaped",
	      line && strstr(line, "\"iface\":\"t\\\\x1b[2J\\\\xff\",\"user\":\"bob\\\\x1b]0;pwned\\\\x07\","));
	CHECK("json: no ESC byte anywhere", !strchr(buf, 0x1b));
	free(line);
	s->close(s);
	fclose(f);
	free(buf);

	/* double-width characters: a cell is measured in terminal columns, cut between
	 * characters (80-column table: interface 6, user 7) */
	iface_remember(98, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" "ab");
	buf = NULL;
	o.wide = false;
	f = open_memstream(&buf, &len);
	s = sink_table_new(f, &o, GROUP_FLOW);
	line = sink_line(s, f, &buf, 98, "\xc3\xa9ve", "~");
	CHECK_STR("table: wide characters cut whole, padded by columns", line,
		  "~\xe8\xaa\x9e" "ab  in  udp   \xc3\xa9ve     192.0.2.9:5353   192.0.2.1:9      "
		  "     2     96      0");
	free(line);
	s->close(s);
	fclose(f);
	free(buf);
}

static void test_dir(void)
{
	CHECK_STR("dir_name ingress", dir_name(DIR_INGRESS), "ingress");
	CHECK_STR("dir_name egress", dir_name(DIR_EGRESS), "egress");
	CHECK_STR("dir_short ingress", dir_short(DIR_INGRESS), "in");
	CHECK_STR("dir_short egress", dir_short(DIR_EGRESS), "out");
}

/* Each sink's report on an output that fails: -errno when it is for good. */
static void fails_with(const char *name, int kind, FILE *f, int want)
{
	struct table_opts o = {0};
	struct report r = {.counters = zero_counters, .final = true};
	struct record rec = {0};
	struct sink *s = kind == 0 ? sink_table_new(f, &o, GROUP_FLOW)
			 : kind == 1 ? sink_json_new(f, GROUP_FLOW, true)
				     : sink_csv_new(f);
	char n[128];

	rec.key.ip_version = 4;
	rec.key.ifindex = 99;
	for (int i = 0; i < 2; i++) {
		if (s->record)
			s->record(s, &rec, &r);
		snprintf(n, sizeof(n), "%s: report %d returns %s", name, i + 1, strerror(-want));
		CHECK_INT(n, s->report(s, &r), want);
	}
	s->close(s);
}

static FILE *broken_pipe(void)
{
	int p[2];

	if (pipe(p))
		return NULL;
	close(p[0]);
	return fdopen(p[1], "w");
}

/* What poll() says of fd now, as the event loop's epoll would (same bits). */
static unsigned revents_of(int fd)
{
	struct pollfd q = {.fd = fd, .events = 0};

	return poll(&q, 1, 0) == 1 ? q.revents : 0;
}

static void test_output_errors(void)
{
	const char *kinds[] = {"table", "json", "csv"};
	struct out_errors e = {0};
	int p[2];
	FILE *f;

	signal(SIGPIPE, SIG_IGN);
	for (int k = 0; k < 3; k++) {
		char n[64];

		snprintf(n, sizeof(n), "%s to a closed pipe", kinds[k]);
		f = broken_pipe();
		fails_with(n, k, f, -EPIPE);
		fclose(f);
		snprintf(n, sizeof(n), "%s to /dev/full", kinds[k]);
		f = fopen("/dev/full", "w");
		fails_with(n, k, f, -ENOSPC);
		fclose(f);
		snprintf(n, sizeof(n), "%s to a closed descriptor", kinds[k]);
		f = fdopen(open("/dev/null", O_WRONLY), "w");
		close(fileno(f));
		fails_with(n, k, f, -EBADF);
		fclose(f);
	}
	/* a full non-blocking pipe: counted, not final */
	if (pipe(p) == 0) {
		char chunk[4096] = {0};

		fcntl(p[1], F_SETFL, O_NONBLOCK);
		while (write(p[1], chunk, sizeof(chunk)) > 0)
			;
		f = fdopen(p[1], "w");
		fputs("more\n", f);
		CHECK_INT("full non-blocking pipe: not final", out_check_report(f, &e), 0);
		CHECK_INT("full non-blocking pipe: counted", e.count, 1);
		CHECK_INT("full non-blocking pipe: EAGAIN", e.last, -EAGAIN);
		fclose(f);
		close(p[0]);
	}
	/* a pipe is watched; its reader going is seen without a write */
	if (pipe(p) == 0) {
		unsigned events = 1;

		f = fdopen(p[1], "w");
		CHECK_INT("pipe: watched", sink_out_fd(f, &events), p[1]);
		CHECK_INT("pipe: for errors and hang-up only", events, 0);
		CHECK_INT("pipe with a reader: fine", sink_out_gone(f, revents_of(p[1])), 0);
		close(p[0]);
		CHECK_INT("pipe without a reader: EPIPE", sink_out_gone(f, revents_of(p[1])), -EPIPE);
		fclose(f);
	}
	f = fopen("/dev/null", "w");
	CHECK_INT("/dev/null: never gone", sink_out_gone(f, revents_of(fileno(f))), 0);
	fputs("fine\n", f);
	CHECK_INT("/dev/null: fine", out_check_report(f, &e), 0);
	CHECK_INT("/dev/null: nothing more counted", e.count, 1);
	fclose(f);
}

int main(void)
{
	test_clean();
	test_json();
	test_csv();
	test_dir();
	test_sinks_escape();
	test_output_errors();
	return check_done();
}

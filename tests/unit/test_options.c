// SPDX-License-Identifier: GPL-2.0-only
/* The option table: exact values and exact messages for good and bad values of each
 * kind, the command line through getopt_long, options_set() (the config-file path),
 * --help from the table, hostport_parse() without DNS, and the man page's OPTIONS
 * section against the table (every option in both, same short letter, same argument). */
#define CHECK_SUITE "options"
#include <stdlib.h>
#include <unistd.h>
#include <getopt.h>
#include "check.h"
#include "config.h"
#include "util/fmt.h"
#include "util/options.h"

static const struct opt *tab;
static size_t ntab;

/* opt_check of --NAME on value: "" when accepted (value in *v), else the message */
static const char *check_msg(const char *name, const char *value, union opt_value *v)
{
	static char err[OPT_ERRLEN];
	const struct opt *o = opt_find(tab, ntab, name);

	err[0] = 0;
	if (!o)
		return "no such option";
	if (opt_check(o, value, v, err, sizeof(err)))
		return err;
	return "";
}

static void seconds(const char *name, const char *value, double want)
{
	union opt_value v;
	char t[160];

	snprintf(t, sizeof(t), "--%s %s accepted", name, value);
	CHECK_STR(t, check_msg(name, value, &v), "");
	snprintf(t, sizeof(t), "--%s %s value", name, value);
	CHECK(t, v.seconds == want);
}

static void number(const char *name, const char *value, unsigned long long want)
{
	union opt_value v;
	char t[160];

	snprintf(t, sizeof(t), "--%s %s accepted", name, value);
	CHECK_STR(t, check_msg(name, value, &v), "");
	snprintf(t, sizeof(t), "--%s %s value", name, value);
	CHECK_INT(t, v.uint, want);
}

static void word(const char *name, const char *value, int want)
{
	union opt_value v;
	char t[160];

	snprintf(t, sizeof(t), "--%s %s accepted", name, value);
	CHECK_STR(t, check_msg(name, value, &v), "");
	snprintf(t, sizeof(t), "--%s %s value", name, value);
	CHECK_INT(t, v.word, want);
}

static void refused(const char *name, const char *value, const char *msg)
{
	union opt_value v;
	char t[300];

	snprintf(t, sizeof(t), "--%s '%s' refused", name, value);
	CHECK_STR(t, check_msg(name, value, &v), msg);
}

static void kinds(void)
{
	/* seconds */
	seconds("interval", "1", 1);
	seconds("interval", "0.05", 0.05);
	seconds("interval", "3600", 3600);
	seconds("interval", "2.5e1", 25);
	seconds("tcp-linger", "0", 0);
	seconds("duration", "1e9", 1e9);
	refused("interval", "0", "--interval wants seconds from 0.05 to 3600, not '0'");
	refused("interval", "1s", "--interval wants seconds from 0.05 to 3600, not '1s'");
	refused("interval", "", "--interval wants seconds from 0.05 to 3600, not ''");
	refused("interval", "nan", "--interval wants seconds from 0.05 to 3600, not 'nan'");
	refused("interval", "inf", "--interval wants seconds from 0.05 to 3600, not 'inf'");
	refused("interval", "3600.001",
		"--interval wants seconds from 0.05 to 3600, not '3600.001'");
	refused("duration", "-3", "--duration wants seconds from 0.05 to 1e+09, not '-3'");
	refused("idle-timeout", "0", "--idle-timeout wants seconds from 0.05 to 604800, not '0'");
	refused("ipfix-templates", "0.5", "--ipfix-templates wants seconds from 1 to 86400, not '0.5'");
	refused("interval", "1\x1b[2J", "--interval wants seconds from 0.05 to 3600, not '1\\x1b[2J'");
	/* whole numbers */
	number("max-flows", "1", 1);
	number("max-flows", "16777216", 16777216);
	number("ipfix-domain", "0", 0);
	number("ipfix-domain", "4294967295", 4294967295ull);
	number("metrics-top", "1000", 1000);
	refused("max-flows", "0", "--max-flows wants a whole number from 1 to 16777216, not '0'");
	refused("max-flows", "-5", "--max-flows wants a whole number from 1 to 16777216, not '-5'");
	refused("max-flows", "16777217",
		"--max-flows wants a whole number from 1 to 16777216, not '16777217'");
	refused("max-flows", "1e3", "--max-flows wants a whole number from 1 to 16777216, not '1e3'");
	refused("max-flows", " 5", "--max-flows wants a whole number from 1 to 16777216, not ' 5'");
	refused("ipfix-domain", "4294967296",
		"--ipfix-domain wants a whole number from 0 to 4294967295, not '4294967296'");
	refused("ipfix-domain", "99999999999999999999999",
		"--ipfix-domain wants a whole number from 0 to 4294967295, not "
		"'99999999999999999999999'");
	refused("ipfix-backlog", "0",
		"--ipfix-backlog wants a whole number from 1 to 100000000, not '0'");
	refused("top", "", "--top wants a whole number from 1 to 1000000, not ''");
	/* words */
	word("direction", "ingress", 1 << DIR_INGRESS);
	word("direction", "in", 1 << DIR_INGRESS);
	word("direction", "out", 1 << DIR_EGRESS);
	word("direction", "both", 1 << DIR_INGRESS | 1 << DIR_EGRESS);
	word("output", "csv", OUT_CSV);
	word("attach", "tc", MODE_TC);
	word("group-by", "flow", GROUP_FLOW);
	refused("direction", "sideways",
		"--direction wants ingress, egress or both, not 'sideways'");
	refused("direction", "Both", "--direction wants ingress, egress or both, not 'Both'");
	refused("output", "xml", "--output wants tui, table, json, csv or none, not 'xml'");
	refused("attach", "xdp", "--attach wants auto, tcx or tc, not 'xdp'");
	refused("group-by", "host", "--group-by wants user or flow, not 'host'");
	/* host:port, no DNS: a name is only checked for its characters */
	{
		union opt_value v;

		CHECK_STR("--metrics 9100", check_msg("metrics", "9100", &v), "");
		CHECK_STR("--metrics name:port", check_msg("metrics", "nosuch.invalid:9100", &v), "");
		CHECK_STR("--metrics [v6]:port", check_msg("metrics", "[2001:db8::1]:9100", &v), "");
		CHECK_STR("--ipfix tcp:[v6]:port", check_msg("ipfix", "tcp:[::1]:4739", &v), "");
		CHECK_STR("--ipfix name", check_msg("ipfix", "udp:collector.invalid:4739", &v), "");
	}
	refused("metrics", "localhost:x",
		"--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not 'localhost:x'");
	refused("metrics", "0", "--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not '0'");
	refused("metrics", "65536",
		"--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not '65536'");
	refused("metrics", "2001:db8::1:9100",
		"--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not '2001:db8::1:9100'");
	refused("metrics", "[192.0.2.1]:9100",
		"--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not '[192.0.2.1]:9100'");
	refused("metrics", "bad host:9100",
		"--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not 'bad host:9100'");
	refused("metrics", ":9100", "--metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not ':9100'");
	refused("ipfix", "nohost:xyz",
		"--ipfix wants [udp:|tcp:]HOST:PORT (a collector, e.g. udp:192.0.2.9:4739), not "
		"'nohost:xyz'");
	refused("ipfix", "tcp:2001:db8::1:4739",
		"--ipfix wants [udp:|tcp:]HOST:PORT (a collector, e.g. udp:192.0.2.9:4739), not "
		"'tcp:2001:db8::1:4739'");
	refused("ipfix", "sctp:192.0.2.9:4739",
		"--ipfix wants [udp:|tcp:]HOST:PORT (a collector, e.g. udp:192.0.2.9:4739), not "
		"'sctp:192.0.2.9:4739'");
}

static void hostports(void)
{
	struct hostport hp;

	CHECK_INT("hostport: port only", hostport_parse("9100", "127.0.0.1", &hp), 0);
	CHECK_STR("hostport: default host", hp.host, "127.0.0.1");
	CHECK_INT("hostport: port", hp.port, 9100);
	CHECK_INT("hostport: v6", hostport_parse("[fe80::1%eth0]:1", "x", &hp), 0);
	CHECK_STR("hostport: v6 host with zone", hp.host, "fe80::1%eth0");
	CHECK_INT("hostport: v6 flag", hp.v6, 1);
	CHECK_INT("hostport: 65535", hostport_parse("a-b_c.d:65535", "x", &hp), 0);
	CHECK_STR("hostport: name", hp.host, "a-b_c.d");
	CHECK_INT("hostport: port 65535", hp.port, 65535);
	CHECK_INT("hostport: +80", hostport_parse("+80", "x", &hp), -1);
	CHECK_INT("hostport: empty", hostport_parse("", "x", &hp), -1);
	CHECK_INT("hostport: []:80", hostport_parse("[]:80", "x", &hp), -1);
	CHECK_INT("hostport: bad zone", hostport_parse("[fe80::1%a/b]:80", "x", &hp), -1);
	CHECK_INT("hostport: port 99999999999999999999", hostport_parse("h:99999999999999999999", "x", &hp), -1);
}


/* parse_args on a command line; its stderr's first line in msg */
static int run_args(struct config *c, const char *unused, char *msg, size_t len, ...)
{
	char *argv[80] = {"tunflow"};
	int argc = 1, ret;
	va_list ap;

	(void)unused;
	va_start(ap, len);
	for (char *a; argc < 79 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	memset(c, 0, sizeof(*c));
	optind = 0;
	check_stderr_begin();
	ret = parse_args(argc, argv, c);
	check_stderr_end(msg, len, true);
	return ret;
}

/* options_set, its stderr's first line in msg */
static int set_msg(const char *name, const char *value, struct config *c, char *msg,
		   size_t len)
{
	int ret;

	check_stderr_begin();
	ret = options_set(name, value, c);
	check_stderr_end(msg, len, true);
	return ret;
}

static void command_lines(void)
{
	struct config c;
	char msg[OPT_ERRLEN];

	CHECK_INT("no options", run_args(&c, "", msg, sizeof(msg), "tun0", NULL), 0);
	CHECK_INT("default dirs", c.dirs, 1 << DIR_INGRESS | 1 << DIR_EGRESS);
	CHECK("default interval", c.interval == 1);
	CHECK("default duration", c.duration == 0);
	CHECK_INT("default output", c.output, OUT_AUTO);
	CHECK_INT("default max-flows", c.max_flows, 65536);
	CHECK_INT("default metrics-top", c.metrics_top, 10);
	CHECK_INT("default ipfix backlog", c.ipfix.backlog, 100000);
	CHECK("default ipfix templates", c.ipfix.template_s == 60);
	CHECK("default idle", c.rec.idle_s == 15);
	CHECK("default active", c.rec.active_s == 1800);
	CHECK("default linger", c.rec.tcp_linger_s == 2);
	CHECK_STR("default sessions", c.users.sessions, SESSIONS_FILE);
	CHECK_INT("default mode", c.mode, MODE_AUTO);
	CHECK_INT("default top", c.table.top, 0);
	CHECK("default metrics", c.metrics == NULL);
	CHECK("default user", c.user == NULL);
	CHECK_INT("excludes empty", c.excludes->len, 0);
	CHECK_INT("first interface at optind", optind, 1);
	g_ptr_array_free(c.excludes, TRUE);

	CHECK_INT("many options",
		  run_args(&c, "", msg, sizeof(msg), "-d", "in", "-t0.5", "-wq", "-x", "a*",
			   "--exclude=b", "-o", "csv", "--max-flows", "10", "--attach", "tc",
			   "--top", "7", "-n", "-i", "tun2", "--group-by", "user", "--user-map", "/m", "--openvpn-status", "/s",
			   "--sessions", "/e", "--records", "--uniflow", "--idle-timeout", "3",
			   "--active-timeout", "4", "--tcp-linger", "0", "--metrics", "[::1]:9",
			   "--metrics-top", "3", "--ipfix", "tcp:192.0.2.9:4739",
			   "--ipfix-domain", "7", "--ipfix-backlog", "5", "--ipfix-templates", "2",
			   "--duration", "9", "-v", "--user", "nobody", "tun0", "tun1", NULL),
		  0);
	CHECK_INT("-d in", c.dirs, 1 << DIR_INGRESS);
	CHECK("-t0.5", c.interval == 0.5);
	CHECK_INT("-w of -wq", c.table.wide, 1);
	CHECK_INT("-q of -wq", c.quiet, 1);
	CHECK_INT("-x repeated", c.excludes->len, 2);
	CHECK_STR("-x first", c.excludes->pdata[0], "a*");
	CHECK_STR("--exclude=", c.excludes->pdata[1], "b");
	CHECK_INT("-o csv", c.output, OUT_CSV);
	CHECK_INT("--max-flows", c.max_flows, 10);
	CHECK_INT("--attach", c.mode, MODE_TC);
	CHECK_INT("--top", c.table.top, 7);
	CHECK_INT("-n: numeric, a flag", c.numeric, 1);
	CHECK_INT("--group-by", c.group, GROUP_USER);
	CHECK_STR("--user-map", c.users.map, "/m");
	CHECK_STR("--openvpn-status", c.users.openvpn_status, "/s");
	CHECK_STR("--sessions", c.users.sessions, "/e");
	CHECK_INT("--records", c.records, 1);
	CHECK_INT("--uniflow", c.rec.uniflow, 1);
	CHECK("--idle-timeout", c.rec.idle_s == 3);
	CHECK("--active-timeout", c.rec.active_s == 4);
	CHECK("--tcp-linger", c.rec.tcp_linger_s == 0);
	CHECK_STR("--metrics", c.metrics, "[::1]:9");
	CHECK_INT("--metrics-top", c.metrics_top, 3);
	CHECK_STR("--ipfix", c.ipfix.collector, "tcp:192.0.2.9:4739");
	CHECK_INT("--ipfix tcp", c.ipfix.tcp, 1);
	CHECK_INT("--ipfix address", c.ipfix.addr.ss_family, AF_INET);
	CHECK_INT("--ipfix-domain", c.ipfix.domain, 7);
	CHECK_INT("--ipfix-backlog", c.ipfix.backlog, 5);
	CHECK("--ipfix-templates", c.ipfix.template_s == 2);
	CHECK("--duration", c.duration == 9);
	CHECK_INT("-v", c.verbose, 1);
	CHECK_STR("--user", c.user, "nobody");
	CHECK_INT("interfaces after options", optind, 52);
	CHECK_INT("-i and the arguments: 3 interfaces", c.interfaces->len, 3);
	CHECK_STR("-i first", c.interfaces->pdata[0], "tun2");
	CHECK_STR("then the arguments", c.interfaces->pdata[2], "tun1");
	g_ptr_array_free(c.excludes, TRUE);

	CHECK_INT("unknown option", run_args(&c, "", msg, sizeof(msg), "--frobnicate", NULL),
		  -EINVAL);
	CHECK_STR("unknown option: message", msg,
		  "tunflow: unknown option '--frobnicate' (see --help)");
	g_ptr_array_free(c.excludes, TRUE);
	CHECK_INT("unknown short option", run_args(&c, "", msg, sizeof(msg), "-Z", NULL), -EINVAL);
	CHECK_STR("unknown short option: message", msg, "tunflow: unknown option '-Z' (see --help)");
	g_ptr_array_free(c.excludes, TRUE);
	CHECK_INT("missing value", run_args(&c, "", msg, sizeof(msg), "tun0", "-t", NULL), -EINVAL);
	CHECK_STR("missing value: message", msg, "tunflow: -t needs a value (see --help)");
	g_ptr_array_free(c.excludes, TRUE);
	CHECK_INT("missing long value",
		  run_args(&c, "", msg, sizeof(msg), "--metrics", NULL), -EINVAL);
	CHECK_STR("missing long value: message", msg,
		  "tunflow: --metrics needs a value (see --help)");
	g_ptr_array_free(c.excludes, TRUE);
	CHECK_INT("bad value", run_args(&c, "", msg, sizeof(msg), "-d", "up", NULL), -EINVAL);
	CHECK_STR("bad value: message", msg,
		  "tunflow: --direction wants ingress, egress or both, not 'up'");
	g_ptr_array_free(c.excludes, TRUE);
	CHECK_INT("value for a flag", run_args(&c, "", msg, sizeof(msg), "--wide=yes", NULL),
		  -EINVAL);
	CHECK_STR("value for a flag: message", msg,
		  "tunflow: unknown option '--wide=yes' (see --help)");
	g_ptr_array_free(c.excludes, TRUE);
}

/* options_set(): the path a config file takes */
static void set_by_name(void)
{
	struct config c = {0};
	char msg[OPT_ERRLEN];

	CHECK_INT("config defaults", config_defaults(&c), 0);
	CHECK_INT("set interval", options_set("interval", "2", &c), 0);
	CHECK("set interval: value", c.interval == 2);
	CHECK_INT("set direction", options_set("direction", "egress", &c), 0);
	CHECK_INT("set direction: value", c.dirs, 1 << DIR_EGRESS);
	CHECK_INT("set wide", options_set("wide", NULL, &c), 0);
	CHECK_INT("set wide: value", c.table.wide, 1);
	CHECK_INT("set exclude", options_set("exclude", "x*", &c), 0);
	CHECK_INT("set exclude twice", options_set("exclude", "y*", &c), 0);
	CHECK_INT("set exclude: count", c.excludes->len, 2);
	CHECK_INT("set user", options_set("user", "nobody", &c), 0);
	CHECK_STR("set user: value", c.user, "nobody");
	CHECK_INT("set unknown", set_msg("nosuch", "1", &c, msg, sizeof(msg)), -EINVAL);
	CHECK_STR("set unknown: message", msg, "tunflow: unknown option '--nosuch' (see --help)");
	CHECK_INT("set without value", set_msg("interval", NULL, &c, msg, sizeof(msg)), -EINVAL);
	CHECK_STR("set without value: message", msg,
		  "tunflow: --interval needs a value (see --help)");
	CHECK_INT("set bad", set_msg("max-flows", "0", &c, msg, sizeof(msg)), -EINVAL);
	CHECK_STR("set bad: message", msg,
		  "tunflow: --max-flows wants a whole number from 1 to 16777216, not '0'");
	CHECK_INT("set bad keeps value", c.max_flows, 65536);
	g_ptr_array_free(c.excludes, TRUE);
}

/* --help: every option with its argument, lines at most 88 columns, the examples */
static void help(void)
{
	char *buf = NULL, *line, *save;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int longest = 0, seen = 0;

	config_usage(f);
	fclose(f);
	for (size_t i = 0; i < ntab; i++) {
		char want[80];

		if (tab[i].letter)
			snprintf(want, sizeof(want), "  -%c, --%s%s%s", tab[i].letter, tab[i].name,
				 tab[i].arg ? " " : "", tab[i].arg ? tab[i].arg : "");
		else
			snprintf(want, sizeof(want), "      --%s%s%s", tab[i].name,
				 tab[i].arg ? " " : "", tab[i].arg ? tab[i].arg : "");
		seen += strstr(buf, want) != NULL;
	}
	CHECK_INT("--help names every option", seen, ntab);
	CHECK("--help has the examples", strstr(buf, "\nExamples:\n  tunflow tun0 "));
	CHECK("--help has the groups", strstr(buf, "\nFlow records:\n      --records "));
	CHECK("--help has the defaults", strstr(buf, "(default 1; 0.05 to 3600)"));
	CHECK("--help has the privileges",
	      strstr(buf, "Needs root, or CAP_BPF, CAP_PERFMON (the verifier) and CAP_NET_ADMIN"));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if ((int)strlen(line) > longest)
			longest = strlen(line);
	CHECK("--help lines at most 88 columns", longest <= 88);
	free(buf);
}

/* The man page's OPTIONS section: each ".TP" tag line names a long option (and its short
 * letter), with an argument or none; the set must be the table's. */
static void man_page(void)
{
	FILE *f = fopen("docs/tunflow.8", "r");
	char line[512];
	bool in = false, tag = false;
	int found = 0, extra = 0;
	bool *seen = calloc(ntab, sizeof(bool));

	CHECK("docs/tunflow.8 readable (run from the repository root)", f);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char clean[512], name[64], *p, *q, t[700];
		const struct opt *o;
		char letter = 0;
		bool arg;
		size_t k = 0;

		if (!strncmp(line, ".SH", 3)) {
			in = !strncmp(line, ".SH OPTIONS", 11);
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, ".TP", 3)) {
			tag = true;
			continue;
		}
		if (!tag)
			continue;
		tag = false;
		/* "\-" is a hyphen */
		for (p = line; *p && k < sizeof(clean) - 1; p++) {
			if (p[0] == '\\' && p[1] == '-')
				p++;
			clean[k++] = *p;
		}
		clean[k] = 0;
		clean[strcspn(clean, "\n")] = 0;
		p = strstr(clean, "--");
		if (!p) {
			snprintf(t, sizeof(t), "man page: tag without a long option: %s", clean);
			CHECK(t, false);
			continue;
		}
		q = strstr(clean, " -");
		if (q && q < p && q[2] && q[2] != '-')
			letter = q[2];
		p += 2;
		k = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
		snprintf(name, sizeof(name), "%.*s", (int)k, p);
		p += k;
		arg = strspn(p, " \"") < strlen(p);
		o = opt_find(tab, ntab, name);
		if (!o) {
			snprintf(t, sizeof(t), "man page: --%s is not in the option table", name);
			CHECK(t, false);
			extra++;
			continue;
		}
		found++;
		seen[o - tab] = true;
		snprintf(t, sizeof(t), "man page: --%s short letter", name);
		CHECK_INT(t, letter, o->letter);
		snprintf(t, sizeof(t), "man page: --%s takes a value", name);
		CHECK_INT(t, arg, o->arg != NULL);
	}
	fclose(f);
	for (size_t i = 0; i < ntab; i++) {
		char t[160];

		snprintf(t, sizeof(t), "man page: --%s documented in OPTIONS", tab[i].name);
		CHECK(t, seen[i]);
	}
	CHECK_INT("man page: OPTIONS entries", found + extra, ntab);
	free(seen);
}

int main(void)
{
	tab = config_options(&ntab);
	kinds();
	hostports();
	command_lines();
	set_by_name();
	help();
	man_page();
	return check_done();
}

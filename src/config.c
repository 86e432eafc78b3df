// SPDX-License-Identifier: GPL-2.0-only
/* Every option of tunflow, declared once in opts[]: getopt_long's array, the short
 * options, --help, the defaults and the checks all come from it (util/options.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "config.h"
#include "core/filter.h"
#include "core/side.h"
#include "names/geo.h"
#include "sources/input_file.h"
#include "util/conffile.h"
#include "util/log.h"
#include "util/options.h"
#include "util/text.h"

enum group { G_WATCH, G_REPORT, G_RECORDS, G_EXPORT, G_HISTORY, G_USERS, G_PRIVS, G_GENERAL };

static const char *const groups[] = {
    [G_WATCH] = "Interfaces",
    [G_REPORT] = "Reports",
    [G_RECORDS] = "Flow records",
    [G_EXPORT] = "Prometheus and IPFIX",
    [G_HISTORY] = "History (store, ClickHouse)",
    [G_USERS] = "Users",
    [G_PRIVS] = "Privileges",
    [G_GENERAL] = "General",
};

/* clang-format off: the option table reads best one option to a few aligned lines */
#define W(w, v)                                                                                    \
	{                                                                                          \
		.word = (w), .value = (v)                                                          \
	}
#define ALIAS(w, v)                                                                                \
	{                                                                                          \
		.word = (w), .value = (v), .alias = true                                           \
	}
static const struct opt_word directions[] = {
    W("ingress", 1 << DIR_INGRESS),
    ALIAS("in", 1 << DIR_INGRESS),
    W("egress", 1 << DIR_EGRESS),
    ALIAS("out", 1 << DIR_EGRESS),
    W("both", 1 << DIR_INGRESS | 1 << DIR_EGRESS),
    {0},
};
static const struct opt_word outputs[] = {
    W("tui", OUT_TUI), W("table", OUT_TABLE), W("json", OUT_JSON),
    W("csv", OUT_CSV), W("none", OUT_NONE),   {0},
};
static const struct opt_word modes[] = {
    W("auto", MODE_AUTO),
    W("tcx", MODE_TCX),
    W("tc", MODE_TC),
    {0},
};
static const struct opt_word on_off[] = {
    W("on", 1),
    W("off", 0),
    {0},
};
static const struct opt_word sides[] = {
    W("auto", SIDE_AUTO),
    W("server", SIDE_SERVER),
    W("client", SIDE_CLIENT),
    {0},
};
static const struct opt_word group_bys[] = {
    W("user", GROUP_USER),
    W("flow", GROUP_FLOW),
    {0},
};

static int show_help(const struct opt *o, const char *v, void *t, char *e, size_t el)
{
	(void)o, (void)v, (void)t, (void)e, (void)el;
	config_usage(stdout);
	exit(0);
}

static int show_version(const struct opt *o, const char *v, void *t, char *e, size_t el)
{
	(void)o, (void)v, (void)t, (void)e, (void)el;
	printf("tunflow %s\n", TUNFLOW_VERSION);
	exit(0);
}

/* The collector's address now: a name is looked up once, here. */
static int set_ipfix(const struct opt *o, const char *v, void *t, char *e, size_t el)
{
	struct config *c = t;

	(void)o, (void)e, (void)el;
	if (c->no_lookups) { /* the syntax is checked already; the address is not needed */
		c->ipfix.collector = v;
		c->ipfix.tcp = !strncmp(v, "tcp:", 4);
		return 0;
	}
	/* ipfix_parse() says what is wrong itself */
	return ipfix_parse(v, &c->ipfix) ? -EINVAL : 0;
}

/* A --sessions file given by name is said once when missing; the default is not. */
static int set_sessions(const struct opt *o, const char *v, void *t, char *e, size_t el)
{
	(void)o, (void)v, (void)e, (void)el;
	((struct config *)t)->users.sessions_given = true;
	return 0;
}

/* A filter expression is parsed here to be checked (a usage error names the column);
 * the pipeline parses it again for its own. */
static int check_filter(const struct opt *o, const char *v, void *t, char *e, size_t el)
{
	struct filter *f = filter_parse(v, e, el);

	(void)o, (void)t;
	filter_free(f);
	return f ? 0 : -EINVAL;
}

/* A gateway id: 1 to GATEWAY_ID_MAX letters, digits, '.', '_' or '-'. */
static int set_gateway_id(const struct opt *o, const char *v, void *t, char *e, size_t el)
{
	size_t n = strlen(v);

	(void)o, (void)t;
	if (!n || n > GATEWAY_ID_MAX || strspn(v, GATEWAY_ID_CHARS) != n) {
		snprintf(e, el, "--gateway-id: want 1 to %d letters, digits, '.', '_' or '-'",
		         GATEWAY_ID_MAX);
		return -EINVAL;
	}
	return 0;
}

#define F(member) OPT_FIELD(struct config, member)

/* One entry per option. Adding an option is adding one entry (and its man page entry:
 * test_options checks that they match). */
static const struct opt opts[] = {
    /* Interfaces */
    {"interface", 'i', "IFACE", OPT_LIST, F(interfaces), .group = G_WATCH,
     .help = "watch IFACE, as an INTERFACE argument does (repeatable; as iftop -i)"},
    {"exclude", 'x', "PATTERN", OPT_LIST, F(excludes), .group = G_WATCH,
     .help = "never watch interfaces matching PATTERN (repeatable)"},
    {"direction", 'd', "DIR", OPT_WORD, F(dirs), .words = directions, .def = "both",
     .group = G_WATCH, .help = "ingress, egress or both (default {default})"},
    {"attach", 0, "MODE", OPT_WORD, F(mode), .words = modes, .def = "auto", .group = G_WATCH,
     .help = "auto, tcx or tc (clsact filter); default {default}: tcx if present"},
    {"max-flows", 0, "N", OPT_UINT, F(max_flows), .min = 1, .max = 1 << 24, .def = "65536",
     .group = G_WATCH,
     .help = "flows of each family (IPv4, IPv6) the kernel holds per interval (default {default})"},
    {"max-table-flows", 0, "N", OPT_UINT, F(max_table_flows), .min = 1, .max = 1 << 28,
     .group = G_WATCH,
     .help = "flows (and records) user space holds; past it the longest "
             "idle end as \"evicted\" (default 4 x --max-flows)"},
    {"cleanup", 0, "IFACE", OPT_STRING, F(cleanup), .group = G_WATCH,
     .help = "remove what a killed tunflow left on IFACE (tc mode), then exit"},
    {"names", 0, "on|off", OPT_WORD, F(names), .words = on_off, .def = "on", .group = G_WATCH,
     .help = "name destinations from DNS answers, TLS SNI, QUIC and HTTP Host (default "
             "{default})"},
    {"dns-cache", 0, "N", OPT_UINT, F(dns_cache), .min = 16, .max = 1 << 24, .def = "65536",
     .group = G_WATCH, .help = "DNS answers (address -> name) kept (default {default})"},
    {"dns-min-ttl", 0, "SEC", OPT_UINT, F(dns_min_ttl), .min = 0, .max = 86400 * 7, .def = "300",
     .group = G_WATCH, .help = "keep a DNS answer at least SEC seconds (default {default})"},
    {"read", 'r', "FILE", OPT_STRING, F(replay), .group = G_WATCH,
     .help = "replay a pcap or pcapng capture (- for stdin) instead of watching "
             "interfaces; --interval in capture time"},
    {"side", 0, "auto|server|client", OPT_WORD, F(side), .words = sides, .def = "auto",
     .group = G_WATCH,
     .help = "which side of the tunnel the user is on: server (behind it), client (this "
             "host) or auto, per interface from its addresses (default {default})"},
    /* Reports */
    {"interval", 't', "SEC", OPT_SECONDS, F(interval), .min = 0.05, .max = 3600, .def = "1",
     .group = G_REPORT,
     .help = "harvest and report every SEC seconds (default {default}; {range})"},
    {"duration", 0, "SEC", OPT_SECONDS, F(duration), .min = 0.05, .max = 1e9, .group = G_REPORT,
     .help = "stop after SEC seconds (default: run until SIGINT/SIGTERM)"},
    {"output", 'o', "FORMAT", OPT_WORD, F(output), .words = outputs, .group = G_REPORT,
     .help = "tui, table, json, csv or none (default: tui on a terminal, else json)"},
    {"top", 0, "N", OPT_UINT, F(table.top), .min = 1, .max = 1000000, .group = G_REPORT,
     .help = "table rows at most (default: what fits the terminal)"},
    {"wide", 'w', NULL, OPT_FLAG, F(table.wide), .group = G_REPORT,
     .help = "table with full-width addresses (wider than 80 columns)"},
    {"numeric", 'n', NULL, OPT_FLAG, F(numeric), .group = G_REPORT,
     .help = "addresses, never destination names, in the table (as tcpdump -n)"},
    {"group-by", 0, "user", OPT_WORD, F(group), .words = group_bys, .group = G_REPORT,
     .help = "per-user totals (bytes each way, flows, top destinations)"},
    {"geo", 0, "on|off", OPT_WORD, F(geo), .words = on_off, .def = "on", .group = G_REPORT,
     .help = "AS and country of remote addresses from libloc (default {default})"},
    {"geo-db", 0, "FILE", OPT_STRING, F(geo_db), .group = G_REPORT,
     .help = "libloc location database (default " GEO_DB_VAR ", else " GEO_DB_SHARE ")"},
    {"filter", 'f', "EXPR", OPT_STRING, F(filter), .set = check_filter, .group = G_REPORT,
     .help = "only flows and records matching EXPR, in every output: 'user alice and "
             "port 443' (FILTERS in tunflow(8))"},
    {"forget", 0, "SEC", OPT_SECONDS, F(forget), .min = 0.1, .max = 86400, .def = "60",
     .group = G_REPORT,
     .help = "live views forget a flow SEC after its last packet (default {default})"},
    /* Flow records */
    {"records", 0, NULL, OPT_FLAG, F(records), .group = G_RECORDS,
     .help = "flow records (JSON): both directions in one, with end reason"},
    {"uniflow", 0, NULL, OPT_FLAG, F(rec.uniflow), .group = G_RECORDS,
     .help = "records: one per direction instead"},
    {"idle-timeout", 0, "SEC", OPT_SECONDS, F(rec.idle_s), .min = 0.05, .max = 86400 * 7,
     .def = "15", .group = G_RECORDS,
     .help = "records: end after SEC without packets (default {default})"},
    {"active-timeout", 0, "SEC", OPT_SECONDS, F(rec.active_s), .min = 0.05, .max = 86400 * 7,
     .def = "1800", .group = G_RECORDS,
     .help = "records: report long flows every SEC (default {default})"},
    {"tcp-linger", 0, "SEC", OPT_SECONDS, F(rec.tcp_linger_s), .min = 0, .max = 3600, .def = "2",
     .group = G_RECORDS, .help = "records: end SEC after FIN both ways or RST (default {default})"},
    /* Prometheus and IPFIX */
    {"metrics", 0, "[ADDR:]PORT", OPT_HOSTPORT, F(metrics), .group = G_EXPORT,
     .want = "PORT, ADDRESS:PORT or [IPV6]:PORT",
     .help = "serve Prometheus /metrics (default address 127.0.0.1)"},
    {"metrics-top", 0, "N", OPT_UINT, F(metrics_top), .min = 1, .max = 1000, .def = "10",
     .group = G_EXPORT, .help = "destinations /metrics shows (default {default})"},
    {"metrics-web-config", 0, "FILE", OPT_STRING, F(metrics_web_config), .group = G_EXPORT,
     .help = "/metrics TLS and basic auth (Prometheus web config)"},
    {"metrics-user-idle", 0, "SEC", OPT_SECONDS, F(metrics_user_idle), .min = 1, .max = 86400 * 7,
     .def = "600", .group = G_EXPORT,
     .help = "drop a user's series after SEC without traffic (default {default})"},
    {"ipfix", 0, "[udp:|tcp:]HOST:PORT", OPT_COLLECTOR, 0, 0, .group = G_EXPORT,
     .want = "[udp:|tcp:]HOST:PORT (a collector, e.g. udp:192.0.2.9:4739)", .set = set_ipfix,
     .help = "export flow records to an IPFIX collector"},
    {"ipfix-domain", 0, "ID", OPT_UINT, F(ipfix.domain), .min = 0, .max = UINT32_MAX, .def = "0",
     .group = G_EXPORT, .help = "IPFIX observation domain id (default {default})"},
    {"ipfix-backlog", 0, "N", OPT_UINT, F(ipfix.backlog), .min = 1, .max = 100000000,
     .def = "100000", .group = G_EXPORT,
     .help = "records that may wait for the collector (default {default})"},
    {"ipfix-templates", 0, "SEC", OPT_SECONDS, F(ipfix.template_s), .min = 1, .max = 86400,
     .def = "60", .group = G_EXPORT,
     .help = "UDP: re-send the templates every SEC (default {default})"},
    /* History (store, ClickHouse) */
    {"gateway-id", 0, "ID", OPT_STRING, F(gateway_id), .set = set_gateway_id, .group = G_HISTORY,
     .help = "this gateway's name in stored records (default: the host name)"},
    {"store", 0, "PATH", OPT_STRING, F(store), .group = G_HISTORY,
     .help = "keep every flow record in the SQLite store PATH (see tunflow report)"},
    {"store-retention", 0, "DAYS", OPT_UINT, F(store_retention), .min = 0, .max = 100000,
     .def = "0", .group = G_HISTORY,
     .help = "--store: delete the days older than DAYS (UTC; default 0: keep all)"},
    {"clickhouse", 0, "URL", OPT_STRING, F(clickhouse.url), .group = G_HISTORY,
     .help = "insert flow records into ClickHouse over HTTP(S), e.g. http://127.0.0.1:8123"},
    {"clickhouse-user", 0, "NAME", OPT_STRING, F(clickhouse.user), .group = G_HISTORY,
     .help = "ClickHouse user (default: default)"},
    {"clickhouse-password-file", 0, "FILE", OPT_STRING, F(clickhouse.password_file),
     .group = G_HISTORY, .help = "ClickHouse password: the first line of FILE"},
    {"clickhouse-database", 0, "NAME", OPT_STRING, F(clickhouse.database), .def = "default",
     .group = G_HISTORY, .help = "ClickHouse database, which must exist (default {default})"},
    {"clickhouse-table", 0, "NAME", OPT_STRING, F(clickhouse.table), .def = "tunflow_flows",
     .group = G_HISTORY, .help = "ClickHouse table, created when missing (default {default})"},
    {"clickhouse-ttl", 0, "DAYS", OPT_UINT, F(clickhouse.ttl_days), .min = 0, .max = 100000,
     .def = "0", .group = G_HISTORY,
     .help = "a new table keeps DAYS of records (ClickHouse 19.6+; default 0: all)"},
    {"clickhouse-backlog", 0, "N", OPT_UINT, F(clickhouse.backlog), .min = 1, .max = 100000000,
     .def = "1000000", .group = G_HISTORY,
     .help = "records that may wait for ClickHouse (default {default})"},
    {"clickhouse-ca", 0, "FILE", OPT_STRING, F(clickhouse.ca_file), .group = G_HISTORY,
     .help = "https: trust the CA certificates in FILE"},
    {"clickhouse-insecure", 0, NULL, OPT_FLAG, F(clickhouse.insecure), .group = G_HISTORY,
     .help = "https: do not check the server's certificate"},
    /* Users */
    {"user-map", 0, "FILE", OPT_STRING, F(users.map), .group = G_USERS,
     .help = "interface or address/prefix -> user lines; SIGHUP re-reads"},
    {"openvpn-status", 0, "FILE", OPT_STRING, F(users.openvpn_status), .group = G_USERS,
     .help = "users by inner address from OpenVPN's status file"},
    {"sessions", 0, "FILE", OPT_STRING, F(users.sessions), .set = set_sessions, .group = G_USERS,
     .help = "VPN session events from tunflow-session-hook, read when "
             "present (default $TUNFLOW_SESSIONS, else " SESSIONS_FILE ")"},
    {"trusted-writer", 0, "USER", OPT_STRING, F(users.trusted_writer), .group = G_USERS,
     .help = "besides root, the user who may write the sessions, status and map files "
             "(e.g. OpenVPN's 'user nobody')"},
    {"wireguard", 0, "IFACE", OPT_LIST, F(users.wireguard), .group = G_USERS,
     .help = "name IFACE's flows by WireGuard peer (wireguard-go's UAPI socket; "
             "found by itself for a watched interface with a socket; repeatable)"},
    {"wireguard-names", 0, "FILE", OPT_STRING, F(users.wireguard_names), .group = G_USERS,
     .help = "WireGuard peer names from the \"# Name = USER\" lines above [Peer] in "
             "a WireGuard config file (default: the short public key)"},
    /* Privileges */
    {"user", 0, "NAME", OPT_STRING, F(user), .group = G_PRIVS,
     .help = "after start, run as user NAME (keeping only CAP_NET_ADMIN)"},
    /* General */
    {"quiet", 'q', NULL, OPT_FLAG, F(quiet), .group = G_GENERAL,
     .help = "no status lines on stderr"},
    {"verbose", 'v', NULL, OPT_FLAG, F(verbose), .group = G_GENERAL,
     .help = "libbpf diagnostics (verifier log) on stderr"},
    {"config", 0, "FILE", OPT_STRING, F(config), .group = G_GENERAL,
     .help = "key = value lines, a key per long option (default " CONFIG_FILE
             " when present); the command line wins; SIGHUP re-reads"},
    {"help", 'h', NULL, OPT_ACTION, 0, 0, .set = show_help, .group = G_GENERAL,
     .help = "this help"},
    {"version", 'V', NULL, OPT_ACTION, 0, 0, .set = show_version, .group = G_GENERAL,
     .help = "version"},
};
/* clang-format on */

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

const struct opt *config_options(size_t *n)
{
	*n = NOPTS;
	return opts;
}

void config_usage(FILE *out)
{
	fputs("Usage: tunflow [OPTIONS] [INTERFACE ...]\n"
	      "Show the flows on VPN tunnel (and Ethernet) interfaces, counted by a tc/eBPF "
	      "program.\n"
	      "INTERFACE (or -i INTERFACE) is a name, a glob ('vpns*') or =NAME (NAME literally:\n"
	      "'=vpn[1]'); with none, every L3 tunnel interface.\n"
	      "Interfaces are followed as they come and go.\n"
	      "\n",
	      out);
	opt_usage(out, opts, NOPTS, groups, sizeof(groups) / sizeof(groups[0]));
	fputs("\n"
	      "Examples:\n"
	      "  tunflow tun0                       live table of tun0's flows, both directions\n"
	      "  tunflow 'vpns*' -o json            every ocserv user tunnel, JSON lines on "
	      "stdout\n"
	      "  tunflow --group-by user 'vpns*'    who uses how much (with "
	      "tunflow-session-hook)\n"
	      "  tunflow -d egress -t 5 eth0 tun0   egress only, every 5 seconds\n"
	      "  tunflow --duration 60 tun0 > f.json  one minute of flows, then exit\n"
	      "  tunflow -f 'user alice and port 443' 'vpns*'  only alice's flows to port 443\n"
	      "  tunflow --cleanup tun0             after 'kill -9' in tc mode: remove the "
	      "leftovers\n"
	      "  tunflow --store /var/lib/tunflow/flows.db 'vpns*'   keep every flow record;\n"
	      "                                     then 'tunflow report --help'\n"
	      "\n"
	      "Needs root, or CAP_BPF, CAP_PERFMON (the verifier) and CAP_NET_ADMIN; after "
	      "start it\nkeeps only CAP_NET_ADMIN. JSON schema: docs/json.md.\n",
	      out);
}

int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int set_one(const struct opt *o, const char *value, struct config *c)
{
	char err[OPT_ERRLEN] = "";

	if (!opt_apply(o, value, c, err, sizeof(err)))
		return 0;
	if (*err)
		pr_err("%s", err);
	return -EINVAL;
}

int options_set(const char *long_name, const char *value, struct config *c)
{
	const struct opt *o = opt_find(opts, NOPTS, long_name);

	if (!o)
		return fail("unknown option '--%s' (see --help)", long_name);
	if (o->arg && !value)
		return fail("--%s needs a value (see --help)", long_name);
	return set_one(o, value, c);
}

int config_defaults(struct config *c)
{
	char err[OPT_ERRLEN] = "";

	if (!c->excludes)
		c->excludes = g_ptr_array_new();
	if (!opt_defaults(opts, NOPTS, c, err, sizeof(err)))
		return 0;
	return fail("%s", err);
}

/* Reading one config file into a config. */
struct loader {
	struct config *c;
	size_t seen[NOPTS]; /* the line each key was set on; 0: not yet */
};

/* A copy of s that lives as long as c. */
static char *keep(struct config *c, const char *s)
{
	char *k = g_strdup(s);

	if (!c->owned)
		c->owned = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(c->owned, k);
	return k;
}

static int parse_bool(const char *v, bool *b)
{
	static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};

	for (size_t i = 0; i < 3; i++) {
		if (!strcmp(v, yes[i]) || !strcmp(v, no[i])) {
			*b = !strcmp(v, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

static int load_key(void *arg, const char *key, char *value, size_t line, char *err, size_t errlen)
{
	struct loader *ld = arg;
	struct config *c = ld->c;
	const struct opt *o;
	char *qk = text_clean(key, strlen(key), 80), *qv;
	int ret = -EINVAL;
	bool on;

	if (!strcmp(key, "interface")) {
		if (!*value) {
			snprintf(err, errlen, "interface has no value: write interface = NAME");
		} else {
			if (!c->interfaces)
				c->interfaces = g_ptr_array_new();
			g_ptr_array_add(c->interfaces, keep(c, value));
			ret = 0;
		}
		goto out;
	}
	o = opt_find(opts, NOPTS, key);
	if (!o) {
		snprintf(err, errlen,
		         "unknown key '%s': every long option without its '--' is a "
		         "key (see --help)",
		         qk);
		goto out;
	}
	if (o->kind == OPT_ACTION || !strcmp(key, "config")) {
		snprintf(err, errlen, "%s is not a setting: give --%s on the command line", qk, qk);
		goto out;
	}
	if (o->kind != OPT_LIST && ld->seen[o - opts]) {
		snprintf(err, errlen, "%s is set again (first on line %zu): keep one", qk,
		         ld->seen[o - opts]);
		goto out;
	}
	ld->seen[o - opts] = line;
	if (!*value) {
		snprintf(err, errlen, "%s has no value: write %s = VALUE, or remove the line", qk,
		         qk);
		goto out;
	}
	if (o->kind == OPT_FLAG) {
		if (parse_bool(value, &on)) {
			qv = text_clean(value, strlen(value), 80);
			snprintf(err, errlen,
			         "%s wants true or false (yes or no, 1 or 0), not '%s'", qk, qv);
			g_free(qv);
			goto out;
		}
		if (!on) {
			*(bool *)((char *)c + o->off) = false;
			ret = 0;
			goto out;
		}
		value = NULL;
	}
	ret = opt_apply(o, value ? keep(c, value) : NULL, c, err, errlen);
	/* the command line's message, "--interval wants ...": the key has no "--" here */
	if (ret && !strncmp(err, "--", 2))
		memmove(err, err + 2, strlen(err + 2) + 1);
out:
	g_free(qk);
	return ret;
}

int config_parse_text(const char *text, size_t len, struct config *c, size_t *line, char *err,
                      size_t errlen)
{
	struct loader *ld = g_new0(struct loader, 1);
	int ret;

	ld->c = c;
	*line = 0;
	err[0] = 0;
	ret = conffile_parse(text, len, load_key, ld, line, err, errlen);
	g_free(ld);
	return ret;
}

int config_load_text(const char *text, size_t len, const char *name, struct config *c)
{
	char err[OPT_ERRLEN];
	size_t line;

	if (!config_parse_text(text, len, c, &line, err, sizeof(err)))
		return 0;
	{
		char *qn = text_clean(name, strlen(name), 200);

		/* empty: the option's own check said why (--ipfix: a name not found) */
		pr_err("%s:%zu: %s", qn, line, *err ? err : "this value is refused (see above)");
		g_free(qn);
	}
	return -EINVAL;
}

int config_load(const char *path, struct config *c)
{
	char why[OPT_ERRLEN], *buf = NULL;
	struct stat st;
	size_t len;
	int err = input_load("the config file", path, NULL, &st, &buf, &len, why, sizeof(why));

	if (err)
		return fail("%s", why);
	err = config_load_text(buf, len, path, c);
	g_free(buf);
	return err;
}

void config_free(struct config *c)
{
	if (c->excludes)
		g_ptr_array_free(c->excludes, TRUE);
	if (c->interfaces)
		g_ptr_array_free(c->interfaces, TRUE);
	if (c->owned)
		g_ptr_array_free(c->owned, TRUE);
	if (c->users.wireguard)
		g_ptr_array_free(c->users.wireguard, TRUE);
	c->excludes = c->interfaces = c->owned = c->users.wireguard = NULL;
}

void config_set_log_level(const struct config *c)
{
	log_set_level(c->quiet ? LOG_LVL_WARN : c->verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
}

/* The file the command line names, else the default one when it exists; NULL: none. */
static const char *config_path(const struct config *c)
{
	const char *env;

	if (c->config)
		return c->config;
	if (!c->default_config)
		return NULL;
	env = getenv("TUNFLOW_CONFIG");
	if (env)
		return *env ? env : NULL;
	return access(c->default_config, F_OK) ? NULL : c->default_config;
}

/* getopt_long over argv: the table index of each option in turn (-1 at the end), its
 * value in *value; -2 after a usage error (said when say). */
static int next_opt(int argc, char **argv, const struct option *longs, const char *shorts, bool say,
                    const char **value)
{
	int o = getopt_long(argc, argv, shorts, longs, NULL), i;

	if (o == -1)
		return -1;
	if (o == ':') {
		if (say)
			fail("%s needs a value (see --help)", argv[optind - 1]);
		return -2;
	}
	if ((i = opt_index_of(opts, NOPTS, o)) < 0) {
		if (say)
			fail("unknown option '%s' (see --help)", argv[optind - 1]);
		return -2;
	}
	*value = optarg;
	return i;
}

/* The host name as a gateway id: what is not allowed in one becomes '_'. */
static const char *config_host_id(struct config *c)
{
	char host[GATEWAY_ID_MAX + 1] = "";

	if (gethostname(host, sizeof(host)) || !*host)
		snprintf(host, sizeof(host), "gateway");
	host[GATEWAY_ID_MAX] = 0;
	for (char *p = host; *p; p++)
		if (!strchr(GATEWAY_ID_CHARS, *p))
			*p = '_';
	return keep(c, host);
}

int parse_args(int argc, char **argv, struct config *c)
{
	struct option *longs = opt_getopt_array(opts, NOPTS);
	char *shorts = opt_short_string(opts, NOPTS);
	const struct opt *conf = opt_find(opts, NOPTS, "config");
	const struct opt *ifs = opt_find(opts, NOPTS, "interface");
	bool given[NOPTS] = {0};
	const char *path, *v;
	char **copy = NULL;
	int i, err = 0;

	if (!longs || !shorts) {
		err = fail("out of memory");
		goto out;
	}
	err = config_defaults(c);
	opterr = 0;
	/* First --config alone (a usage error is said on the second pass), then the file,
	 * then the command line over it. */
	if (!err && !(copy = g_memdup2(argv, sizeof(*argv) * (argc + 1))))
		err = fail("out of memory");
	optind = 0; /* on a copy: getopt_long reorders what it reads */
	while (!err && (i = next_opt(argc, copy, longs, shorts, false, &v)) != -1)
		if (i >= 0 && &opts[i] == conf)
			c->config = v;
	g_free(copy);
	path = config_path(c);
	if (!err && path)
		err = config_load(path, c);
	optind = 0;
	while (!err && (i = next_opt(argc, argv, longs, shorts, true, &v)) != -1) {
		if (i < 0) {
			err = -EINVAL;
			break;
		}
		/* a list on the command line replaces the file's */
		if (opts[i].kind == OPT_LIST && !given[i] && opts[i].size) {
			GPtrArray *list = *(GPtrArray **)((char *)c + opts[i].off);

			if (list) /* made by the first value, in the file or here */
				g_ptr_array_set_size(list, 0);
		}
		given[i] = true;
		err = set_one(&opts[i], v, c);
	}
	if (!err && optind < argc) {
		/* after -i's (given here); else they replace the file's */
		if (c->interfaces && !given[ifs - opts]) {
			g_ptr_array_free(c->interfaces, TRUE);
			c->interfaces = NULL;
		}
		if (!c->interfaces)
			c->interfaces = g_ptr_array_new();
		for (int a = optind; a < argc; a++)
			g_ptr_array_add(c->interfaces, argv[a]);
	}
	/* A harvest brings at most --max-flows flows of each family: four harvests' worth
	 * of one family's all-new flows fit, while one tunnel's scan cannot grow the tables
	 * past it. */
	if (!c->users.sessions) {
		const char *env = getenv("TUNFLOW_SESSIONS");

		c->users.sessions = env && *env ? env : SESSIONS_FILE;
	}
	if (!c->gateway_id)
		c->gateway_id = config_host_id(c);
	if (!c->max_table_flows)
		c->max_table_flows = 4 * (size_t)c->max_flows;
	c->rec.max = c->max_table_flows;
out:
	free(longs);
	free(shorts);
	return err;
}

/* Whether option o holds the same value in a and b. */
static bool same(const struct opt *o, const struct config *a, const struct config *b)
{
	const void *fa = (const char *)a + o->off, *fb = (const char *)b + o->off;

	if (o->kind == OPT_COLLECTOR)
		return !g_strcmp0(a->ipfix.collector, b->ipfix.collector);
	if (!o->size)
		return true;
	switch (o->kind) {
	case OPT_STRING:
	case OPT_HOSTPORT:
		return !g_strcmp0(*(char *const *)fa, *(char *const *)fb);
	case OPT_LIST: {
		const GPtrArray *la = *(GPtrArray *const *)fa, *lb = *(GPtrArray *const *)fb;
		guint na = la ? la->len : 0, nb = lb ? lb->len : 0;

		if (na != nb)
			return false;
		for (guint i = 0; i < na; i++)
			if (strcmp(la->pdata[i], lb->pdata[i]) != 0)
				return false;
		return true;
	}
	default:
		return !memcmp(fa, fb, o->size);
	}
}

size_t config_changes(const struct config *a, const struct config *b, const char **names,
                      size_t max)
{
	const struct opt *ifs = opt_find(opts, NOPTS, "interface");
	size_t n = 0;

	/* "interface" (-i, and the arguments) last */
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].kind != OPT_ACTION && &opts[i] != ifs && !same(&opts[i], a, b) &&
		    n < max)
			names[n++] = opts[i].name;
	if (!same(ifs, a, b) && n < max)
		names[n++] = "interface";
	return n;
}

/* Changed by SIGHUP without a restart: the harvest interval (the loop re-arms its
 * timer) and the log level. The user map's contents are re-read on every SIGHUP; its
 * path, like every other key, is fixed at start. */
static const char *const runtime_keys[] = {"interval", "quiet", "verbose"};

bool config_key_runtime(const char *key)
{
	for (size_t i = 0; i < sizeof(runtime_keys) / sizeof(runtime_keys[0]); i++)
		if (!strcmp(key, runtime_keys[i]))
			return true;
	return false;
}

int config_reload(struct config *given, int argc, char **argv)
{
	struct config fresh = {.default_config = given->default_config, .no_lookups = true};
	const char *names[NOPTS + 1], *path;
	size_t n;
	char *qp;
	int err;

	err = parse_args(argc, argv, &fresh);
	path = config_path(&fresh);
	qp = path ? text_clean(path, strlen(path), 200) : g_strdup("no config file");
	if (err) {
		pr_warn("%s not applied: the running configuration stays", qp);
		goto out;
	}
	n = config_changes(given, &fresh, names, NOPTS + 1);
	for (size_t i = 0; i < n; i++) {
		const struct opt *o = opt_find(opts, NOPTS, names[i]);

		if (!o || !config_key_runtime(names[i])) {
			pr_warn("%s changed in %s: takes effect after a restart", names[i], qp);
			continue;
		}
		memcpy((char *)given + o->off, (char *)&fresh + o->off, o->size);
		pr_info("%s changed in %s: applied", names[i], qp);
	}
	config_set_log_level(given);
	if (!n && path)
		pr_info("re-read %s: nothing changed", qp);
out:
	g_free(qp);
	config_free(&fresh);
	return err;
}

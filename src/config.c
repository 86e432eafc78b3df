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
#include "config.h"
#include "util/log.h"
#include "util/options.h"

enum group { G_WATCH, G_REPORT, G_RECORDS, G_EXPORT, G_USERS, G_PRIVS, G_GENERAL };

static const char *const groups[] = {
    [G_WATCH] = "Interfaces",     [G_REPORT] = "Reports",
    [G_RECORDS] = "Flow records", [G_EXPORT] = "Prometheus and IPFIX",
    [G_USERS] = "Users",          [G_PRIVS] = "Privileges",
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
    W("table", OUT_TABLE),
    W("json", OUT_JSON),
    W("csv", OUT_CSV),
    {0},
};
static const struct opt_word modes[] = {
    W("auto", MODE_AUTO),
    W("tcx", MODE_TCX),
    W("tc", MODE_TC),
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

#define F(member) OPT_FIELD(struct config, member)

/* One entry per option. Adding an option is adding one entry (and its man page entry:
 * test_options checks that they match). */
static const struct opt opts[] = {
    /* Interfaces */
    {"exclude", 'x', "PATTERN", OPT_LIST, F(excludes), .group = G_WATCH,
     .help = "never watch interfaces matching PATTERN (repeatable)"},
    {"direction", 'd', "DIR", OPT_WORD, F(dirs), .words = directions, .def = "both",
     .group = G_WATCH, .help = "ingress, egress or both (default {default})"},
    {"attach", 0, "MODE", OPT_WORD, F(mode), .words = modes, .def = "auto", .group = G_WATCH,
     .help = "auto, tcx or tc (clsact filter); default {default}: tcx if present"},
    {"max-flows", 0, "N", OPT_UINT, F(max_flows), .min = 1, .max = 1 << 24, .def = "65536",
     .group = G_WATCH, .help = "flows the kernel holds per interval (default {default})"},
    {"max-table-flows", 0, "N", OPT_UINT, F(max_table_flows), .min = 1, .max = 1 << 28,
     .group = G_WATCH,
     .help = "flows (and records) user space holds; past it the longest "
             "idle end as \"evicted\" (default 4 x --max-flows)"},
    {"cleanup", 0, "IFACE", OPT_STRING, F(cleanup), .group = G_WATCH,
     .help = "remove what a killed tunflow left on IFACE (tc mode), then exit"},
    /* Reports */
    {"interval", 't', "SEC", OPT_SECONDS, F(interval), .min = 0.05, .max = 3600, .def = "1",
     .group = G_REPORT,
     .help = "harvest and report every SEC seconds (default {default}; {range})"},
    {"duration", 0, "SEC", OPT_SECONDS, F(duration), .min = 0.05, .max = 1e9, .group = G_REPORT,
     .help = "stop after SEC seconds (default: run until SIGINT/SIGTERM)"},
    {"output", 'o', "FORMAT", OPT_WORD, F(output), .words = outputs, .group = G_REPORT,
     .help = "table, json or csv (default: table on a terminal, else json)"},
    {"top", 'n', "N", OPT_UINT, F(table.top), .min = 1, .max = 1000000, .group = G_REPORT,
     .help = "table rows at most (default: what fits the terminal)"},
    {"wide", 'w', NULL, OPT_FLAG, F(table.wide), .group = G_REPORT,
     .help = "table with full-width addresses (wider than 80 columns)"},
    {"group-by", 0, "user", OPT_WORD, F(group), .words = group_bys, .group = G_REPORT,
     .help = "per-user totals (bytes each way, flows, top destinations)"},
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
	      "INTERFACE is a name, a glob ('vpns*') or =NAME (NAME literally: '=vpn[1]'); with\n"
	      "none, every L3 tunnel interface.\n"
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
	      "  tunflow --cleanup tun0             after 'kill -9' in tc mode: remove the "
	      "leftovers\n"
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

int parse_args(int argc, char **argv, struct config *c)
{
	struct option *longs = opt_getopt_array(opts, NOPTS);
	char *shorts = opt_short_string(opts, NOPTS);
	int o, i, err = 0;

	if (!longs || !shorts) {
		err = fail("out of memory");
		goto out;
	}
	err = config_defaults(c);
	opterr = 0;
	while (!err && (o = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (o == ':')
			err = fail("%s needs a value (see --help)", argv[optind - 1]);
		else if ((i = opt_index_of(opts, NOPTS, o)) < 0)
			err = fail("unknown option '%s' (see --help)", argv[optind - 1]);
		else
			err = set_one(&opts[i], optarg, c);
	}
	/* A harvest brings at most --max-flows flows: four harvests' worth of all-new flows
	 * fit, while one tunnel's scan cannot grow the tables past it. */
	if (!c->users.sessions) {
		const char *env = getenv("TUNFLOW_SESSIONS");

		c->users.sessions = env && *env ? env : SESSIONS_FILE;
	}
	if (!c->max_table_flows)
		c->max_table_flows = 4 * (size_t)c->max_flows;
	c->rec.max = c->max_table_flows;
out:
	free(longs);
	free(shorts);
	return err;
}

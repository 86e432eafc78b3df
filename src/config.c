// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"

static void usage(FILE *out)
{
	fprintf(out,
"Usage: tunflow [OPTIONS] [INTERFACE ...]\n"
"Show the flows on VPN tunnel (and Ethernet) interfaces, counted by a tc/eBPF program.\n"
"INTERFACE is a name or a glob ('vpns*'); with none, every L3 tunnel interface.\n"
"Interfaces are followed as they come and go.\n"
"\n"
"Options:\n"
"  -x, --exclude PATTERN  never watch interfaces matching PATTERN (repeatable)\n"
"  -d, --direction DIR    ingress, egress or both (default both)\n"
"  -t, --interval SEC     harvest and report every SEC seconds (default 1; 0.05 to 3600)\n"
"  -o, --output FORMAT    table, json or csv (default: table on a terminal, else json)\n"
"      --records          flow records (JSON): both directions in one, with end reason\n"
"      --uniflow          records: one per direction instead\n"
"      --idle-timeout SEC    records: end after SEC without packets (default 15)\n"
"      --active-timeout SEC  records: report long flows every SEC (default 1800)\n"
"      --tcp-linger SEC   records: end SEC after FIN both ways or RST (default 2)\n"
"      --metrics [ADDR:]PORT  serve Prometheus /metrics (default address 127.0.0.1)\n"
"      --metrics-top N    destinations /metrics shows (default 10)\n"
"      --ipfix [udp:|tcp:]HOST:PORT  export flow records to an IPFIX collector\n"
"      --ipfix-domain ID  IPFIX observation domain id (default 0)\n"
"      --ipfix-backlog N  records that may wait for the collector (default 100000)\n"
"      --ipfix-templates SEC  UDP: re-send the templates every SEC (default 60)\n"
"      --duration SEC     stop after SEC seconds (default: run until SIGINT/SIGTERM)\n"
"      --max-flows N      flows the kernel holds per interval (default 65536)\n"
"      --attach MODE      auto, tcx or tc (clsact filter); default auto: tcx if present\n"
"  -n, --top N            table rows at most (default: what fits the terminal)\n"
"  -w, --wide             table with full-width addresses (wider than 80 columns)\n"
"      --group-by user    per-user totals (bytes each way, flows, top destinations)\n"
"      --user-map FILE    interface or address/prefix -> user lines; SIGHUP re-reads\n"
"      --openvpn-status FILE  users by inner address from OpenVPN's status file\n"
"      --sessions FILE    VPN session events from tunflow-session-hook, read when\n"
"                         present (default $TUNFLOW_SESSIONS, else " SESSIONS_FILE ")\n"
"      --trusted-writer USER  besides root, the user who may write the sessions,\n"
"                         status and map files (e.g. OpenVPN's 'user nobody')\n"
"      --cleanup IFACE    remove what a killed tunflow left on IFACE (tc mode), then exit\n"
"  -q, --quiet            no status lines on stderr\n"
"  -v, --verbose          libbpf diagnostics (verifier log) on stderr\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Examples:\n"
"  tunflow tun0                       live table of tun0's flows, both directions\n"
"  tunflow 'vpns*' -o json            every ocserv user tunnel, JSON lines on stdout\n"
"  tunflow --group-by user 'vpns*'    who uses how much (with tunflow-session-hook)\n"
"  tunflow -d egress -t 5 eth0 tun0   egress only, every 5 seconds\n"
"  tunflow --duration 60 tun0 > f.json  one minute of flows, then exit\n"
"  tunflow --cleanup tun0             after 'kill -9' in tc mode: remove the leftovers\n"
"\n"
"Needs root, or CAP_BPF and CAP_NET_ADMIN. JSON schema: docs/json.md.\n");
}

int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("tunflow: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -EINVAL;
}

static int parse_seconds(const char *opt, const char *s, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*out) || *out < lo || *out > hi)
		return fail("%s wants seconds from %g to %g, not '%s'", opt, lo, hi, s);
	return 0;
}

static int parse_uint(const char *opt, const char *s, unsigned long lo, unsigned long hi,
		      unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *out < lo || *out > hi)
		return fail("%s wants a whole number from %lu to %lu, not '%s'", opt, lo, hi, s);
	return 0;
}

/* *out = the index of s in words (n of them), or a one-line error naming them all. */
static int pick(const char *opt, const char *s, const char *const *words, int n, int *out)
{
	char list[128] = "";

	for (int i = 0; i < n; i++) {
		if (!strcmp(s, words[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", words[i],
			 i == n - 2 ? " or " : i < n - 2 ? ", " : "");
	}
	return fail("%s wants %s, not '%s'", opt, list, s);
}

enum {
	OPT_DURATION = 256, OPT_MAX_FLOWS, OPT_ATTACH, OPT_CLEANUP, OPT_GROUP_BY, OPT_USER_MAP,
	OPT_OPENVPN, OPT_SESSIONS, OPT_RECORDS, OPT_UNIFLOW, OPT_IDLE, OPT_ACTIVE, OPT_LINGER,
	OPT_METRICS, OPT_METRICS_TOP, OPT_IPFIX, OPT_IPFIX_DOMAIN, OPT_IPFIX_BACKLOG,
	OPT_IPFIX_TEMPLATES, OPT_TRUSTED_WRITER,
};

int parse_args(int argc, char **argv, struct config *c)
{
	static const struct option opts[] = {
		{"direction", required_argument, NULL, 'd'},
		{"interval", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
		{"attach", required_argument, NULL, OPT_ATTACH},
		{"top", required_argument, NULL, 'n'},
		{"wide", no_argument, NULL, 'w'},
		{"cleanup", required_argument, NULL, OPT_CLEANUP},
		{"exclude", required_argument, NULL, 'x'},
		{"group-by", required_argument, NULL, OPT_GROUP_BY},
		{"user-map", required_argument, NULL, OPT_USER_MAP},
		{"openvpn-status", required_argument, NULL, OPT_OPENVPN},
		{"sessions", required_argument, NULL, OPT_SESSIONS},
		{"trusted-writer", required_argument, NULL, OPT_TRUSTED_WRITER},
		{"records", no_argument, NULL, OPT_RECORDS},
		{"uniflow", no_argument, NULL, OPT_UNIFLOW},
		{"idle-timeout", required_argument, NULL, OPT_IDLE},
		{"active-timeout", required_argument, NULL, OPT_ACTIVE},
		{"tcp-linger", required_argument, NULL, OPT_LINGER},
		{"metrics", required_argument, NULL, OPT_METRICS},
		{"metrics-top", required_argument, NULL, OPT_METRICS_TOP},
		{"ipfix", required_argument, NULL, OPT_IPFIX},
		{"ipfix-domain", required_argument, NULL, OPT_IPFIX_DOMAIN},
		{"ipfix-backlog", required_argument, NULL, OPT_IPFIX_BACKLOG},
		{"ipfix-templates", required_argument, NULL, OPT_IPFIX_TEMPLATES},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	unsigned long u;
	int o, i;

	c->dirs = 1 << DIR_INGRESS | 1 << DIR_EGRESS;
	c->interval = 1;
	c->max_flows = 65536;
	c->excludes = g_ptr_array_new();
	c->users.sessions = getenv("TUNFLOW_SESSIONS") && *getenv("TUNFLOW_SESSIONS")
				    ? getenv("TUNFLOW_SESSIONS") : SESSIONS_FILE;
	c->metrics_top = 10;
	c->ipfix = (struct ipfix_cfg){.backlog = 100000, .template_s = 60};
	c->rec = (struct record_cfg){.idle_s = 15, .active_s = 1800, .tcp_linger_s = 2};
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":d:t:o:n:x:wqvhV", opts, NULL)) != -1) {
		switch (o) {
		case 'd':
			if (!strcmp(optarg, "ingress") || !strcmp(optarg, "in"))
				c->dirs = 1 << DIR_INGRESS;
			else if (!strcmp(optarg, "egress") || !strcmp(optarg, "out"))
				c->dirs = 1 << DIR_EGRESS;
			else if (!strcmp(optarg, "both"))
				c->dirs = 1 << DIR_INGRESS | 1 << DIR_EGRESS;
			else
				return fail("--direction wants ingress, egress or both, not '%s'",
					    optarg);
			break;
		case 't':
			if (parse_seconds("--interval", optarg, 0.05, 3600, &c->interval))
				return -EINVAL;
			break;
		case 'o': /* in the order of OUT_TABLE, OUT_JSON, OUT_CSV */
			if (pick("--output", optarg, (const char *[]){"table", "json", "csv"}, 3, &i))
				return -EINVAL;
			c->output = OUT_TABLE + i;
			break;
		case OPT_DURATION:
			if (parse_seconds("--duration", optarg, 0.05, 1e9, &c->duration))
				return -EINVAL;
			break;
		case OPT_MAX_FLOWS:
			if (parse_uint("--max-flows", optarg, 1, 1 << 24, &u))
				return -EINVAL;
			c->max_flows = u;
			break;
		case OPT_ATTACH: /* in the order of enum attach_mode */
			if (pick("--attach", optarg, (const char *[]){"auto", "tcx", "tc"}, 3, &i))
				return -EINVAL;
			c->mode = i;
			break;
		case 'n':
			if (parse_uint("--top", optarg, 1, 1000000, &u))
				return -EINVAL;
			c->table.top = u;
			break;
		case 'w':
			c->table.wide = true;
			break;
		case OPT_CLEANUP:
			c->cleanup = optarg;
			break;
		case 'x':
			g_ptr_array_add(c->excludes, optarg);
			break;
		case OPT_GROUP_BY:
			if (pick("--group-by", optarg, (const char *[]){"user", "flow"}, 2, &i))
				return -EINVAL;
			c->group = i == 0 ? GROUP_USER : GROUP_FLOW;
			break;
		case OPT_USER_MAP:
			c->users.map = optarg;
			break;
		case OPT_OPENVPN:
			c->users.openvpn_status = optarg;
			break;
		case OPT_SESSIONS:
			c->users.sessions = optarg;
			c->users.sessions_given = true;
			break;
		case OPT_TRUSTED_WRITER:
			c->users.trusted_writer = optarg;
			break;
		case OPT_RECORDS:
			c->records = true;
			break;
		case OPT_METRICS:
			c->metrics = optarg;
			break;
		case OPT_METRICS_TOP:
			if (parse_uint("--metrics-top", optarg, 1, 1000, &u))
				return -EINVAL;
			c->metrics_top = u;
			break;
		case OPT_IPFIX:
			if (ipfix_parse(optarg, &c->ipfix))
				return -EINVAL;
			break;
		case OPT_IPFIX_DOMAIN:
			if (parse_uint("--ipfix-domain", optarg, 0, UINT32_MAX, &u))
				return -EINVAL;
			c->ipfix.domain = u;
			break;
		case OPT_IPFIX_BACKLOG:
			if (parse_uint("--ipfix-backlog", optarg, 1, 100000000, &u))
				return -EINVAL;
			c->ipfix.backlog = u;
			break;
		case OPT_IPFIX_TEMPLATES:
			if (parse_seconds("--ipfix-templates", optarg, 1, 86400, &c->ipfix.template_s))
				return -EINVAL;
			break;
		case OPT_UNIFLOW:
			c->rec.uniflow = true;
			break;
		case OPT_IDLE:
			if (parse_seconds("--idle-timeout", optarg, 0.05, 86400 * 7, &c->rec.idle_s))
				return -EINVAL;
			break;
		case OPT_ACTIVE:
			if (parse_seconds("--active-timeout", optarg, 0.05, 86400 * 7,
					  &c->rec.active_s))
				return -EINVAL;
			break;
		case OPT_LINGER:
			if (parse_seconds("--tcp-linger", optarg, 0, 3600, &c->rec.tcp_linger_s))
				return -EINVAL;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("tunflow %s\n", TUNFLOW_VERSION);
			exit(0);
		case ':':
			return fail("%s needs a value (see --help)", argv[optind - 1]);
		default:
			return fail("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	return 0;
}


// SPDX-License-Identifier: GPL-2.0-only
/* `tunflow report usage|top|who|sessions`: the questions asked of a history, from the
 * command line to a backend (the store or ClickHouse) to rows printed. Needs no root:
 * only read access to the store (or the server). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "history/backend.h"
#include "util/addr.h"
#include "util/log.h"

#define HISTORY_STORE_DEFAULT "/var/lib/tunflow/flows.db"
#define NS 1000000000LL

static const char *const kinds[REP_KIND_MAX] = {
    [REP_USAGE] = "usage", [REP_TOP] = "top", [REP_WHO] = "who", [REP_SESSIONS] = "sessions"};

static void usage(FILE *out)
{
	fputs("Usage: tunflow report usage [--by user|iface] [--per day|hour] [--user NAME]\n"
	      "       tunflow report top [--user NAME] [--by address|name] [-n N]\n"
	      "       tunflow report who ADDRESS|PREFIX|NAME\n"
	      "       tunflow report sessions [--user NAME]\n"
	      "What the flow records kept by 'tunflow --store' (or sent to ClickHouse) say.\n"
	      "\n"
	      "  -s, --store PATH       the store (default " HISTORY_STORE_DEFAULT ")\n"
	      "      --clickhouse URL   a ClickHouse server instead (http[s]://HOST:PORT)\n"
	      "      --clickhouse-user NAME, --clickhouse-password-file FILE,\n"
	      "      --clickhouse-database NAME, --clickhouse-table NAME, --clickhouse-ca FILE,\n"
	      "      --clickhouse-insecure   as for tunflow --clickhouse\n"
	      "      --since T          records that ended at or after T: 2026-11-27,\n"
	      "                         2026-11-27T14:00 (UTC), or an age: 90s 30m 2h 1d 1w\n"
	      "      --until T          records that ended before T (the same forms)\n"
	      "      --by KEY           usage: user (default) or iface; top: address\n"
	      "                         (default) or name\n"
	      "      --per day|hour     usage: one row per user (or iface) and UTC day or hour\n"
	      "  -u, --user NAME        only NAME's records\n"
	      "      --gateway ID       only the records of gateway ID (--gateway-id)\n"
	      "  -n, --limit N          top: rows at most (default 10)\n"
	      "  -o, --output FORMAT    table (default), json (an object a line) or csv\n"
	      "  -h, --help             this help\n"
	      "\n"
	      "Examples:\n"
	      "  tunflow report usage --per day --since 2026-11-01\n"
	      "  tunflow report top --user alice --since 1d\n"
	      "  tunflow report who 203.0.113.5 --since 2026-11-24T14:00 --until "
	      "2026-11-24T15:00\n",
	      out);
}

/* Exactly n decimal digits at *p into *v, *p moved past them. 0 or -EINVAL. */
static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -EINVAL;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* "c" at *p: 0 and *p moved past it, or -EINVAL. */
static int sep(const char **p, char c)
{
	if (**p != c)
		return -EINVAL;
	(*p)++;
	return 0;
}

int report_parse_time(const char *s, __s64 now_ns, __s64 *ns)
{
	static const char units[] = "smhdw";
	static const __s64 mult[] = {1, 60, 3600, 86400, 7 * 86400};
	struct tm tm = {0};
	const char *u;
	char *end;
	unsigned long long n;

	if (*s >= '0' && *s <= '9') {
		errno = 0;
		n = strtoull(s, &end, 10);
		/* an age of 100 years at most */
		if (!errno && *end && !end[1] && (u = strchr(units, *end)) &&
		    n <= 100ULL * 366 * 86400 &&
		    (__s64)n * mult[u - units] <= 100LL * 366 * 86400) {
			*ns = now_ns - (__s64)n * mult[u - units] * NS;
			return 0;
		}
	}
	if (digits(&s, 4, &tm.tm_year) || sep(&s, '-') || digits(&s, 2, &tm.tm_mon) ||
	    sep(&s, '-') || digits(&s, 2, &tm.tm_mday))
		return -EINVAL;
	if (*s == 'T' || *s == ' ') {
		s++;
		if (digits(&s, 2, &tm.tm_hour) || sep(&s, ':') || digits(&s, 2, &tm.tm_min))
			return -EINVAL;
		if (*s == ':' && (sep(&s, ':') || digits(&s, 2, &tm.tm_sec)))
			return -EINVAL;
	}
	if (*s == 'Z')
		s++;
	if (*s || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970 ||
	    tm.tm_year > 2200)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ns = (__s64)timegm(&tm) * NS;
	return 0;
}

int report_parse_target(const char *s, struct report_target *t)
{
	__u8 a[16] = {0};
	int v, plen = 128;

	memset(t, 0, sizeof(*t));
	if (strlen(s) < 64) {
		if (addr_parse(s, a, &plen))
			v = strchr(s, ':') ? 6 : 4;
		else if (strchr(s, '/'))
			return -EINVAL;
		else
			v = 0;
		if (v) {
			t->kind = TARGET_PREFIX;
			t->ip_version = v;
			for (int i = 0; i < 16; i++) {
				int keep = plen >= 8 * (i + 1) ? 8
				           : plen > 8 * i      ? plen - 8 * i
				                               : 0;
				__u8 mask = keep ? (__u8)(0xff << (8 - keep)) : 0;

				t->lo[i] = a[i] & mask;
				t->hi[i] = a[i] | (__u8)~mask;
			}
			return 0;
		}
	}
	/* a name: letters, digits, '-', '_', '.' */
	if (!*s || strlen(s) > 253 ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789-_.") != strlen(s))
		return -EINVAL;
	t->kind = TARGET_NAME;
	t->name = g_ascii_strdown(s, -1);
	return 0;
}

static int word(const char *v, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (words[i] && !strcmp(v, words[i]))
			return i;
	return -1;
}

/* A usage error with a fixed message: said whole (through snprintf, the compiler would
 * copy the literal in overlapping pieces, which lintian reads as misspelt words). */
static int usage_error(const char *msg)
{
	pr_err("report: %s (see tunflow report --help)", msg);
	return 2;
}

static int bad(const char *fmt, const char *v)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, v);
	pr_err("report: %s (see tunflow report --help)", msg);
	return 2;
}

static __s64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__s64)ts.tv_sec * NS + ts.tv_nsec;
}

enum {
	O_CLICKHOUSE = 256,
	O_SINCE,
	O_UNTIL,
	O_BY,
	O_PER,
	O_GATEWAY,
	O_CH_USER,
	O_CH_PW,
	O_CH_DB,
	O_CH_TABLE,
	O_CH_CA,
	O_CH_INSECURE
};

static const char *const bys[] = {
    [BY_USER] = "user", [BY_IFACE] = "iface", [BY_ADDRESS] = "address", [BY_NAME] = "name"};
static const char *const pers[] = {[PER_DAY] = "day", [PER_HOUR] = "hour"};
static const char *const fmts[] = {[FMT_TABLE] = "table", [FMT_JSON] = "json", [FMT_CSV] = "csv"};

/* One option into q, a or fmt: 0, or the exit status of a usage error (said). */
static int one_option(int c, const char *v, __s64 now, struct history_query *q,
                      struct history_args *a, enum report_format *fmt, const char *arg)
{
	char *e;
	int w;

	switch (c) {
	case 's':
		a->store = v;
		return 0;
	case O_CLICKHOUSE:
		a->clickhouse = v;
		return 0;
	case O_CH_USER:
		a->ch_user = v;
		return 0;
	case O_CH_PW:
		a->ch_password_file = v;
		return 0;
	case O_CH_DB:
		a->ch_database = v;
		return 0;
	case O_CH_TABLE:
		a->ch_table = v;
		return 0;
	case O_CH_CA:
		a->ch_ca = v;
		return 0;
	case O_CH_INSECURE:
		a->ch_insecure = true;
		return 0;
	case O_SINCE:
	case O_UNTIL:
		if (report_parse_time(v, now, c == O_SINCE ? &q->since_ns : &q->until_ns))
			return bad("'%s' is not a time: want 2026-11-27, 2026-11-27T14:00 (UTC) "
			           "or an age such as 2h or 1d",
			           v);
		return 0;
	case O_BY:
		if ((w = word(v, bys, 4)) < 0)
			return bad("--by '%s': want user, iface, address or name", v);
		q->by = w;
		return 0;
	case O_PER:
		if ((w = word(v, pers, 3)) < 0)
			return bad("--per '%s': want day or hour", v);
		q->per = w;
		return 0;
	case 'u':
		q->user = v;
		return 0;
	case O_GATEWAY:
		q->gateway = v;
		return 0;
	case 'n':
		errno = 0;
		q->limit = strtoul(v, &e, 10);
		if (errno || *e || !q->limit || q->limit > 1000000)
			return bad("--limit '%s': want 1 to 1000000", v);
		return 0;
	case 'o':
		if ((w = word(v, fmts, 3)) < 0)
			return bad("-o '%s': want table, json or csv", v);
		*fmt = w;
		return 0;
	default:
		return bad("unknown option or missing value: '%s'", arg);
	}
}

/* The backend a names. NULL with the reason in err. */
static struct history_backend *open_backend(const struct history_args *a, char *err, size_t errlen)
{
	if (a->clickhouse)
		return clickhouse_backend_open(a, err, errlen);
	return store_backend_open(a, err, errlen);
}

/* Checks between the options and the kind. 0 or the usage error's exit status. */
static int check(struct history_query *q, const struct history_args *a, int nargs, char **args)
{
	if (a->store && a->clickhouse)
		return usage_error("--store and --clickhouse: one history at a time");
	if ((int)q->by == -1)
		q->by = q->kind == REP_TOP ? BY_ADDRESS : BY_USER;
	if (q->kind == REP_USAGE && q->by != BY_USER && q->by != BY_IFACE)
		return usage_error("usage: --by user or --by iface");
	if (q->kind == REP_TOP && q->by != BY_ADDRESS && q->by != BY_NAME)
		return usage_error("top: --by address or --by name");
	if (q->kind != REP_USAGE && q->per != PER_NONE)
		return usage_error("--per goes with usage only");
	if (q->kind == REP_WHO) {
		if (nargs != 1)
			return usage_error("who: say one ADDRESS, PREFIX or NAME");
		if (report_parse_target(args[0], &q->target))
			return bad("who '%s': want an address, a prefix (203.0.113.0/24) or a "
			           "name (example.com)",
			           args[0]);
	} else if (nargs) {
		return bad("unexpected argument '%s'", args[0]);
	}
	if (q->since_ns && q->until_ns && q->until_ns <= q->since_ns)
		return usage_error("--until is not after --since");
	return 0;
}

int report_main(int argc, char **argv)
{
	static const struct option longs[] = {
	    {"store", required_argument, NULL, 's'},
	    {"clickhouse", required_argument, NULL, O_CLICKHOUSE},
	    {"clickhouse-user", required_argument, NULL, O_CH_USER},
	    {"clickhouse-password-file", required_argument, NULL, O_CH_PW},
	    {"clickhouse-database", required_argument, NULL, O_CH_DB},
	    {"clickhouse-table", required_argument, NULL, O_CH_TABLE},
	    {"clickhouse-ca", required_argument, NULL, O_CH_CA},
	    {"clickhouse-insecure", no_argument, NULL, O_CH_INSECURE},
	    {"since", required_argument, NULL, O_SINCE},
	    {"until", required_argument, NULL, O_UNTIL},
	    {"by", required_argument, NULL, O_BY},
	    {"per", required_argument, NULL, O_PER},
	    {"user", required_argument, NULL, 'u'},
	    {"gateway", required_argument, NULL, O_GATEWAY},
	    {"limit", required_argument, NULL, 'n'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct history_query q = {.limit = 10, .by = -1};
	struct history_args a = {0};
	enum report_format fmt = FMT_TABLE;
	struct history_backend *b;
	struct rows rows = {0};
	const struct column *cols;
	__s64 now = now_ns();
	char err[512] = "";
	size_t ncols;
	int c, v, ret;

	optind = 0; /* GNU getopt: the kind and who's target may come anywhere */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:u:n:o:h", longs, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if ((ret = one_option(c, optarg, now, &q, &a, &fmt, argv[optind - 1])))
			return ret;
	}
	if (optind >= argc)
		return usage_error("say which report: usage, top, who or sessions");
	if ((v = word(argv[optind], kinds, REP_KIND_MAX)) < 0)
		return bad("unknown report '%s': want usage, top, who or sessions", argv[optind]);
	q.kind = v;
	if ((ret = check(&q, &a, argc - optind - 1, argv + optind + 1)))
		return ret;
	if (!a.store && !a.clickhouse)
		a.store = HISTORY_STORE_DEFAULT;
	if (!(b = open_backend(&a, err, sizeof(err)))) {
		pr_err("%s", err);
		return 1;
	}
	cols = report_columns(&q, &ncols);
	rows_init(&rows, cols, ncols);
	ret = b->query(b, &q, &rows, err, sizeof(err));
	if (ret)
		pr_err("%s", err);
	else if ((ret = rows_print(stdout, &rows, fmt)))
		pr_err("report: standard output: %s", strerror(-ret));
	rows_free(&rows);
	b->close(b);
	g_free((char *)q.target.name);
	return ret ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* tunflow: options -> checks -> load -> attach -> one event loop (signalfd, timerfd). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "flowtab.h"
#include "harvest.h"
#include "ifaces.h"
#include "sink.h"

#define TUNFLOW_VERSION "0.1.0"
#define IDLE_FORGET_S 60 /* the live table forgets a flow this long after its last packet */

struct config {
	int dirs;              /* bit 1 << DIR_INGRESS | 1 << DIR_EGRESS */
	double interval;
	double duration;       /* 0: until a signal */
	enum { OUT_AUTO, OUT_TABLE, OUT_JSON } output;
	__u32 max_flows;
	enum attach_mode mode;
	struct table_opts table;
	bool verbose, quiet;
	const char *cleanup;
};

struct app {
	struct config cfg;
	struct datapath dp;
	struct flowtab *ft;
	struct sink *sink;
	struct iface *ifs;
	int nifs;
	struct hook *hooks;
	int nhooks;
	__u64 last_harvest_ns;
	__u64 harvest_errors;
};

static void usage(FILE *out)
{
	fprintf(out,
"Usage: tunflow [OPTIONS] [INTERFACE ...]\n"
"Show the flows on VPN tunnel (and Ethernet) interfaces, counted by a tc/eBPF program.\n"
"INTERFACE is a name or a glob ('vpns*'); with none, every L3 tunnel interface.\n"
"\n"
"Options:\n"
"  -d, --direction DIR    ingress, egress or both (default both)\n"
"  -t, --interval SEC     harvest and report every SEC seconds (default 1; 0.05 to 3600)\n"
"  -o, --output FORMAT    table or json (default: table on a terminal, else json lines)\n"
"      --duration SEC     stop after SEC seconds (default: run until SIGINT/SIGTERM)\n"
"      --max-flows N      flows the kernel holds per interval (default 65536)\n"
"      --attach MODE      auto, tcx or tc (clsact filter); default auto: tcx if present\n"
"  -n, --top N            table rows at most (default: what fits the terminal)\n"
"  -w, --wide             table with full-width addresses (wider than 80 columns)\n"
"      --cleanup IFACE    remove what a killed tunflow left on IFACE (tc mode), then exit\n"
"  -q, --quiet            no status lines on stderr\n"
"  -v, --verbose          libbpf diagnostics (verifier log) on stderr\n"
"  -h, --help             this help\n"
"  -V, --version          version\n"
"\n"
"Examples:\n"
"  tunflow tun0                       live table of tun0's flows, both directions\n"
"  tunflow 'vpns*' -o json            every ocserv user tunnel, JSON lines on stdout\n"
"  tunflow -d egress -t 5 eth0 tun0   egress only, every 5 seconds\n"
"  tunflow --duration 60 tun0 > f.json  one minute of flows, then exit\n"
"  tunflow --cleanup tun0             after 'kill -9' in tc mode: remove the leftovers\n"
"\n"
"Needs root, or CAP_BPF and CAP_NET_ADMIN. JSON schema: docs/json.md.\n");
}

static int fail(const char *fmt, ...)
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

enum { OPT_DURATION = 256, OPT_MAX_FLOWS, OPT_ATTACH, OPT_CLEANUP };

static int parse_args(int argc, char **argv, struct config *c)
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
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	unsigned long u;
	int o;

	c->dirs = 1 << DIR_INGRESS | 1 << DIR_EGRESS;
	c->interval = 1;
	c->max_flows = 65536;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":d:t:o:n:wqvhV", opts, NULL)) != -1) {
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
		case 'o':
			if (!strcmp(optarg, "table"))
				c->output = OUT_TABLE;
			else if (!strcmp(optarg, "json"))
				c->output = OUT_JSON;
			else
				return fail("--output wants table or json, not '%s'", optarg);
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
		case OPT_ATTACH:
			if (!strcmp(optarg, "auto"))
				c->mode = MODE_AUTO;
			else if (!strcmp(optarg, "tcx"))
				c->mode = MODE_TCX;
			else if (!strcmp(optarg, "tc"))
				c->mode = MODE_TC;
			else
				return fail("--attach wants auto, tcx or tc, not '%s'", optarg);
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

/* Root, or the two capabilities loading and attaching tc programs needs. */
static int check_privileges(void)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t bpf = CAP_CLEAR, net = CAP_CLEAR, sys = CAP_CLEAR;

	if (caps) {
		cap_get_flag(caps, CAP_BPF, CAP_EFFECTIVE, &bpf);
		cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &net);
		cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &sys);
		cap_free(caps);
	}
	if ((bpf == CAP_SET || sys == CAP_SET) && net == CAP_SET)
		return 0;
	fprintf(stderr, "tunflow: needs root, or CAP_BPF and CAP_NET_ADMIN (run it with sudo)\n");
	return -EPERM;
}

static __u64 now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void on_flow(const struct flow_key *key, const struct flow_stats *st, void *ctx)
{
	struct app *a = ctx;

	if (flowtab_add(a->ft, key, st))
		a->harvest_errors++;
}

static void harvest(struct app *a, bool final)
{
	__u64 counters[CNT_MAX] = {0}, mono, real;
	struct report r = {0};
	long n;

	r.gen = flowtab_begin(a->ft);
	n = dp_harvest(&a->dp, on_flow, a);
	if (n < 0) {
		a->harvest_errors++;
		fprintf(stderr, "tunflow: harvest failed: %s\n", strerror(-n));
	}
	if (dp_counters(&a->dp, counters))
		a->harvest_errors++;
	mono = now_ns(CLOCK_MONOTONIC);
	real = now_ns(CLOCK_REALTIME);
	r.flows = flowtab_list(a->ft, &r.nflows);
	r.interval_s = (mono - a->last_harvest_ns) / 1e9;
	/* The final harvest covers only the moment since the last one: rates stay those of
	 * the last full interval. */
	for (size_t i = 0; i < r.nflows && !final; i++) {
		struct flow *f = r.flows[i];

		f->rate_bps = f->gen == r.gen && r.interval_s > 0 ? f->d_bytes * 8.0 / r.interval_s : 0;
	}
	r.mono_to_real_ns = (__s64)(real - mono);
	r.now_real_ns = real;
	r.counters = counters;
	r.harvest_errors = a->harvest_errors;
	r.nifaces = a->nifs;
	r.final = final;
	a->sink->report(a->sink, &r);
	a->last_harvest_ns = mono;
	if (mono > IDLE_FORGET_S * 1000000000ull)
		flowtab_expire(a->ft, mono - IDLE_FORGET_S * 1000000000ull);
}

static void detach_all(struct app *a)
{
	for (int i = a->nhooks - 1; i >= 0; i--)
		hook_detach(&a->hooks[i]);
	a->nhooks = 0;
}

static int attach_all(struct app *a)
{
	a->hooks = calloc((size_t)a->nifs * 2, sizeof(*a->hooks));
	if (!a->hooks)
		return -ENOMEM;
	for (int i = 0; i < a->nifs; i++) {
		const struct iface *ifc = &a->ifs[i];
		enum attach_mode used = MODE_AUTO;

		iface_remember(ifc->ifindex, ifc->name);
		for (int dir = DIR_INGRESS; dir <= DIR_EGRESS; dir++) {
			struct hook *h = &a->hooks[a->nhooks];
			int err;

			if (!(a->cfg.dirs & 1 << dir))
				continue;
			h->ifindex = ifc->ifindex;
			h->dir = dir;
			snprintf(h->ifname, sizeof(h->ifname), "%s", ifc->name);
			err = hook_attach(h, dp_prog_fd(&a->dp, ifc->l2, dir), a->cfg.mode);
			if (err)
				return err;
			used = h->mode;
			a->nhooks++;
		}
		if (!a->cfg.quiet)
			fprintf(stderr, "tunflow: watching %s (%s, %s, %s)\n", ifc->name,
				ifc->l2 ? "L2" : "L3", mode_name(used),
				a->cfg.dirs == 3 ? "ingress+egress"
				: a->cfg.dirs & 1 ? "ingress" : "egress");
	}
	return 0;
}

static int make_timer(double first, double every)
{
	struct itimerspec its = {0};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	its.it_value.tv_sec = (time_t)first;
	its.it_value.tv_nsec = (long)((first - (time_t)first) * 1e9);
	its.it_interval.tv_sec = (time_t)every;
	its.it_interval.tv_nsec = (long)((every - (time_t)every) * 1e9);
	if (timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int add_fd(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int run(struct app *a)
{
	int ep = -1, sig = -1, tick = -1, stop = -1, err = 0;
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	sig = signalfd(-1, &mask, SFD_CLOEXEC);
	tick = make_timer(a->cfg.interval, a->cfg.interval);
	if (a->cfg.duration > 0)
		stop = make_timer(a->cfg.duration, 0);
	if (ep < 0 || sig < 0 || tick < 0 || (a->cfg.duration > 0 && stop < 0) ||
	    add_fd(ep, sig) || add_fd(ep, tick) || (stop >= 0 && add_fd(ep, stop))) {
		err = -errno;
		fprintf(stderr, "tunflow: cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	a->last_harvest_ns = now_ns(CLOCK_MONOTONIC);
	if (!a->cfg.quiet)
		fprintf(stderr, "tunflow: ready, %d interface%s\n", a->nifs,
			a->nifs == 1 ? "" : "s");
	for (bool running = true; running;) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			__u64 exp;

			if (fd == tick) {
				if (read(tick, &exp, sizeof(exp)) == sizeof(exp))
					harvest(a, false);
			} else if (fd == stop) {
				running = false;
			} else if (fd == sig) {
				struct signalfd_siginfo si;

				if (read(sig, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
					running = false;
			}
		}
	}
out:
	/* Detach first, then drain: nothing can be counted after the last harvest. */
	detach_all(a);
	harvest(a, true);
	for (int fd, i = 0; i < 4; i++)
		if ((fd = (int[]){ep, sig, tick, stop}[i]) >= 0)
			close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct app a = {0};
	int err;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (parse_args(argc, argv, &a.cfg))
		return 2;
	libbpf_set_print(a.cfg.verbose ? libbpf_print : NULL);
	if (check_privileges())
		return 1;
	if (a.cfg.cleanup) {
		if (optind < argc)
			return fail("--cleanup takes one interface and no others"), 2;
		err = hook_cleanup(a.cfg.cleanup);
		if (err < 0)
			return 1;
		if (!a.cfg.quiet)
			fprintf(stderr, "tunflow: removed %d tunflow filter%s from %s\n", err,
				err == 1 ? "" : "s", a.cfg.cleanup);
		return 0;
	}
	if (a.cfg.mode == MODE_TCX && !tcx_supported()) {
		fprintf(stderr, "tunflow: this kernel has no tcx (needs Linux 6.6); use --attach tc "
				"or auto\n");
		return 1;
	}
	err = ifaces_resolve(argv + optind, argc - optind, &a.ifs, &a.nifs);
	if (err)
		return 1;
	if (a.cfg.output == OUT_AUTO)
		a.cfg.output = isatty(STDOUT_FILENO) ? OUT_TABLE : OUT_JSON;
	a.cfg.table.tty = a.cfg.output == OUT_TABLE && isatty(STDOUT_FILENO);
	a.sink = a.cfg.output == OUT_TABLE ? sink_table_new(stdout, &a.cfg.table)
					   : sink_json_new(stdout);
	a.ft = flowtab_new();
	if (!a.sink || !a.ft) {
		fprintf(stderr, "tunflow: out of memory\n");
		return 1;
	}
	err = dp_open(&a.dp, a.cfg.max_flows);
	if (err)
		return 1;
	err = attach_all(&a);
	if (!err)
		err = run(&a);
	else
		detach_all(&a);
	dp_close(&a.dp);
	flowtab_free(a.ft);
	a.sink->close(a.sink);
	free(a.hooks);
	free(a.ifs);
	return err ? 1 : 0;
}

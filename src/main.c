// SPDX-License-Identifier: GPL-2.0-only
/* tunflow: options -> checks -> load -> attach -> one event loop (signalfd, timerfd). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
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
#include <glib.h>
#include "sources/attach.h"
#include "core/flowtab.h"
#include "core/clock.h"
#include "util/fmt.h"
#include "core/datapath.h"
#include "sinks/ipfix.h"
#include "sinks/metrics.h"
#include "core/records.h"
#include "sources/ifwatch.h"
#include "sinks/sink.h"
#include "sources/users.h"
#include "config.h"
#include "util/log.h"
#include "util/privs.h"

#define IDLE_FORGET_S 60 /* the live table forgets a flow this long after its last packet */
#define IPFIX_EXIT_WAIT_S 2 /* at exit, the collector has this long to take the backlog */

struct app {
	struct config cfg;
	struct datapath dp;
	struct flowtab *ft;
	struct sink *sink;
	struct ifwatch w;
	struct users *users;
	struct records *records; /* NULL unless --records, -o csv or --ipfix */
	struct metrics *metrics; /* NULL unless --metrics */
	struct ipfix *ipfix;     /* NULL unless --ipfix */
	GHashTable *ifacc;     /* ifindex -> struct iface_total: what tunflow counted on a
				* watched interface, for its "gone" report */
	struct iface_total *last_acc;
	size_t nifaces_at_exit;
	__u64 last_harvest_ns;
	__u64 harvest_errors;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static struct iface_total *acc_of(struct app *a, int ifindex)
{
	struct iface_total *acc = a->last_acc;

	if (acc && acc->ifindex == ifindex)
		return acc;
	acc = g_hash_table_lookup(a->ifacc, GINT_TO_POINTER(ifindex));
	if (!acc) {
		acc = g_new0(struct iface_total, 1);
		acc->ifindex = ifindex;
		g_hash_table_insert(a->ifacc, GINT_TO_POINTER(ifindex), acc);
	}
	return a->last_acc = acc;
}

static void on_flow(const struct flow_key *key, const struct flow_stats *st, void *ctx)
{
	struct app *a = ctx;
	struct iface_total *acc = acc_of(a, key->ifindex);
	struct flow *f = flowtab_add(a->ft, key, st);

	if (!f) {
		a->harvest_errors++;
		return;
	}
	if (a->records && records_add(a->records, key, st, f->user))
		a->harvest_errors++;
	acc->packets[key->dir] += st->packets;
	acc->bytes[key->dir] += st->bytes;
	if (f->packets == st->packets)
		acc->flows++; /* new to the table (or back after idling out) */
	if (!acc->first_ns || st->first_ns < acc->first_ns)
		acc->first_ns = st->first_ns;
}

/* Give every flow whose user is unknown a fresh look when the sources changed. */
static void attribute(struct app *a, struct flow **flows, size_t n)
{
	unsigned gen;

	if (!a->users)
		return;
	gen = users_gen(a->users);
	for (size_t i = 0; i < n; i++) {
		struct flow *f = flows[i];

		if (f->user || f->user_gen == gen)
			continue;
		f->user = users_lookup(a->users, &f->key, iface_name(f->key.ifindex));
		f->user_gen = gen;
	}
}

/* The interfaces that went: their totals for the report, in the order they went. */
static struct iface_total *gone_totals(struct app *a, const int *gone_if, size_t ngone,
				       __u64 now)
{
	struct iface_total *t = calloc(ngone, sizeof(*t));

	for (size_t i = 0; t && i < ngone; i++) {
		int ifindex = gone_if[i];
		struct iface_total *acc = g_hash_table_lookup(a->ifacc, GINT_TO_POINTER(ifindex));

		if (acc)
			t[i] = *acc;
		t[i].ifindex = ifindex;
		t[i].last_ns = now;
		if (a->users)
			t[i].user = users_of_iface(a->users, ifindex, iface_name(ifindex));
	}
	return t;
}

struct emit_ctx {
	struct app *a;
	const struct report *r;
};

static void on_record(const struct record *rec, void *ctx)
{
	struct emit_ctx *x = ctx;
	const char *user = rec->user;

	if (!user && x->a->users)
		user = users_lookup(x->a->users, &rec->key, iface_name(rec->key.ifindex));
	if (x->a->cfg.records) {
		struct record with_user = *rec;

		with_user.user = user;
		x->a->sink->record(x->a->sink, &with_user, x->r);
	}
	if (x->a->ipfix)
		ipfix_add(x->a->ipfix, rec, user, x->r->mono_to_real_ns);
}

static void harvest(struct app *a, bool final, const int *gone_if, size_t ngone)
{
	__u64 counters[CNT_MAX] = {0}, mono, real;
	struct export_stats exp;
	struct report r = {0};
	struct iface_total *gone = NULL;
	long n;

	r.gen = flowtab_begin(a->ft);
	mono = now_ns(CLOCK_MONOTONIC);
	n = dp_harvest(&a->dp, on_flow, a);
	r.harvest_s = (now_ns(CLOCK_MONOTONIC) - mono) / 1e9;
	if (n < 0) {
		a->harvest_errors++;
		fprintf(stderr, "tunflow: harvest failed: %s\n", strerror(-n));
	}
	if (dp_counters(&a->dp, counters))
		a->harvest_errors++;
	mono = now_ns(CLOCK_MONOTONIC);
	real = now_ns(CLOCK_REALTIME);
	if (a->users)
		users_refresh(a->users);
	if (ngone) {
		flowtab_end_ifaces(a->ft, gone_if, ngone, END_IFACE_GONE);
		gone = gone_totals(a, gone_if, ngone, mono);
		r.gone = gone;
		r.ngone = gone ? ngone : 0;
	}
	r.flows = flowtab_list(a->ft, &r.nflows);
	attribute(a, r.flows, r.nflows);
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
	r.nifaces = final ? a->nifaces_at_exit : ifwatch_count(&a->w);
	r.attach_errors = ifwatch_attach_errors(&a->w);
	r.users = users_enabled(a->users);
	r.final = final;
	if (a->records) {
		struct emit_ctx x = {a, &r};

		records_emit(a->records, mono, gone_if, ngone, final, on_record, &x);
	}
	if (a->ipfix) {
		if (final)
			ipfix_finish(a->ipfix, IPFIX_EXIT_WAIT_S);
		else
			ipfix_flush(a->ipfix);
		ipfix_stats(a->ipfix, &exp);
		r.export = &exp;
	}
	a->sink->report(a->sink, &r);
	if (a->metrics) {
		metrics_update(a->metrics, &r);
		for (size_t i = 0; i < ngone; i++)
			metrics_forget_iface(a->metrics, gone_if[i]);
	}
	a->last_harvest_ns = mono;
	/* the interfaces that went are reported: forget them */
	flowtab_drop_ended(a->ft);
	for (size_t i = 0; i < ngone; i++) {
		if (a->last_acc && a->last_acc->ifindex == gone_if[i])
			a->last_acc = NULL;
		g_hash_table_remove(a->ifacc, GINT_TO_POINTER(gone_if[i]));
		if (a->users)
			users_iface_gone(a->users, gone_if[i]);
	}
	free(gone);
	if (mono > IDLE_FORGET_S * 1000000000ull)
		flowtab_expire(a->ft, mono - IDLE_FORGET_S * 1000000000ull);
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

/* The signals the loop reads from a signalfd; blocked in every thread. */
static void signal_mask(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, mask, NULL);
}

static int run(struct app *a)
{
	int ep = -1, sig = -1, tick = -1, stop = -1, links = ifwatch_fd(&a->w), err = 0;
	sigset_t mask;

	signal_mask(&mask);
	ep = epoll_create1(EPOLL_CLOEXEC);
	sig = signalfd(-1, &mask, SFD_CLOEXEC);
	tick = make_timer(a->cfg.interval, a->cfg.interval);
	if (a->cfg.duration > 0)
		stop = make_timer(a->cfg.duration, 0);
	if (ep < 0 || sig < 0 || tick < 0 || (a->cfg.duration > 0 && stop < 0) ||
	    add_fd(ep, sig) || add_fd(ep, tick) || (stop >= 0 && add_fd(ep, stop)) ||
	    add_fd(ep, links)) {
		err = -errno;
		fprintf(stderr, "tunflow: cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	a->last_harvest_ns = now_ns(CLOCK_MONOTONIC);
	if (!a->cfg.quiet)
		fprintf(stderr, "tunflow: ready, %zu interface%s\n", ifwatch_count(&a->w),
			ifwatch_count(&a->w) == 1 ? "" : "s");
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
					harvest(a, false, NULL, 0);
			} else if (fd == links) {
				/* an interface that went is reported at once, with its last flows */
				int *gone;
				size_t n = ifwatch_take_gone(&a->w, &gone);

				if (n)
					harvest(a, false, gone, n);
				free(gone);
			} else if (fd == stop) {
				running = false;
			} else if (fd == sig) {
				struct signalfd_siginfo si;

				if (read(sig, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo != SIGHUP)
					running = false;
				else if (a->users && !users_reload_map(a->users) && !a->cfg.quiet &&
					 a->cfg.users.map)
					fprintf(stderr, "tunflow: re-read %s\n", a->cfg.users.map);
			}
		}
	}
out:
	/* Detach first, then drain: nothing can be counted after the last harvest. */
	a->nifaces_at_exit = ifwatch_count(&a->w);
	ifwatch_close(&a->w);
	{
		int *gone;
		size_t n = ifwatch_take_gone(&a->w, &gone);

		harvest(a, true, gone, n);
		free(gone);
	}
	for (int fd, i = 0; i < 4; i++)
		if ((fd = (int[]){ep, sig, tick, stop}[i]) >= 0)
			close(fd);
	return err;
}

int main(int argc, char **argv)
{
	struct ifwatch_cfg wc = {0};
	struct app a = {0};
	int err;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (parse_args(argc, argv, &a.cfg))
		return 2;
	libbpf_set_print(a.cfg.verbose ? libbpf_print : NULL);
	if (check_privileges())
		return 1;
	/* Blocked from here on, in every thread started later (metrics server, link
	 * events): the loop reads them from a signalfd, so a Ctrl-C during a long start
	 * still ends in a clean detach and final report. */
	signal_mask(&(sigset_t){0});
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
	a.users = users_new(&a.cfg.users);
	if (!a.users)
		return 1;
	if (a.cfg.output == OUT_AUTO)
		a.cfg.output = isatty(STDOUT_FILENO) && !a.cfg.records ? OUT_TABLE : OUT_JSON;
	a.cfg.table.tty = a.cfg.output == OUT_TABLE && isatty(STDOUT_FILENO);
	if (a.cfg.output == OUT_CSV)
		a.cfg.records = true;
	if (a.cfg.records && a.cfg.output == OUT_TABLE)
		return fail("--records needs -o json or -o csv"), 2;
	if (a.cfg.records && a.cfg.group == GROUP_USER)
		return fail("--records and --group-by user do not go together"), 2;
	a.sink = a.cfg.output == OUT_TABLE ? sink_table_new(stdout, &a.cfg.table, a.cfg.group)
		 : a.cfg.output == OUT_CSV ? sink_csv_new(stdout)
					    : sink_json_new(stdout, a.cfg.group, a.cfg.records);
	if (a.cfg.records || a.cfg.ipfix.collector)
		a.records = records_new(&a.cfg.rec);
	a.cfg.ipfix.uniflow = a.cfg.rec.uniflow;
	a.cfg.ipfix.quiet = a.cfg.quiet;
	if (a.cfg.ipfix.collector && !(a.ipfix = ipfix_open(&a.cfg.ipfix)))
		return 1;
	if (a.cfg.metrics && !(a.metrics = metrics_start(a.cfg.metrics, a.cfg.metrics_top)))
		return 1;
	a.ft = flowtab_new();
	a.ifacc = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	if (!a.sink || !a.ft) {
		fprintf(stderr, "tunflow: out of memory\n");
		return 1;
	}
	err = dp_open(&a.dp, a.cfg.max_flows);
	if (err)
		return 1;
	wc.patterns = argv + optind;
	wc.npatterns = argc - optind;
	wc.excludes = (char **)a.cfg.excludes->pdata;
	wc.nexcludes = a.cfg.excludes->len;
	wc.dirs = a.cfg.dirs;
	wc.mode = a.cfg.mode;
	wc.quiet = a.cfg.quiet;
	err = ifwatch_open(&a.w, &wc, &a.dp);
	if (!err && (err = ifwatch_start(&a.w)))
		fprintf(stderr, "tunflow: cannot start following interfaces: %s\n", strerror(-err));
	if (!err)
		err = run(&a);
	else
		ifwatch_close(&a.w);
	dp_close(&a.dp);
	flowtab_free(a.ft);
	a.sink->close(a.sink);
	users_free(a.users);
	records_free(a.records);
	metrics_stop(a.metrics);
	ipfix_close(a.ipfix);
	g_hash_table_destroy(a.ifacc);
	g_ptr_array_free(a.cfg.excludes, TRUE);
	return err ? 1 : 0;
}

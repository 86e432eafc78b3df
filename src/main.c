// SPDX-License-Identifier: GPL-2.0-only
/* tunflow: the wiring. Options -> checks -> load the datapath -> sources (users,
 * interfaces) -> pipeline with its sinks -> event loop; and one cleanup path that every
 * exit takes: detach, last harvest, sinks flushed and closed in reverse order. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "core/datapath.h"
#include "core/loop.h"
#include "core/pipeline.h"
#include "core/side.h"
#include "history/backend.h"
#include "sinks/clickhouse.h"
#include "sinks/ipfix.h"
#include "sinks/metrics.h"
#include "sinks/sink.h"
#include "sinks/store.h"
#include "sources/ifwatch.h"
#include "sources/replay.h"
#include "sources/users.h"
#include "util/log.h"
#include "util/privs.h"
#include "util/rlimit.h"

/* Exit statuses (documented in the man page). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 3, EXIT_TERMINAL = 4 };

/* The sink for standard output that the options ask for (-o none: add_sinks() asks for
 * none, and nothing else writes to stdout). */
static struct sink *stdout_sink(struct config *c)
{
	struct tui_opts to = {.records = c->records,
	                      .filter = c->filter,
	                      .numeric = c->numeric,
	                      .view = c->records               ? TUI_VIEW_RECORDS
	                              : c->group == GROUP_USER ? TUI_VIEW_USERS
	                                                       : 0};
	struct sink *s;

	if (c->output == OUT_TUI) /* says why when it cannot */
		return sink_tui_new(stdout, stdin, &to);
	s = c->output == OUT_TABLE ? sink_table_new(stdout, &c->table, c->group)
	    : c->output == OUT_CSV ? sink_csv_new(stdout)
	                           : sink_json_new(stdout, c->group, c->records);
	if (!s)
		pr_err("out of memory");
	return s;
}

/* s (NULL: it could not start, and said why) into the pipeline. 0 or -1. */
static int plug(struct pipeline *p, struct sink *s)
{
	if (!s)
		return -1;
	if (pipeline_add_sink(p, s)) {
		pr_err("out of memory");
		return -1;
	}
	return 0;
}

/* Every sink the options ask for, in the order they get each report: adding an output
 * is one statement here. 0 or -1, with the reason said. */
static int add_sinks(struct pipeline *p, struct config *c)
{
	struct metrics_cfg mc = {.addr = c->metrics,
	                         .top = c->metrics_top,
	                         .web_config = c->metrics_web_config,
	                         .user_idle_s = c->metrics_user_idle};

	c->ipfix.uniflow = c->rec.uniflow;
	if (c->output != OUT_NONE && plug(p, stdout_sink(c)))
		return -1;
	if (c->ipfix.collector && plug(p, ipfix_sink_new(&c->ipfix)))
		return -1;
	if (c->metrics && plug(p, metrics_sink_new(&mc)))
		return -1;
	if (c->store && plug(p, store_sink_new(&(struct store_cfg){c->store, c->gateway_id,
	                                                           c->store_retention})))
		return -1;
	if (c->clickhouse.url && plug(p, clickhouse_sink_new(&c->clickhouse, c->gateway_id)))
		return -1;
	return 0;
}

/* Which interfaces to watch, and how: from the options and the arguments. */
static struct ifwatch_cfg watch_cfg(const struct config *c, char **args, int nargs)
{
	return (struct ifwatch_cfg){.patterns = args,
	                            .npatterns = nargs,
	                            .excludes = (char **)c->excludes->pdata,
	                            .nexcludes = c->excludes->len,
	                            .dirs = c->dirs,
	                            .mode = c->mode};
}

/* Checks between options that parse_args() cannot make alone. 0 or -EINVAL. */
static int check_config(struct config *c, int nargs)
{
	if (c->cleanup && nargs)
		return fail("--cleanup takes one interface and no others");
	if (c->replay && (nargs || c->cleanup || c->duration > 0))
		return fail("-r reads a capture: no interfaces, --cleanup or --duration with it");
	if (c->output == OUT_AUTO)
		c->output = isatty(STDOUT_FILENO) ? OUT_TUI : OUT_JSON;
	c->table.tty = c->output == OUT_TABLE && isatty(STDOUT_FILENO);
	c->table.numeric = c->numeric;
	if (c->output == OUT_CSV)
		c->records = true;
	if (c->records && (c->output == OUT_TABLE || c->output == OUT_NONE))
		return fail("--records needs -o tui, -o json or -o csv");
	if (c->metrics_web_config && !c->metrics)
		return fail("--metrics-web-config needs --metrics");
	if (c->records && c->group == GROUP_USER && c->output != OUT_TUI)
		return fail("--records and --group-by user do not go together");
	return 0;
}

/* --cleanup IFACE: remove what a killed tunflow left, then exit. */
static int cleanup_only(const char *ifname)
{
	int n = hook_cleanup(ifname);

	if (n < 0)
		return EXIT_FAIL;
	pr_info("removed %d tunflow filter%s from %s", n, n == 1 ? "" : "s", ifname);
	return EXIT_OK;
}

/* The totals at lvl, and the loss counters, when any is not zero, as a warning: what the
 * output would have said last (it is gone), or all that -o none says. */
static void summary(const struct pipeline *p, enum log_level lvl)
{
	log_msg(lvl, "final: %llu packets, %llu bytes in %llu flows",
	        (unsigned long long)p->packets, (unsigned long long)p->bytes,
	        (unsigned long long)p->flows);
	if (p->last.counters)
		say_losses(&p->last);
}

/* What main() starts, and how far it got: stop() undoes exactly that much. */
struct app {
	struct config cfg;
	struct config given; /* cfg as parsed, before check_config(): what SIGHUP compares */
	int argc;
	char **argv;
	struct users *users;
	struct replay *replay; /* -r FILE: the capture, instead of interfaces */
	struct datapath dp;
	struct pipeline p;
	struct ifwatch w;
	bool dp_open, claimed, piped, watching, ran;
};

/* Sources, datapath, pipeline with its sinks, interfaces: 0, or -1 with the reason said
 * (stop() then undoes what was started); -EINVAL when the interface patterns are a usage
 * error. */
static int start(struct app *a, char **args, int nargs)
{
	struct pipeline_cfg pc = {
	    .forget_s = a->cfg.forget,
	    .rec = a->cfg.rec,
	    .max_table_flows = a->cfg.max_table_flows,
	    .hold_s = a->cfg.replay           ? 0
	              : a->cfg.interval > 0.5 ? 2 * a->cfg.interval
	                                      : 1,
	    .geo = a->cfg.geo,
	    .geo_db = a->cfg.geo_db,
	    .filter = a->cfg.filter,
	    .names = a->cfg.names,
	    .naming = {.dns_cache = a->cfg.dns_cache, .dns_min_ttl = a->cfg.dns_min_ttl}};
	struct ifwatch_cfg wc = watch_cfg(&a->cfg, args, nargs);
	int err;

	side_set_mode(a->cfg.side);
	if (a->cfg.replay && !(a->replay = replay_open(a->cfg.replay)))
		return -1;
	if (!(a->users = users_new(&a->cfg.users)) ||
	    (a->replay ? dp_open_replay : dp_open)(&a->dp, a->cfg.max_flows, a->cfg.names))
		return -1;
	a->dp_open = true;
	/* While every privilege is still held: finding what a killed tunflow left asks the
	 * kernel about programs by id. */
	if (!a->replay && (err = ifwatch_claim(&wc, &a->dp)))
		return err == -EINVAL ? -EINVAL : -1;
	a->claimed = !a->replay;
	/* Only what attaching and harvesting need from here on; before any thread starts,
	 * as capabilities are per thread. */
	if (privs_drop(a->cfg.user))
		return -1;
	err = pipeline_init(&a->p, &pc, &a->dp, &a->w, a->users);
	a->piped = true;
	if (err) {
		pr_err("out of memory");
		return -1;
	}
	if (add_sinks(&a->p, &a->cfg))
		return -1;
	if (a->replay)
		return 0;
	err = ifwatch_open(&a->w, &wc, &a->dp);
	a->watching = true;
	if (err)
		return err == -EINVAL ? -EINVAL : -1;
	if ((err = ifwatch_start(&a->w))) {
		pr_err("cannot start following interfaces: %s", strerror(-err));
		return -1;
	}
	return 0;
}

/* The one cleanup path, whatever the exit: detach first, then the last harvest (nothing
 * can be counted after it), then sinks, datapath and sources in reverse order. */
static void stop(struct app *a, enum loop_stop why, struct sink *failed, int err)
{
	if (a->watching) {
		int *gone;
		size_t n;

		a->p.nifaces_at_exit = ifwatch_count(&a->w);
		ifwatch_close(&a->w);
		n = ifwatch_take_gone(&a->w, &gone);
		if (a->ran)
			pipeline_harvest(&a->p, true, gone, n, NULL);
		free(gone);
	} else if (a->claimed) {
		hook_owner_unregister();
	}
	/* The output is gone: what it would have said last goes to stderr. */
	if (why == STOP_OUTPUT || why == STOP_TERMINAL) {
		if (why == STOP_OUTPUT)
			pr_err("stopped: %s failed: %s", failed ? failed->name : "an output",
			       strerror(-err));
		else
			pr_err("stopped: the terminal went away (hang-up)");
		summary(&a->p, LOG_LVL_ERR);
	} else if (a->ran && a->cfg.output == OUT_NONE) {
		summary(&a->p, LOG_LVL_INFO);
	}
	if (a->piped)
		pipeline_free(&a->p);
	if (a->dp_open)
		dp_close(&a->dp);
	users_free(a->users);
	replay_close(a->replay);
	config_free(&a->cfg);
}

/* SIGHUP: the config file again; what changed at run time is applied. */
static void reload(void *arg, double *interval)
{
	struct app *a = arg;

	if (!config_reload(&a->given, a->argc, a->argv))
		*interval = a->given.interval;
}

int main(int argc, char **argv)
{
	static const int status[] = {[STOP_SIGNAL] = EXIT_OK,
	                             [STOP_ERROR] = EXIT_FAIL,
	                             [STOP_OUTPUT] = EXIT_OUTPUT,
	                             [STOP_TERMINAL] = EXIT_TERMINAL};
	struct app a = {.cfg.default_config = CONFIG_FILE, .argc = argc};
	struct sink *failed = NULL;
	enum loop_stop why = STOP_ERROR;
	int err = 0, started, nargs;
	char **args;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	log_init();
	if (argc > 1 && !strcmp(argv[1], "report"))
		return report_main(argc - 1, argv + 1);
	/* SIGHUP parses the command line again: as given, before getopt reorders it */
	a.argv = g_memdup2(argv, sizeof(*argv) * (argc + 1));
	if (parse_args(argc, argv, &a.cfg))
		return EXIT_USAGE;
	a.given = a.cfg;
	args = a.cfg.interfaces ? (char **)a.cfg.interfaces->pdata : NULL;
	nargs = a.cfg.interfaces ? (int)a.cfg.interfaces->len : 0;
	if (check_config(&a.cfg, nargs))
		return EXIT_USAGE;
	config_set_log_level(&a.cfg);
	rlimit_nofile_raise();
	if (check_privileges())
		return EXIT_FAIL;
	/* Blocked from here on, in every thread started later (metrics server, IPFIX
	 * sender, link events): the loop reads them from a signalfd, so a Ctrl-C during a
	 * long start still ends in a clean detach and final report. */
	loop_block_signals();
	if (a.cfg.cleanup)
		return cleanup_only(a.cfg.cleanup);
	if (a.cfg.mode == MODE_TCX && !tcx_supported()) {
		pr_err("this kernel has no tcx (needs Linux 6.6); use --attach tc or auto");
		return EXIT_FAIL;
	}
	started = start(&a, args, nargs);
	if (!started && a.replay) {
		why = replay_run(a.replay, &a.p, a.cfg.interval, &failed, &err);
		a.ran = true;
	} else if (!started) {
		struct loop_cfg lc = {.interval = a.cfg.interval,
		                      .duration = a.cfg.duration,
		                      .user_map = a.cfg.users.map,
		                      .reload = reload,
		                      .reload_arg = &a};

		why = loop_run(&a.p, &lc, &failed, &err);
		a.ran = true;
	}
	stop(&a, why, failed, err);
	g_free(a.argv);
	return started == -EINVAL ? EXIT_USAGE : status[why];
}

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
#include "sinks/ipfix.h"
#include "sinks/metrics.h"
#include "sinks/sink.h"
#include "sources/ifwatch.h"
#include "sources/users.h"
#include "util/log.h"
#include "util/privs.h"

#define IDLE_FORGET_S 60 /* the live table forgets a flow this long after its last packet */

/* Exit statuses (documented in the man page). */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 3, EXIT_TERMINAL = 4 };

/* The sink for standard output that the options ask for. */
static struct sink *stdout_sink(struct config *c)
{
	if (c->output == OUT_TABLE)
		return sink_table_new(stdout, &c->table, c->group);
	if (c->output == OUT_CSV)
		return sink_csv_new(stdout);
	return sink_json_new(stdout, c->group, c->records);
}

/* Checks between options that parse_args() cannot make alone. 0 or -EINVAL. */
static int check_config(struct config *c, int nargs)
{
	if (c->cleanup && nargs)
		return fail("--cleanup takes one interface and no others");
	if (c->output == OUT_AUTO)
		c->output = isatty(STDOUT_FILENO) && !c->records ? OUT_TABLE : OUT_JSON;
	c->table.tty = c->output == OUT_TABLE && isatty(STDOUT_FILENO);
	if (c->output == OUT_CSV)
		c->records = true;
	if (c->records && c->output == OUT_TABLE)
		return fail("--records needs -o json or -o csv");
	if (c->records && c->group == GROUP_USER)
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

int main(int argc, char **argv)
{
	struct pipeline_cfg pc = {.forget_s = IDLE_FORGET_S};
	struct ifwatch_cfg wc = {0};
	struct loop_cfg lc = {0};
	struct config cfg = {0};
	struct datapath dp = {0};
	struct ifwatch w = {0};
	struct pipeline p = {0};
	struct users *users = NULL;
	struct sink *failed = NULL, *s;
	bool dp_open_ok = false, watching = false, piped = false, ran = false;
	enum loop_stop why = STOP_ERROR;
	int err = 0, status = EXIT_FAIL;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	log_init();
	if (parse_args(argc, argv, &cfg) || check_config(&cfg, argc - optind))
		return EXIT_USAGE;
	log_set_level(cfg.quiet ? LOG_LVL_WARN : cfg.verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	if (check_privileges())
		return EXIT_FAIL;
	/* Blocked from here on, in every thread started later (metrics server, IPFIX
	 * sender, link events): the loop reads them from a signalfd, so a Ctrl-C during a
	 * long start still ends in a clean detach and final report. */
	loop_block_signals();
	if (cfg.cleanup)
		return cleanup_only(cfg.cleanup);
	if (cfg.mode == MODE_TCX && !tcx_supported()) {
		pr_err("this kernel has no tcx (needs Linux 6.6); use --attach tc or auto");
		return EXIT_FAIL;
	}

	/* From here every failure goes to the one cleanup path below. */
	if (!(users = users_new(&cfg.users)))
		goto out;
	if (dp_open(&dp, cfg.max_flows))
		goto out;
	dp_open_ok = true;
	pc.rec = cfg.rec;
	if (pipeline_init(&p, &pc, &dp, &w, users))
		goto oom;
	piped = true;
	if (!(s = stdout_sink(&cfg)) || pipeline_add_sink(&p, s))
		goto oom;
	cfg.ipfix.uniflow = cfg.rec.uniflow;
	cfg.ipfix.quiet = cfg.quiet;
	if (cfg.ipfix.collector &&
	    (!(s = ipfix_sink_new(&cfg.ipfix)) || pipeline_add_sink(&p, s)))
		goto out;
	if (cfg.metrics && (!(s = metrics_sink_new(cfg.metrics, cfg.metrics_top)) ||
			    pipeline_add_sink(&p, s)))
		goto out;
	wc.patterns = argv + optind;
	wc.npatterns = argc - optind;
	wc.excludes = (char **)cfg.excludes->pdata;
	wc.nexcludes = cfg.excludes->len;
	wc.dirs = cfg.dirs;
	wc.mode = cfg.mode;
	wc.quiet = cfg.quiet;
	err = ifwatch_open(&w, &wc, &dp);
	watching = true;
	if (err)
		goto out;
	if ((err = ifwatch_start(&w))) {
		pr_err("cannot start following interfaces: %s", strerror(-err));
		goto out;
	}
	lc.interval = cfg.interval;
	lc.duration = cfg.duration;
	lc.user_map = cfg.users.map;
	why = loop_run(&p, &lc, &failed, &err);
	ran = true;
	status = why == STOP_SIGNAL ? EXIT_OK : why == STOP_OUTPUT ? EXIT_OUTPUT
					: why == STOP_TERMINAL ? EXIT_TERMINAL : EXIT_FAIL;
	goto out;
oom:
	pr_err("out of memory");
out:
	/* Detach first, then drain: nothing can be counted after the last harvest. */
	if (watching) {
		int *gone;
		size_t n;

		p.nifaces_at_exit = ifwatch_count(&w);
		ifwatch_close(&w);
		n = ifwatch_take_gone(&w, &gone);
		if (ran)
			pipeline_harvest(&p, true, gone, n, NULL);
		free(gone);
	}
	/* The output is gone: what it would have said last goes to stderr. */
	if (why == STOP_OUTPUT || why == STOP_TERMINAL) {
		if (why == STOP_OUTPUT)
			pr_err("stopped: %s failed: %s", failed ? failed->name : "an output",
			       strerror(-err));
		else
			pr_err("stopped: the terminal went away (hang-up)");
		pipeline_summary(&p, stderr);
	}
	if (piped)
		pipeline_free(&p);
	if (dp_open_ok)
		dp_close(&dp);
	users_free(users);
	if (cfg.excludes)
		g_ptr_array_free(cfg.excludes, TRUE);
	return status;
}

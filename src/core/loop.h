/* SPDX-License-Identifier: GPL-2.0-only */
/* The event loop: one thread, one epoll over a signalfd, the harvest timer, the
 * --duration timer, the interface watcher's descriptor and whatever descriptors the
 * sinks have. It harvests on the timer and when interfaces go, and stops on SIGINT,
 * SIGTERM, --duration, a failed output, or a hang-up of the terminal it ran on. */
#ifndef TUNFLOW_LOOP_H
#define TUNFLOW_LOOP_H

#include <signal.h>
#include "core/pipeline.h"

struct loop_cfg {
	double interval;      /* harvest every this many seconds */
	double duration;      /* stop after this long; 0: until a signal */
	const char *user_map; /* re-read on SIGHUP, if set */
	/* On SIGHUP (not a hang-up), before the user map: re-read the configuration; it may
	 * change *interval, and the loop then re-arms its harvest timer. NULL: none. */
	void (*reload)(void *arg, double *interval);
	void *reload_arg;
};

/* Why the loop stopped; main's exit status follows it. */
enum loop_stop {
	STOP_SIGNAL = 0, /* SIGINT, SIGTERM or --duration: exit 0 */
	STOP_ERROR,      /* the loop itself failed: exit 1 */
	STOP_OUTPUT,     /* a sink's output failed for good: exit 3 */
	STOP_TERMINAL,   /* the terminal tunflow ran on went away: exit 4 */
};

/* The signals the loop reads from a signalfd, blocked in the calling thread (and so in
 * every thread started after). SIGPIPE is ignored: a closed output is an error that
 * write() returns, not a death. Call before starting any thread. */
void loop_block_signals(void);
/* Run until one of the stop conditions. *why says which; for STOP_OUTPUT, *failed is
 * the sink and *err its -errno. */
enum loop_stop loop_run(struct pipeline *p, const struct loop_cfg *cfg, struct sink **failed,
                        int *err);

#endif

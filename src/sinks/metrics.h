/* SPDX-License-Identifier: GPL-2.0-only */
/* Prometheus /metrics over HTTP or HTTPS (libmicrohttpd, epoll): rendered after every
 * harvest, served as that snapshot from the server's own thread. */
#ifndef TUNFLOW_METRICS_H
#define TUNFLOW_METRICS_H

#include "sinks/sink.h"

struct metrics;

struct metrics_cfg {
	const char *addr;       /* "PORT", "HOST:PORT" or "[V6]:PORT"; no host: 127.0.0.1 */
	int top;                /* how many destinations to expose */
	const char *web_config; /* exporter-toolkit web configuration (TLS, users), or NULL */
	double user_idle_s;     /* a user's series go after this long without traffic;
	                         * 0: METRICS_USER_IDLE_S */
};

#define METRICS_USER_IDLE_S 600       /* twice Prometheus' 5-minute staleness window */
#define METRICS_MAX_USER_SERIES 20000 /* per-user series at most (longest idle go first) */
#define METRICS_PER_IP 16             /* connections one client address may hold */
#define METRICS_DEADLINE_S 10         /* a request (or an idle keep-alive) gets this long */

/* NULL with a one-line error printed (a bad address, a bad web configuration, the port
 * in use). Call after rlimit_nofile_raise(): the connection limit follows it. */
struct metrics *metrics_start(const struct metrics_cfg *cfg);
/* Take a harvest's report into the counters and render a new snapshot. */
void metrics_update(struct metrics *m, const struct report *r);
/* The page as a scrape gets it (malloc'd, NUL-terminated, *len without the NUL): the
 * top destinations are ranked here, once per change, not at every report. */
char *metrics_page(struct metrics *m, size_t *len);
/* An interface went: its series go with it. */
void metrics_forget_iface(struct metrics *m, int ifindex);
void metrics_stop(struct metrics *m);
/* /metrics as a sink of the pipeline. NULL with a one-line error printed. */
struct sink *metrics_sink_new(const struct metrics_cfg *cfg);

#endif

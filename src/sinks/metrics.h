/* SPDX-License-Identifier: GPL-2.0-only */
/* Prometheus /metrics over HTTP (libmicrohttpd): rendered after every harvest, served
 * as that snapshot from the server's own thread. */
#ifndef TUNFLOW_METRICS_H
#define TUNFLOW_METRICS_H

#include "sinks/sink.h"

struct metrics;

/* addr: "PORT", "HOST:PORT" or "[V6]:PORT"; with no host, 127.0.0.1. top: how many
 * destinations to expose. NULL with a one-line error printed. */
struct metrics *metrics_start(const char *addr, int top);
/* Take a harvest's report into the counters and render a new snapshot. */
void metrics_update(struct metrics *m, const struct report *r);
/* An interface went: its series go with it. */
void metrics_forget_iface(struct metrics *m, int ifindex);
void metrics_stop(struct metrics *m);
/* /metrics as a sink of the pipeline. NULL with a one-line error printed. */
struct sink *metrics_sink_new(const char *addr, int top);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The outputs: each sink gets one report per harvest (core/report.h) and turns it into
 * its format. */
#ifndef TUNFLOW_SINK_H
#define TUNFLOW_SINK_H

#include <stdbool.h>
#include <stdio.h>
#include "core/report.h"
#include "sources/ifwatch.h"

/* The start of every sink that writes a stream (table, JSON, CSV). stream_sink_init()
 * names it and has the loop watch the stream for its reader going away (a pipe's reader
 * exits, a terminal hangs up) even while nothing is written. */
struct stream_sink {
	struct sink s;
	FILE *out;
};
void stream_sink_init(struct stream_sink *ss, FILE *out);
/* The descriptor to watch for that, with no events asked for (error and hang-up only). */
int sink_out_fd(FILE *out, unsigned *events);
/* -EPIPE (pipe or socket) or -EIO (terminal) when revents say the reader went, else 0. */
int sink_out_gone(FILE *out, unsigned revents);

struct table_opts {
	bool tty;     /* redraw in place, fit the terminal's height */
	bool wide;    /* full-width addresses instead of fitting 80 columns */
	int top;      /* rows at most; 0 for as many as fit (tty) or all */
	bool numeric; /* -n: addresses, never destination names */
};

enum group_by { GROUP_FLOW = 0, GROUP_USER };

struct sink *sink_table_new(FILE *out, const struct table_opts *o, enum group_by g);
/* records: flow records (--records) instead of per-interval flow lines */
struct sink *sink_json_new(FILE *out, enum group_by g, bool records);
struct sink *sink_csv_new(FILE *out);
/* The full-screen view (sinks/tui.c) on the terminal out, keys from in. */
struct tui_opts {
	bool records;       /* take flow records: the records view (R) has them */
	int view;           /* the view it starts in: 0 connections, 1 users, 4 records */
	const char *filter; /* -f, which the pipeline applies before the view's own */
	bool numeric;       /* -n: addresses, not names, until the n key */
};
#define TUI_VIEW_USERS 1
#define TUI_VIEW_RECORDS 4
struct sink *sink_tui_new(FILE *out, FILE *in, const struct tui_opts *o);

/* "PREFIX name N ..." for every non-zero loss counter, or nothing when none is. */
void print_losses(FILE *out, const char *prefix, const struct report *r);
/* The same line through the log, as a warning ("not in flows: ..."), when there is one. */
void say_losses(const struct report *r);

/* Per-user totals of a report (--group-by user). */
#define USER_TOP_DESTS 3
struct user_total {
	const char *user; /* NULL: flows nobody could be found for */
	__u64 flows;
	__u64 packets[2], bytes[2]; /* [0] what the user sent, [1] received (flow_user_sent:
	                             * ingress and egress on a server's tunnel) */
	double rate_bps;
	struct {
		const char *name; /* the name the flows reached it by (all its addresses
		                   * together); NULL: an address the flows have no name for */
		__u8 addr[16];    /* that address; with a name, the far address of its
		                   * flow with most bytes */
		int ip_version;
		__u8 name_src; /* enum name_source: that of the same flow; NAME_NONE
		                * without a name */
		__u64 bytes;
	} top[USER_TOP_DESTS]; /* destinations with most bytes, most first: by name where
	                        * the flows have one, else by remote address */
	int ntop;
};
/* Group a report's flows by user, most bytes first. Returns a malloc'd array (free
 * it), or NULL with *n = 0. */
struct user_total *group_by_user(struct flow *const *flows, size_t nflows, size_t *n);
/* Per-user totals since tunflow started: each report's deltas (flows of generation gen)
 * added, so they never fall when flows are forgotten. */
struct user_totals;
struct user_totals *user_totals_new(void);
void user_totals_free(struct user_totals *ut);
/* Add a report's deltas; then every user seen so far, most bytes first, as
 * group_by_user() gives them (flows, rate and top remote addresses from the flows in
 * memory, none when they are all forgotten) with packets and bytes since start.
 * malloc'd (free it), or NULL with *n = 0. */
struct user_total *user_totals_update(struct user_totals *ut, struct flow *const *flows,
                                      size_t nflows, __u64 gen, size_t *n);

#endif

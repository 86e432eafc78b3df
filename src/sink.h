/* SPDX-License-Identifier: GPL-2.0-only */
/* Outputs. Each sink gets one report per harvest and turns it into its format. */
#ifndef TUNFLOW_SINK_H
#define TUNFLOW_SINK_H

#include <stdbool.h>
#include <stdio.h>
#include "flow.h"
#include "flowtab.h"

struct report {
	struct flow **flows;   /* every flow in the table, in no particular order */
	size_t nflows;
	__u64 gen;             /* flows with gen == this had packets in this harvest */
	double interval_s;     /* time this harvest covers */
	__s64 mono_to_real_ns; /* CLOCK_MONOTONIC + this = CLOCK_REALTIME */
	__u64 now_real_ns;
	const __u64 *counters; /* CNT_MAX cumulative kernel failure counters */
	__u64 harvest_errors;  /* user-space failures: drain errors, flows not stored */
	int nifaces;
	bool final;            /* the last report before exit */
};

struct sink {
	void (*report)(struct sink *s, const struct report *r);
	void (*close)(struct sink *s);
};

struct table_opts {
	bool tty;   /* redraw in place, fit the terminal's height */
	bool wide;  /* full-width addresses instead of fitting 80 columns */
	int top;    /* rows at most; 0 for as many as fit (tty) or all */
};

struct sink *sink_table_new(FILE *out, const struct table_opts *o);
struct sink *sink_json_new(FILE *out);

/* Name of an interface tunflow watches (remembered even after it is gone). */
const char *iface_name(int ifindex);
void iface_remember(int ifindex, const char *name);

#endif

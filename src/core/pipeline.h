/* SPDX-License-Identifier: GPL-2.0-only */
/* One harvest, from the kernel's maps to every sink:
 *   drain the datapath -> flow table (totals, rates) and records (biflows, timeouts)
 *   -> attribute (users) -> records due to the sinks that take them -> the report to
 *   every sink.
 * The sources feed it (the datapath's flows, the interfaces that went, users); the sinks
 * read from it; it knows neither the event loop nor which sinks there are. */
#ifndef TUNFLOW_PIPELINE_H
#define TUNFLOW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>
#include "core/datapath.h"
#include "core/records.h"
#include <stdio.h>
#include "core/report.h"
#include "core/naming.h"

struct datapath;
struct ifwatch;
struct users;
struct flowtab;

struct pipeline_cfg {
	struct record_cfg rec;  /* the record lifecycle, for sinks that take records */
	double forget_s;        /* the live table forgets a flow this long after its last
	                         * packet */
	size_t max_table_flows; /* flows the table holds; past it the longest idle go */
	double hold_s;          /* a flow on an interface seen this recently waits (not
	                         * reported) until its VPN session is known, this long at most */
	bool geo;               /* AS and country of each flow's far address (names/geo.h) */
	const char *geo_db;     /* the location database; NULL: Debian's default */
	const char *filter;     /* only flows and records matching it go to the sinks
	                         * (core/filter.h); NULL: all */
	bool names;             /* name destinations (the datapath captures for it) */
	struct naming_cfg naming;
};

struct pipeline {
	struct pipeline_cfg cfg;
	struct datapath *dp;
	struct ifwatch *w;
	struct users *users; /* NULL: no user sources */
	struct flowtab *ft;
	struct records *records; /* NULL unless a sink takes records */
	struct peers *peers;     /* WireGuard peer sessions and the strings naming peers */
	struct geo *geo;         /* NULL: no AS and country */
	struct filter *filter;   /* NULL: every flow and record */
	struct naming *names;    /* NULL: --names off */
	GPtrArray *sinks;        /* struct sink *, in the order they were added */
	GPtrArray *shown;        /* the flows of this report: all but the held ones */
	GPtrArray *changed;      /* this report's changed flows (struct report) */
	GPtrArray *held;         /* the flows waiting for their session (f->held) */
	bool list_all;           /* a sink reads every flow (not changes_only) */
	GHashTable *ifacc;       /* ifindex -> struct iface_total: what tunflow counted on
	                          * a watched interface, for its "gone" report */
	struct iface_total *last_acc;
	size_t nifaces_at_exit;
	__u64 last_harvest_ns;
	__u64 harvest_errors;
	/* since start, for the summary on stderr when the output is gone */
	__u64 packets, bytes, flows;
	__u64 counters[CNT_ALL];
	__u64 name_counters[NCNT_MAX];
	struct report last; /* the scalars of the latest report (no flows) */
};

/* 0, or -ENOMEM, or -EINVAL for a filter that does not parse (said). The pipeline reads
 * dp, w and users; it does not own them. A location database that cannot be opened is
 * said in one line, and the pipeline runs without.
 * A filter selects what the sinks see: the report's flows and the records. What is
 * counted stays whole: interface totals (iface_gone), WireGuard sessions, loss
 * counters, the totals of the summary at exit. */
int pipeline_init(struct pipeline *p, const struct pipeline_cfg *cfg, struct datapath *dp,
                  struct ifwatch *w, struct users *users);
/* Hand every report (and records, if the sink takes them) to s from now on; the
 * pipeline owns s and closes it. 0, or -ENOMEM (s is closed). */
int pipeline_add_sink(struct pipeline *p, struct sink *s);
/* The time the next harvest's interval starts from (before the first harvest). */
void pipeline_start(struct pipeline *p);
/* One harvest. gone: interfaces unwatched since the last one (their flows end); final:
 * the last one, after every interface was detached. 0, or the -errno of the first sink
 * whose output failed for good, with *failed set to it. */
int pipeline_harvest(struct pipeline *p, bool final, const int *gone, size_t ngone,
                     struct sink **failed);
/* Close every sink, last added first, and free. */
void pipeline_free(struct pipeline *p);

#endif

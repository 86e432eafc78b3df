/* SPDX-License-Identifier: GPL-2.0-only */
/* What a harvest hands its consumers: the report, and the interface every sink fills
 * (struct sink). The pipeline builds reports; the sinks in src/sinks/ read them. */
#ifndef TUNFLOW_REPORT_H
#define TUNFLOW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "flow.h"
#include "core/flowtab.h"
#include "core/peers.h"
#include "core/records.h"

/* What tunflow counted on a watched interface while watching it: kept for every watched
 * interface, and reported when it goes (an "iface_gone" object). */
struct iface_total {
	int ifindex;
	const char *user;           /* the session's user, if known */
	__u64 packets[2], bytes[2]; /* by enum flow_dir */
	__u64 flows;
	__u64 first_ns, last_ns; /* CLOCK_MONOTONIC: attached, gone */
	__u64 seen_ns;           /* when tunflow first harvested a flow of it */
};

/* Exporter health: IPFIX (--ipfix), ClickHouse (--clickhouse). */
struct export_stats {
	__u64 records;  /* records handed to the collector's socket */
	__u64 failures; /* records that could not be sent: backlog full, refused, or
	                 * still waiting at exit */
	__u64 backlog;  /* records waiting now */
};

struct report {
	struct flow **flows; /* every flow in the table, in no particular order; ended
	                      * ones (f->end) appear this once. Listed only when a sink
	                      * reads it (one without changes_only): else NULL and 0 */
	size_t nflows;
	struct flow **changed; /* the flows of flows with packets in this harvest (f->gen ==
	                        * gen) or ending now (f->end), each once: always listed, at a
	                        * cost that follows the traffic, not the table. NULL only in a
	                        * report made by hand (tests): then those of flows */
	size_t nchanged;
	size_t ntable;           /* flows in the table (what nflows is when listed) */
	struct flow **forgotten; /* flows the table forgot (idle) since the last report, no
	                          * longer among flows: readable during this report only */
	size_t nforgotten;
	__u64 gen;             /* flows with gen == this had packets in this harvest */
	double interval_s;     /* time this harvest covers */
	__s64 mono_to_real_ns; /* CLOCK_MONOTONIC + this = CLOCK_REALTIME */
	__u64 now_real_ns;
	const __u64 *counters;      /* CNT_MAX cumulative kernel failure counters */
	const __u64 *name_counters; /* NCNT_MAX naming counters (core/naming.h); NULL:
	                             * --names off */
	__u64 harvest_errors;       /* user-space failures: drain errors, flows not stored */
	__u64 evicted;              /* flows and flow records ended early: their table was full */
	unsigned long lost_link_events; /* link-event overflows (recovered by a full dump) */
	unsigned long malformed_lines;  /* lines of the user files that were refused */
	int nifaces;
	unsigned long attach_errors;    /* interfaces that appeared but could not be attached */
	const struct iface_total *gone; /* interfaces gone since the last report */
	size_t ngone;
	const struct peer_session *sessions; /* WireGuard peer sessions ended since the last
	                                      * report (core/peers.h) */
	size_t nsessions;
	bool users;                        /* user attribution is on: show the user column */
	double harvest_s;                  /* how long the map swap and drain took */
	bool final;                        /* the last report before exit */
	const struct export_stats *export; /* NULL without --ipfix */
	const struct export_stats *store;  /* NULL without --store: written, failed, waiting */
	/* NULL without --clickhouse */
	const struct export_stats *clickhouse;
};

struct record;

/* A consumer of the pipeline's output: the table, JSON, CSV, /metrics, IPFIX, ... Every
 * harvest, the pipeline hands each sink the records that are due (record), lets each
 * add what it knows to the report (prepare), then hands each the report (report). A
 * sink may run threads of its own and may have a descriptor for the event loop to
 * watch (fd, on_ready); the loop does not know which sinks exist. Only report and close
 * are required. */
struct sink {
	const char *name;  /* for messages: "standard output", "IPFIX", "/metrics" */
	bool changes_only; /* reads r->changed (never r->flows): if every sink does, the
	                    * pipeline does not list every flow at each harvest */
	/* A finished (or active-timeout) flow record, user in rec->user (may be NULL);
	 * called before the report of the same harvest. NULL: records are not wanted. */
	void (*record)(struct sink *s, const struct record *rec, const struct report *r);
	/* Before any sink's report: add this sink's own health to r (r->export). */
	void (*prepare)(struct sink *s, struct report *r);
	/* One harvest's report. 0, or -errno when this output failed for good (EPIPE, EIO,
	 * ENOSPC, ...): tunflow then stops, naming the sink and the error. */
	int (*report)(struct sink *s, const struct report *r);
	/* A descriptor the event loop watches (or -1) for *events (EPOLLIN, or 0 for error
	 * and hang-up only), and what to do when it has revents: 0, or -errno to stop
	 * tunflow (as report's). */
	int (*fd)(struct sink *s, unsigned *events);
	int (*on_ready)(struct sink *s, unsigned revents);
	/* Flush, stop threads, free. */
	void (*close)(struct sink *s);
};

#endif

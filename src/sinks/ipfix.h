/* SPDX-License-Identifier: GPL-2.0-only */
/* IPFIX export (RFC 7011, RFC 5103 biflows) of flow records to a collector over UDP or
 * TCP. libfixbuf encodes the messages; a thread of tunflow's own sends them, so a
 * collector that is down, slow or unreachable never holds up a harvest. Records wait in
 * a bounded backlog while the collector is away; what cannot be sent is counted. */
#ifndef TUNFLOW_IPFIX_H
#define TUNFLOW_IPFIX_H

#include <stdbool.h>
#include <linux/types.h>
#include <sys/socket.h>
#include "core/records.h"
#include "sinks/sink.h"

struct ipfix_cfg {
	const char *collector; /* "[udp:|tcp:]HOST:PORT", as given; outlives the exporter */
	bool tcp;              /* parsed from it by ipfix_parse() */
	struct sockaddr_storage addr;
	__u32 domain;          /* observation domain id */
	bool uniflow;          /* records are one per direction: no reverse counters */
	unsigned long backlog; /* records that may wait for the collector */
	double template_s;     /* UDP: templates re-sent this often */
};

struct ipfix;

/* "[udp:|tcp:]HOST:PORT" into cfg's collector, tcp and addr. -1, with a one-line error
 * printed, when it is not that. */
int ipfix_parse(const char *spec, struct ipfix_cfg *cfg);
/* cfg as ipfix_parse() filled it. NULL with a one-line error printed. */
struct ipfix *ipfix_open(const struct ipfix_cfg *cfg);
/* Add one record; user may be NULL; mono_to_real_ns turns its times into wall clock. */
void ipfix_add(struct ipfix *x, const struct record *r, const char *user, __s64 mono_to_real_ns);
/* Hand the records added since the last flush to the sender. */
void ipfix_flush(struct ipfix *x);
/* Flush, then give the sender up to wait_s to deliver the backlog; what is left is
 * counted as failed. No record is taken after this. */
void ipfix_finish(struct ipfix *x, double wait_s);
void ipfix_stats(struct ipfix *x, struct export_stats *st);
void ipfix_close(struct ipfix *x);
/* The exporter as a sink of the pipeline (records in, export health into the report).
 * NULL with a one-line error printed. */
struct sink *ipfix_sink_new(const struct ipfix_cfg *cfg);

#endif

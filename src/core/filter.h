/* SPDX-License-Identifier: GPL-2.0-only */
/* Filter expressions (-f/--filter), in the syntax of nfdump and pcap:
 *   user alice and (port 443 or proto udp) and net 198.51.100.0/24 and not dir egress
 * Precedence: not, then and, then or; parentheses group. Fields: user GLOB, iface GLOB,
 * proto NAME|N (or tcp, udp, icmp, icmp6 alone), [src|dst|local|remote] port [OP] N,
 * [src|dst|local|remote] host ADDR, [src|dst|local|remote] net ADDR/LEN, dir
 * ingress|egress, ip4, ip6, name GLOB, as N, country CC, bytes OP N[k|M|G|T], packets
 * OP N[k|M|G|T]; local and remote are the tunnel's sides (core/flowtab.h flow_near,
 * flow_far). The grammar is in docs/tunflow.8 (FILTERS). Nothing is looked up: a host
 * is an address. The pipeline applies one filter to every output (core/pipeline.c). */
#ifndef TUNFLOW_FILTER_H
#define TUNFLOW_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct flow;
struct record;
struct filter;

/* Parse a filter expression. NULL on error with a one-line message in err naming the
 * 1-based column and what was expected, e.g.
 * "filter: at column 17: expected a port number after 'port', got 'x'". An empty
 * expression (only blanks) matches everything. */
struct filter *filter_parse(const char *expr, char *err, size_t errlen);
void filter_free(struct filter *f);
/* Does this flow / record match? A NULL filter matches everything. A flow's bytes and
 * packets are its totals since first seen (both directions of a record: fwd + rev). */
bool filter_flow(const struct filter *f, const struct flow *fl);
bool filter_record(const struct filter *f, const struct record *r);
/* The expression as given (for messages and the UI), "" for a NULL filter. */
const char *filter_text(const struct filter *f);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* DNS messages (RFC 1035): the question's name, and the addresses of a response. */
#ifndef TUNFLOW_NAMES_DNS_H
#define TUNFLOW_NAMES_DNS_H

#include <stddef.h>
#include <linux/types.h>
#include "names/name.h"

/* For each address record reachable from the question by the answer's CNAME chain:
 * qname is the name the client asked for (not the CNAME target). addr is 16 bytes,
 * IPv4 as ::ffff:a.b.c.d; ttl the smallest TTL along the chain. */
typedef void (*dns_answer_fn)(const char *qname, const __u8 addr[16], __u32 ttl, void *ctx);
/* One DNS message (a UDP payload; over TCP, one message without its 2-byte length).
 * qname (NAME_BUF) gets the question's name whenever there is one (queries too).
 * Returns 1: a response (fn called for each address, maybe none), 0: a query (no
 * answers read), -EBADMSG: malformed (truncated, lying counts or lengths, compression
 * loop, bad name). Never reads outside msg[0..len). */
int dns_parse(const __u8 *msg, size_t len, char qname[NAME_BUF], dns_answer_fn fn, void *ctx);

#endif

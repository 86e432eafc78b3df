/* SPDX-License-Identifier: GPL-2.0-only */
/* Turning flow keys, times and numbers into text; reading clocks and addresses. */
#ifndef TUNFLOW_FMT_H
#define TUNFLOW_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <sys/socket.h>
#include "flow.h"

#define ADDR_STRLEN 46   /* INET6_ADDRSTRLEN */
#define ENDPOINT_STRLEN 64

/* Whether the protocol has ports (TCP, UDP, UDP-Lite, SCTP) or ICMP type/code. */
bool proto_has_ports(__u8 proto);
bool proto_is_icmp(__u8 proto);
/* "tcp", "udp", "icmp", "icmp6", ... or the number. buf holds at least 8 bytes. */
const char *proto_name(__u8 proto, char *buf);
/* Address as text: dotted quad for IPv4 (stored mapped), RFC 5952 for IPv6. */
void fmt_addr(const __u8 addr[16], int ip_version, char *buf);
/* Address and port as "a.b.c.d:p" or "[v6]:p"; no port where the protocol has none. */
void fmt_endpoint(const struct flow_key *k, bool src, char *buf);
/* RFC 3339 UTC with milliseconds. buf holds at least 32 bytes. */
void fmt_time(__u64 real_ns, char *buf);
/* Human number with k/M/G/T suffix (powers of 1000), at most 6 characters. */
void fmt_si(double v, char *buf, size_t len);
/* "PORT", "HOST:PORT" or "[IPV6]:PORT" taken apart, syntax only (nothing is looked
 * up): HOST is an IPv6 address (a zone allowed) in brackets, or letters, digits, '-', '_'
 * and '.' (a name or an IPv4 address); PORT 1 to 65535. With no host, default_host. */
struct hostport {
	char host[256];
	unsigned short port;
	bool v6; /* the host was in brackets */
};
int hostport_parse(const char *spec, const char *default_host, struct hostport *hp);
/* hp's host looked up now (a name through the resolver) into ss. 0 or -1. */
int hostport_resolve(const struct hostport *hp, struct sockaddr_storage *ss);
/* Both: 0, or -1 when spec is none of those or its host cannot be resolved. */
int parse_hostport(const char *spec, const char *default_host, struct sockaddr_storage *ss);
/* Write s as a JSON string, quotes included. */
void json_str(FILE *out, const char *s);

#endif

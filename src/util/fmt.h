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

#define ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define ENDPOINT_STRLEN 64

/* Whether the protocol has ports (TCP, UDP, UDP-Lite, SCTP) or ICMP type/code. */
bool proto_has_ports(__u8 proto);
bool proto_is_icmp(__u8 proto);
/* "tcp", "udp", "icmp", "icmp6", ... or the number. buf holds at least 8 bytes. */
const char *proto_name(__u8 proto, char *buf);
/* The protocol's name as JSON and CSV give it beside its number (proto_name), and as
 * filters take it: "tcp", "udp", "icmp", "icmp6", "sctp", "udplite", "gre", "esp", "ah",
 * or the number. buf holds at least 8 bytes. */
const char *proto_word(__u8 proto, char *buf);
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
/* "ingress" or "egress" (enum flow_dir), as JSON, CSV and metrics name it; the table's
 * short form "in" or "out". */
const char *dir_name(int dir);
const char *dir_short(int dir);

/* Write s as a JSON string, quotes included, whatever s holds: valid UTF-8 and plain
 * text, which a JSON reader decodes to exactly what text_clean() makes of s (with no
 * bound on its length), so a clean string comes back as itself. '"' and '\\' are
 * escaped; a control character, the other characters text_unsafe() names and each
 * byte that is not valid UTF-8 are the visible text \xHH per byte (written "\\xHH"),
 * as in every other output, never a raw or \u-escaped control. */
void json_str(FILE *out, const char *s);
/* Write s as a CSV cell (RFC 4180): quoted when it holds a comma or a quote (doubled
 * inside); controls and invalid UTF-8 shown as \xHH as text_clean() does, so a cell
 * never holds a line break; a cell starting with = + - @ tab or CR, which spreadsheets
 * read as a formula, is quoted with a single quote put first (OWASP's CSV injection
 * advice), so "=1+2" is written "'=1+2" in quotes. */
void csv_str(FILE *out, const char *s);

/* Flush out and see whether everything written to it since the last check got through.
 * Returns 0, or -errno of the write that failed (the stream's error flag is cleared,
 * so the next check sees only what fails after this one). */
int out_check(FILE *out);
/* Whether an output error is final, so that writing on is pointless: nobody reads any
 * more (EPIPE), the device or terminal is gone (EIO, EBADF), no room is left (ENOSPC,
 * EDQUOT, EFBIG). EAGAIN or EINTR are not. */
bool out_err_final(int err);
/* What an output lost: checks (one a report) that found a write failed. */
struct out_errors {
	__u64 count;
	int last; /* -errno of the last one */
};
/* out_check() at the end of a report, counted in e. Returns 0, or the -errno when it
 * is final (out_err_final()): the sink's report returns it, and tunflow ends. */
int out_check_report(FILE *out, struct out_errors *e);
/* At close: one line on stderr saying what of "what" (e.g. "JSON output") was lost,
 * when anything was. */
void out_errors_say(const struct out_errors *e, const char *what);

#endif

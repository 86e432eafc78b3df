/* SPDX-License-Identifier: GPL-2.0-only */
/* An address or prefix written by a person or a file (a user map, a status file, a
 * filter, a report's target), in the flow key's form. */
#ifndef TUNFLOW_ADDR_H
#define TUNFLOW_ADDR_H

#include <stdbool.h>
#include <linux/types.h>

/* "a.b.c.d" or IPv6, with an optional "/len" (decimal digits only, at most the family's
 * bits) into out: IPv4 mapped (::ffff:a.b.c.d); plen in bits over the 16 bytes (128 for a
 * host, 96 + len for an IPv4 prefix). Host bits are left as written. */
bool addr_parse(const char *s, __u8 out[16], int *plen);
/* One address, no prefix, into out as addr_parse() puts it: 4 or 6 (the family it was
 * written in), or -1. */
int addr_host(const char *s, __u8 out[16]);

#endif

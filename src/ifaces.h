/* SPDX-License-Identifier: GPL-2.0-only */
/* Which interfaces to watch: names or globs, and each one's link layer. */
#ifndef TUNFLOW_IFACES_H
#define TUNFLOW_IFACES_H

#include <stdbool.h>
#include <net/if.h>

struct iface {
	int ifindex;
	char name[IF_NAMESIZE];
	unsigned short arphrd;
	bool l2; /* packets start with an Ethernet header */
};

/* Link layer of an ARPHRD type: 1 for Ethernet-framed, 0 for L3 (packet starts at the
 * IP header), -1 for link types tunflow cannot parse. */
int link_layer(unsigned short arphrd);
/* ARPHRD type of an interface, or -errno. */
int iface_arphrd(const char *name);
/* Expand patterns (names or fnmatch globs) into interfaces, in ifindex order, no
 * duplicates. With no patterns: every L3 tunnel interface. Prints a one-line error and
 * returns -errno when a pattern matches nothing or an interface has an unusable link. */
int ifaces_resolve(char **patterns, int npatterns, struct iface **out, int *count);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* Which interfaces to watch: names, globs and exclusions, matched against every link
 * present at start and every link created later (rtnetlink); each one attached with the
 * entry point for its link layer, detached when it goes. */
#ifndef TUNFLOW_IFWATCH_H
#define TUNFLOW_IFWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <net/if.h>
#include <pthread.h>
#include "sources/attach.h"

struct datapath;

#define TCX_BURST_MAX 32 /* --attach auto: more interfaces at start take tc */

struct ifwatch_cfg {
	char **patterns; /* names, fnmatch globs or "=NAME" (NAME literally); none: every
	                  * L3 tunnel */
	int npatterns;
	char **excludes; /* -x: never these */
	int nexcludes;
	int dirs; /* 1 << DIR_INGRESS | 1 << DIR_EGRESS */
	enum attach_mode mode;
};

/* A watched interface. */
struct watched {
	int ifindex;
	char name[IF_NAMESIZE]; /* the kernel's name, raw */
	char kind[16];          /* rtnetlink link kind ("tun", "wireguard", ...) or "" */
	bool l2;                /* packets start with an Ethernet header */
	bool seen;              /* present in the latest resync dump */
	int nhooks;
	struct hook hooks[2];
};

/* Link events are handled on a thread of their own, so that an interface is attached
 * within the attach's own time of appearing, never behind a harvest (which waits for
 * an RCU grace period). The thread alone changes the table; it takes the lock only to
 * publish a change (an interface attached or gone, a counter), never across an attach
 * or a detach, which can take 35 ms each in tcx mode: a burst of hundreds of new
 * interfaces never holds up a harvest. Everything below the lock is shared with it. */
struct ifwatch {
	struct ifwatch_cfg cfg;
	const struct datapath *dp;
	struct mnl_socket *nl; /* RTMGRP_LINK and address events */
	bool addrs_dirty;      /* an address (or a link) changed: re-read the addresses */
	pthread_t thread;
	bool threaded;
	int notify_fd; /* eventfd: the thread has gone interfaces to hand over */
	int stop_fd;   /* eventfd: the thread should end */
	pthread_mutex_t lock;
	void *by_ifindex;            /* GHashTable: ifindex -> struct watched */
	unsigned long attach_errors; /* interfaces that appeared but could not be attached */
	unsigned long lost_events;   /* link event overflows (ENOBUFS), each recovered by
	                              * re-reading every link */
	int *gone;                   /* ifindexes unwatched since the caller last took them */
	size_t ngone, capgone;
};

/* Link layer of an ARPHRD type: 1 for Ethernet-framed, 0 for L3 (packet starts at the
 * IP header), -1 for link types tunflow cannot parse. */
int link_layer(unsigned short arphrd);

/* An interface pattern from the command line or the config file (what: "interface" or
 * "--exclude pattern" for the message): 0, or -EINVAL with one line said (a glob that
 * cannot match as written, no name, a name over IFNAMSIZ - 1 bytes). */
int ifwatch_check_pattern(const char *p, const char *what);
/* Whether name matches pattern: "=NAME" literally, else by fnmatch (a plain name is
 * itself). */
bool ifwatch_match(const char *pattern, const char *name);
/* Before anything is attached, with every privilege still held: check the patterns
 * (-EINVAL, said, for a usage error), remove what a killed tunflow left, and in tc mode
 * record this tunflow as the owner of its programs (ifwatch_close() takes that back).
 * In --attach auto, a start with more than TCX_BURST_MAX interfaces to attach takes tc
 * for this run (cfg->mode becomes MODE_TC, said in one line): tcx costs an RCU grace
 * period per hook, serialised under the RTNL lock.
 * 0 or -errno, said. */
int ifwatch_claim(struct ifwatch_cfg *cfg, const struct datapath *dp);
/* Subscribe to link events, remove what killed tunflows left (tc filters), then attach
 * to every matching link present. On failure prints one line and returns -errno:
 * -EINVAL means a usage error (a pattern that is no valid glob, a name longer than
 * IFNAMSIZ-1 bytes: exit status 2), and is never returned for anything else; any
 * other value is a failure of the system or of an interface named explicitly (an
 * unusable link type, an attach refused at start, an unsafe state directory). */
int ifwatch_open(struct ifwatch *w, const struct ifwatch_cfg *cfg, const struct datapath *dp);
/* Start following link events (on a thread). 0 or -errno. */
int ifwatch_start(struct ifwatch *w);
/* The descriptor to poll: readable when interfaces went. */
int ifwatch_fd(const struct ifwatch *w);
/* Take the ifindexes of the interfaces unwatched since the last call (detached
 * already; the caller ends their flows). Returns how many; *out is malloc'd. */
size_t ifwatch_take_gone(struct ifwatch *w, int **out);
/* Watched interfaces now; attach errors so far; link events lost to overflows so far
 * (the links were re-read each time, so nothing was missed for long: an interface that
 * came and went between two reads was not seen). */
size_t ifwatch_count(struct ifwatch *w);
unsigned long ifwatch_attach_errors(struct ifwatch *w);
unsigned long ifwatch_lost_events(struct ifwatch *w);
/* Detach everything and close; a last ifwatch_take_gone() still hands over the
 * interfaces that went before. */
void ifwatch_close(struct ifwatch *w);

/* Name of an interface tunflow watches, cleaned for display (text_clean()), kept while
 * the last flows of an interface that went are reported: interfaces gone before the
 * last two ifwatch_take_gone() calls are forgotten. The string stays valid until the
 * next ifwatch_take_gone() (call both on the same thread). */
const char *iface_name(int ifindex);
/* The interface has this (raw) name now. */
void iface_remember(int ifindex, const char *name);
/* The interface went; its name is forgotten two ifwatch_take_gone() calls later. */
void iface_forget(int ifindex);
/* Free what renames replaced and forget the interfaces that went long ago; done by
 * ifwatch_take_gone(). Names known now (for tests). */
void iface_names_release(void);
size_t iface_names_count(void);

#endif

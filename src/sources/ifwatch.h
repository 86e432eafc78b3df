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

struct ifwatch_cfg {
	char **patterns; /* names or fnmatch globs; none: every L3 tunnel */
	int npatterns;
	char **excludes; /* -x: never these */
	int nexcludes;
	int dirs;        /* 1 << DIR_INGRESS | 1 << DIR_EGRESS */
	enum attach_mode mode;
	bool quiet;
};

/* A watched interface. */
struct watched {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[16];           /* rtnetlink link kind ("tun", "wireguard", ...) or "" */
	unsigned short arphrd;
	bool l2;                 /* packets start with an Ethernet header */
	bool seen;               /* present in the latest resync dump */
	int nhooks;
	struct hook hooks[2];
};

/* Link events are handled on a thread of their own, so that an interface is attached
 * within the attach's own time of appearing, never behind a harvest (which waits for
 * an RCU grace period). Everything below the lock is shared with it. */
struct ifwatch {
	struct ifwatch_cfg cfg;
	const struct datapath *dp;
	struct mnl_socket *nl;   /* RTMGRP_LINK events */
	pthread_t thread;
	bool threaded;
	int notify_fd;           /* eventfd: the thread has gone interfaces to hand over */
	int stop_fd;             /* eventfd: the thread should end */
	pthread_mutex_t lock;
	void *by_ifindex;        /* GHashTable: ifindex -> struct watched */
	unsigned long attach_errors; /* interfaces that appeared but could not be attached */
	unsigned long resyncs;   /* event overflows recovered by a full dump */
	int *gone;               /* ifindexes unwatched since the caller last took them */
	size_t ngone, capgone;
};

/* Link layer of an ARPHRD type: 1 for Ethernet-framed, 0 for L3 (packet starts at the
 * IP header), -1 for link types tunflow cannot parse. */
int link_layer(unsigned short arphrd);

/* Subscribe to link events, then attach to every matching link present. Prints a
 * one-line error and returns -errno when something is wrong with the request itself
 * (an unusable link named explicitly, an attach refused at start). */
int ifwatch_open(struct ifwatch *w, const struct ifwatch_cfg *cfg, const struct datapath *dp);
/* Start following link events (on a thread). 0 or -errno. */
int ifwatch_start(struct ifwatch *w);
/* The descriptor to poll: readable when interfaces went. */
int ifwatch_fd(const struct ifwatch *w);
/* Take the ifindexes of the interfaces unwatched since the last call (detached
 * already; the caller ends their flows). Returns how many; *out is malloc'd. */
size_t ifwatch_take_gone(struct ifwatch *w, int **out);
/* Watched interfaces now; attach errors so far. */
size_t ifwatch_count(struct ifwatch *w);
unsigned long ifwatch_attach_errors(struct ifwatch *w);
/* Detach everything and close; a last ifwatch_take_gone() still hands over the
 * interfaces that went before. */
void ifwatch_close(struct ifwatch *w);

/* Name of an interface tunflow watches (remembered even after it is gone). */
const char *iface_name(int ifindex);
void iface_remember(int ifindex, const char *name);

#endif

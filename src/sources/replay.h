/* SPDX-License-Identifier: GPL-2.0-only */
/* Offline replay (tunflow -r FILE): a pcap or pcapng capture, read with libpcap, run
 * packet by packet through the same BPF program with BPF_PROG_TEST_RUN, then through the
 * same pipeline and every output. Time is the capture's: the program stamps each flow
 * with the packet's capture timestamp (written into the program's globals before each
 * test run: dp_test_run()), and the
 * pipeline harvests at every --interval of capture time (the clock set with
 * clock_set()), then once at the end.
 *
 * Link types: Ethernet (to the L2 entry, as captured), raw IPv4/IPv6 (the L3 entry),
 * Linux cooked SLL and SLL2 and BSD loopback (NULL, LOOP): the pseudo header is replaced
 * by an Ethernet-shaped one (zero addresses, the pseudo header's protocol as the
 * EtherType) and the packet goes to the L2 entry, so that the program itself tells IP
 * from the rest and steps over VLAN tags, as live. Direction: ingress, except a cooked
 * packet of type "outgoing" (PACKET_OUTGOING), which goes to the egress entry. Every
 * flow is on one interface, named "pcap". */
#ifndef TUNFLOW_REPLAY_H
#define TUNFLOW_REPLAY_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "core/loop.h"

struct datapath;
struct pipeline;
struct replay;

#define REPLAY_IFACE "pcap" /* the interface name every replayed flow has */

/* Open the capture (path "-": standard input). NULL, with one line said naming the file
 * and what to give instead (not a capture, truncated header, unsupported link type). */
struct replay *replay_open(const char *path);
/* The same for a capture already open (fp is the replay's from now on, closed with it);
 * name stands for it in messages. */
struct replay *replay_fopen(FILE *fp, const char *name);

/* One packet of the capture, ready for a test run. */
struct replay_frame {
	const unsigned char *data; /* Ethernet-framed (l2) or IP; valid until the next call */
	__u32 len, wire;           /* bytes captured, bytes on the wire */
	bool l2;
	int dir;     /* enum flow_dir */
	__u64 ts;    /* capture time, nanoseconds since 1970 */
	int counter; /* when replay_next() returns 0: the counter it lands in */
};

/* The next packet: 1 with *f ready for the program, 0 when it lands in f->counter without
 * a test run (a pseudo header or frame shorter than a test run takes), -1 at the end of
 * the capture, -2 when it ends early (pcap_geterr()). */
int replay_next(struct replay *r, struct replay_frame *f);
/* Read the capture whole through dp's programs (dp_open_replay()), harvesting p at every
 * interval seconds of capture time and once at the end (the final harvest). STOP_SIGNAL
 * when the file was read whole (or SIGINT/SIGTERM came), STOP_ERROR when it ends early
 * (said; what was read is still reported), STOP_OUTPUT with *failed and *err when a
 * sink's output failed. */
enum loop_stop replay_run(struct replay *r, struct pipeline *p, double interval,
                          struct sink **failed, int *err);
/* Packets read, for the summary. */
__u64 replay_packets(const struct replay *r);
void replay_close(struct replay *r);

#endif

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include "core/clock.h"
#include "core/datapath.h"
#include "core/pipeline.h"
#include "sources/ifwatch.h"
#include "sources/replay.h"
#include "util/log.h"

#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

/* The longest wire length a test run's context can carry (the kernel's
 * GSO_LEGACY_MAX_SIZE): a longer packet is counted as too_big. */
#define WIRE_MAX 65536
/* Bytes of a packet a test run gets first: its headers, almost always. */
#define HEAD_BYTES 192
/* Harvests in a row with no packet before the next one: past this many, a gap in the
 * capture is harvested once more, at the last interval boundary before its next packet. */
#define MAX_EMPTY_HARVESTS 1000

enum link { LINK_ETH, LINK_IP, LINK_SLL, LINK_SLL2, LINK_NULL, LINK_LOOP };

struct replay {
	pcap_t *pc;
	char *name; /* for messages: the path, or "standard input" */
	enum link link;
	__u32 max_data; /* the bytes a test run takes: a longer packet is passed cut, with
	                 * its wire length, as if snapped (headers come first) */
	unsigned char *buf;
	__u64 packets;
};

static enum link link_of(int dlt, bool *ok)
{
	*ok = true;
	switch (dlt) {
	case DLT_EN10MB:
		return LINK_ETH;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return LINK_IP;
	case DLT_LINUX_SLL:
		return LINK_SLL;
	case DLT_LINUX_SLL2:
		return LINK_SLL2;
	case DLT_NULL:
		return LINK_NULL;
	case DLT_LOOP:
		return LINK_LOOP;
	}
	*ok = false;
	return LINK_ETH;
}

/* r with its capture pc opened (or NULL, errbuf saying why): checked and completed. */
static struct replay *start(struct replay *r, pcap_t *pc, const char *errbuf)
{
	long page = sysconf(_SC_PAGESIZE);
	bool ok;
	int dlt;

	r->pc = pc;
	if (!r->pc) {
		pr_err("%s: %s (-r reads a pcap or pcapng capture, e.g. one written by tcpdump -w)",
		       r->name, errbuf);
		replay_close(r);
		return NULL;
	}
	dlt = pcap_datalink(r->pc);
	r->link = link_of(dlt, &ok);
	if (!ok) {
		const char *dn = pcap_datalink_val_to_name(dlt);

		pr_err("%s: link type %s (%d) is not one tunflow replays; capture on Ethernet, "
		       "raw IP, Linux cooked (tcpdump -i any) or loopback instead",
		       r->name, dn ? dn : "unknown", dlt);
		replay_close(r);
		return NULL;
	}
	/* bpf_test_init(): one page less headroom (NET_SKB_PAD + NET_IP_ALIGN) and the
	 * shared info; 512 bytes leave room for both on every architecture */
	r->max_data = (page > 1024 ? (__u32)page : 4096) - 512;
	r->buf = malloc(r->max_data + ETH_HLEN);
	if (!r->buf) {
		pr_err("out of memory");
		replay_close(r);
		return NULL;
	}
	return r;
}

static struct replay *alloc(const char *name)
{
	struct replay *r = calloc(1, sizeof(*r));

	if (r && !(r->name = strdup(name))) {
		free(r);
		r = NULL;
	}
	if (!r)
		pr_err("out of memory");
	return r;
}

struct replay *replay_open(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct replay *r = alloc(strcmp(path, "-") ? path : "standard input");

	if (!r)
		return NULL;
	return start(
	    r, pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf),
	    errbuf);
}

struct replay *replay_fopen(FILE *fp, const char *name)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct replay *r = alloc(name);
	pcap_t *pc;

	if (!r) {
		fclose(fp);
		return NULL;
	}
	pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc)
		fclose(fp);
	return start(r, pc, errbuf);
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	if (r->pc)
		pcap_close(r->pc);
	free(r->name);
	free(r->buf);
	free(r);
}

__u64 replay_packets(const struct replay *r) { return r->packets; }

/* A packet's capture time in nanoseconds (PCAP_TSTAMP_PRECISION_NANO: tv_usec holds
 * nanoseconds). Times before 1970 are taken as 1970, after 2262 as 2262: flow times are
 * unsigned, and an interval past the latest still fits. */
static __u64 capture_ns(const struct timeval *tv)
{
	const __u64 max_s = (1ull << 63) / 1000000000ull;

	if (tv->tv_sec < 0)
		return 0;
	if ((__u64)tv->tv_sec >= max_s)
		return max_s * 1000000000ull;
	return (__u64)tv->tv_sec * 1000000000ull + (__u64)tv->tv_usec % 1000000000ull;
}

/* A frame shorter than a test run takes (ETH_HLEN): the counter the program would have
 * chosen, from the header it would have read first. */
static int runt_counter(bool l2, const unsigned char *f, __u32 len, __u32 wire)
{
	__u32 need;

	if (l2)
		need = ETH_HLEN;
	else if (!len)
		need = 1;
	else if (f[0] >> 4 == 4)
		need = 20;
	else if (f[0] >> 4 == 6)
		need = 40;
	else
		return CNT_NON_IP;
	return wire < need ? CNT_TRUNCATED : CNT_SNAPPED;
}

/* The EtherType of a BSD loopback header's address family (in the capturing host's
 * byte order for NULL, network order for LOOP); 0 (not IP) for any other family. */
static __u16 af_ethertype(const unsigned char *h, bool loop)
{
	__u32 af;

	memcpy(&af, h, 4);
	if (loop)
		af = ntohl(af);
	else if (af > 0xffff)
		af = __builtin_bswap32(af); /* written on a host of the other byte order */
	if (af == 2)
		return ETH_P_IP;
	/* AF_INET6: Linux 10, NetBSD and OpenBSD 24, FreeBSD 28, macOS 30 */
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return ETH_P_IPV6;
	return 0;
}

int replay_next(struct replay *r, struct replay_frame *fr)
{
	struct pcap_pkthdr *h;
	const unsigned char *data;
	__u32 len, wire, hdr = 0;
	__u16 proto = 0;
	int rc = pcap_next_ex(r->pc, &h, &data);

	if (rc != 1)
		return rc == PCAP_ERROR_BREAK ? -1 : -2;
	r->packets++;
	len = h->caplen;
	wire = h->len > h->caplen ? h->len : h->caplen;
	if (wire > 1u << 30) /* a recorded length no packet has: no wrap below */
		wire = 1u << 30;
	*fr = (struct replay_frame){
	    .data = data, .l2 = true, .dir = DIR_INGRESS, .ts = capture_ns(&h->ts)};

	switch (r->link) {
	case LINK_ETH:
		break;
	case LINK_IP:
		fr->l2 = false;
		break;
	case LINK_SLL: /* packet type, ARPHRD, address length, address[8], protocol */
		hdr = 16;
		if (len >= hdr) {
			proto = (__u16)data[14] << 8 | data[15];
			if (((__u16)data[0] << 8 | data[1]) == PACKET_OUTGOING)
				fr->dir = DIR_EGRESS;
		}
		break;
	case LINK_SLL2: /* protocol, reserved, ifindex, ARPHRD, packet type, ... */
		hdr = 20;
		if (len >= hdr) {
			proto = (__u16)data[0] << 8 | data[1];
			if (data[10] == PACKET_OUTGOING)
				fr->dir = DIR_EGRESS;
		}
		break;
	case LINK_NULL:
	case LINK_LOOP:
		hdr = 4;
		if (len >= hdr)
			proto = af_ethertype(data, r->link == LINK_LOOP);
		break;
	}
	if (hdr) {
		/* the pseudo header becomes an Ethernet-shaped one: no addresses, its
		 * protocol as the EtherType */
		if (len < hdr) {
			fr->counter = wire < hdr ? CNT_TRUNCATED : CNT_SNAPPED;
			return 0;
		}
		len -= hdr;
		wire -= hdr;
		memset(r->buf, 0, 12);
		r->buf[12] = proto >> 8;
		r->buf[13] = proto & 0xff;
		memcpy(r->buf + ETH_HLEN, data + hdr, len < r->max_data ? len : r->max_data);
		fr->data = r->buf;
		len += ETH_HLEN;
		wire += ETH_HLEN;
	}
	if (len < ETH_HLEN) { /* BPF_PROG_TEST_RUN takes no less */
		fr->counter = runt_counter(fr->l2, fr->data, len, wire);
		return 0;
	}
	fr->len = len;
	fr->wire = wire;
	return 1;
}

/* A frame through the program for its link layer and direction; what it says counted. */
static void run_frame(struct replay *r, struct datapath *dp, struct replay_frame *fr)
{
	const unsigned char *f = fr->data;
	__u32 len = fr->len, wire = fr->wire, pass;
	bool l2 = fr->l2;

	/* the headers first: the program reads nothing else, and a test run costs less the
	 * fewer bytes it copies; the whole packet (up to max_data) only when they are longer,
	 * or when names are on (the capture reads a flow's first payloads, which a cut
	 * packet does not hold) */
	pass = len < HEAD_BYTES ? len : HEAD_BYTES;
	if (dp->names)
		pass = len < r->max_data ? len : r->max_data;
	for (;;) {
		int v, err = dp_test_run(dp, l2, fr->dir, f, pass,
		                         wire > WIRE_MAX ? WIRE_MAX : wire, fr->ts, &v);

		if (!err) {
			/* a header past the bytes passed: snapped, unless they were cut here;
			 * truncated (past the wire length) when it was more than a test run
			 * can describe: too big to judge */
			if (v == TUNFLOW_REPLAY_SNAPPED && pass < len && pass < r->max_data) {
				pass = len < r->max_data ? len : r->max_data;
				continue;
			}
			if (v == TUNFLOW_REPLAY_SNAPPED)
				dp->user[pass < len ? CNT_TOO_BIG : CNT_SNAPPED]++;
			else if (v == CNT_TRUNCATED && wire > WIRE_MAX)
				dp->user[CNT_TOO_BIG]++;
			else if (v >= 0 && v < CNT_MAX)
				dp->user[v]++;
			return;
		}
		if (err == -EINVAL && pass < ETH_HLEN + 40) {
			/* BPF_PROG_TEST_RUN reads the first 14 bytes as Ethernet and refuses a
			 * frame whose EtherType says IPv4 or IPv6 without that IP header after */
			__u16 et = (__u16)f[12] << 8 | f[13];
			__u32 need = et == ETH_P_IP ? 20 : et == ETH_P_IPV6 ? 40 : 0;

			if (!l2) {
				/* raw IP whose bytes 12-13 read so: again behind an
				 * Ethernet-shaped header, through the L2 entry */
				et = f[0] >> 4 == 4 ? ETH_P_IP : f[0] >> 4 == 6 ? ETH_P_IPV6 : 0;
				memset(r->buf, 0, 12);
				r->buf[12] = et >> 8;
				r->buf[13] = et & 0xff;
				memcpy(r->buf + ETH_HLEN, f, pass);
				f = r->buf;
				pass += ETH_HLEN;
				len += ETH_HLEN;
				wire += ETH_HLEN;
				l2 = true;
				continue;
			}
			if (need && pass < ETH_HLEN + need) { /* what the program would count */
				dp->user[wire < ETH_HLEN + need ? CNT_TRUNCATED : CNT_SNAPPED]++;
				return;
			}
		}
		if (err != -EINVAL || pass <= 1600) {
			dp->user[CNT_TOO_BIG]++;
			return;
		}
		/* this kernel takes less than a page less headroom: less, from now on */
		r->max_data = pass = pass - 256;
	}
}

/* SIGINT or SIGTERM pending (they are blocked: loop_block_signals()). */
static bool interrupted(void)
{
	static const struct timespec zero;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	return sigtimedwait(&set, NULL, &zero) > 0;
}

static int harvest_at(struct pipeline *p, __u64 t, bool final, struct sink **failed)
{
	clock_set(t, t);
	return pipeline_harvest(p, final, NULL, 0, failed);
}

enum loop_stop replay_run(struct replay *r, struct pipeline *p, double interval,
                          struct sink **failed, int *err)
{
	const __u64 iv = (__u64)(interval * 1e9);
	enum loop_stop why = STOP_SIGNAL;
	struct replay_frame fr;
	__u64 now = 0, next = 0;
	bool stop = false;
	int rc, e;

	iface_remember(1, REPLAY_IFACE); /* a test run's skb is on loopback, ifindex 1 */
	*err = 0;
	while ((rc = replay_next(r, &fr)) >= 0) {
		__u64 ts = fr.ts;
		unsigned empty = 0;

		if (r->packets == 1) {
			now = ts;
			next = ts + iv;
			clock_set(ts, ts);
			pipeline_start(p);
		}
		if (ts > now)
			now = ts; /* time runs forward only, whatever order the file has */
		while (now >= next) {
			if ((e = harvest_at(p, next, false, failed))) {
				*err = e;
				return STOP_OUTPUT;
			}
			next += iv;
			/* a long gap: once more at its last boundary, not at every one */
			if (++empty == MAX_EMPTY_HARVESTS && now >= next)
				next += (now - next) / iv * iv;
			if (!(empty & 255) && (stop = interrupted()))
				break;
		}
		if (stop)
			break;
		if (rc)
			run_frame(r, p->dp, &fr);
		else
			p->dp->user[fr.counter]++;
		if (!(r->packets & 1023)) {
			/* between harvests, as live: 1024 packets' events fit in the ring */
			naming_poll(p->names);
			if ((stop = interrupted()))
				break;
		}
	}
	if (stop) {
		pr_warn("%s: interrupted after %llu packets", r->name,
		        (unsigned long long)r->packets);
	} else if (rc == -2) {
		pr_err("%s: %s: the capture ends early (cut short while copied, or still being "
		       "written); the %llu packets before are reported",
		       r->name, pcap_geterr(r->pc), (unsigned long long)r->packets);
		why = STOP_ERROR;
	}
	if (!r->packets) {
		clock_set(0, 0);
		pipeline_start(p);
	}
	if ((e = harvest_at(p, now, true, failed))) {
		*err = e;
		return STOP_OUTPUT;
	}
	return why;
}

// SPDX-License-Identifier: GPL-2.0-only
/* The naming core (core/naming) on any sequence of capture events: TCP segments in any
 * order, with any sequence numbers and overlaps, UDP datagrams, DNS over UDP and TCP,
 * for a few connections at once and in tables kept tiny so that eviction runs. Never
 * crashes or leaks; every name it gives a flow is a clean host name with its source.
 * Input: records of [flags, seq (4 bytes), length (2 bytes), that many bytes]; flags:
 * bit 0 direction, bits 1-2 which of 4 connections, bit 3 UDP, bits 4-5 the far port
 * (443, 53, 80, 8443). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/dest.h"
#include "core/flowtab.h"
#include "core/naming.h"
#include "util/log.h"

static const __u16 ports[4] = {443, 53, 80, 8443};

static void key_of(__u8 flags, struct flow_key *k)
{
	int dir = flags & 1, conn = flags >> 1 & 3;
	__u8 near[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, (__u8)(10 + conn)};
	__u8 far[16] = {[10] = 0xff, [11] = 0xff, 203, 0, 113, (__u8)(conn & 1)};
	__u16 nport = 40000 + conn, fport = ports[flags >> 4 & 3];

	memset(k, 0, sizeof(*k));
	k->ifindex = 1;
	k->dir = dir;
	k->ip_version = 4;
	k->proto = flags & 8 ? 17 : 6;
	memcpy(k->src, dir == DIR_INGRESS ? near : far, 16);
	memcpy(k->dst, dir == DIR_INGRESS ? far : near, 16);
	k->sport = dir == DIR_INGRESS ? nport : fport;
	k->dport = dir == DIR_INGRESS ? fport : nport;
}

static void check_name(const struct flow *f)
{
	const char *s = f->dest.name;

	if (!s) {
		if (f->dest.name_src != NAME_NONE)
			abort();
		return;
	}
	if (f->dest.name_src <= NAME_NONE || f->dest.name_src >= NAME_SRC_MAX || !*s ||
	    strlen(s) > 253)
		abort();
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '-' || *s == '_'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct naming_cfg cfg = {.dns_cache = 4, .dns_min_ttl = 1, .max_conns = 3, .max_names = 6};
	static struct name_event ev;
	struct naming *n;
	size_t o = 0;

	log_set_level(LOG_LVL_ERR - 1);
	n = naming_new(&cfg, NULL, NULL);
	if (!n)
		abort();
	while (o + 7 <= size) {
		__u8 flags = data[o];
		__u32 seq = (__u32)data[o + 1] << 24 | (__u32)data[o + 2] << 16 |
		            (__u32)data[o + 3] << 8 | data[o + 4];
		size_t len = (size_t)data[o + 5] << 8 | data[o + 6];
		struct flow f;

		o += 7;
		if (len > size - o)
			len = size - o;
		if (len > NAME_CAP_BYTES)
			len = NAME_CAP_BYTES;
		key_of(flags, &ev.key);
		ev.seq = seq;
		ev.pay_len = flags & 0x40 ? len + 100 : len; /* bit 6: the packet was longer */
		ev.len = len;
		memcpy(ev.data, data + o, len);
		o += len;
		naming_event(n, &ev, NAME_EVENT_HDR + len);

		memset(&f, 0, sizeof(f));
		f.key = ev.key;
		naming_flow(n, &f, true);
		check_name(&f);
		key_of(flags ^ 1, &f.key); /* the other direction */
		naming_flow(n, &f, false);
		check_name(&f);
	}
	naming_free(n);
	return 0;
}

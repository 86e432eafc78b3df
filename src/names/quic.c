// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "names/quic.h"

struct quic_state *quic_new(void) { return NULL; }

void quic_free(struct quic_state *q) { (void)q; }

int quic_feed(struct quic_state *q, const __u8 *dgram, size_t len, char name[NAME_BUF], bool *ech)
{
	(void)q;
	(void)dgram;
	(void)len;
	name[0] = 0;
	*ech = false;
	return -ENOSYS;
}

int quic_feed_server(struct quic_state *q, const __u8 *dgram, size_t len)
{
	(void)q;
	(void)dgram;
	(void)len;
	return -ENOSYS;
}

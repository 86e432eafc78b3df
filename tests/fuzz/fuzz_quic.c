// SPDX-License-Identifier: GPL-2.0-only
/* quic_feed()/quic_feed_server() on a flow's datagrams. The first byte chooses how the
 * rest is read:
 *  - even: raw datagrams, each [dir][len16][bytes] (dir's bit 0 set: from the client);
 *  - odd: Initials to seal first, each [flags][pn][len16][plaintext frames], flags
 *    choosing the version (bit 0), the DCID among four (bits 1-2), the packet number
 *    length (bits 3-4), the keys of the first DCID whatever the header says (bit 5) and
 *    coalescing with the previous one (bit 6): so the fuzzer reaches the frames, the
 *    CRYPTO reassembly and the ClientHello behind the AEAD.
 * Checked: only the documented results; a name only with 1, then a valid one, and the
 * same name for every later datagram. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "names/quic.h"
#include "names_check.h"

#define MAX_DGRAMS 16

static const __u8 cids[4][8] = {
    {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08},
    {1, 2, 3, 4, 5, 6, 7, 8},
    {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11},
    {0, 0, 0, 0, 0, 0, 0, 0},
};

struct run {
	struct quic_state *q;
	char found[NAME_BUF];
	bool done;
};

static void feed(struct run *x, const __u8 *d, size_t n, bool server)
{
	char name[NAME_BUF];
	bool ech;
	int r;

	if (server) {
		r = quic_feed_server(x->q, d, n);
		if (r != 0 && r != -EPROTO)
			abort();
		return;
	}
	r = quic_feed(x->q, d, n, name, &ech);
	if (r != 1 && r != 0 && r != -EPROTO && r != -EBADMSG && r != -ENOENT)
		abort();
	if (r == 1) {
		check_name(name);
		if (x->done && strcmp(name, x->found))
			abort(); /* found once: the same name for good */
		memcpy(x->found, name, NAME_BUF);
		x->done = true;
	} else if (x->done || name[0]) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static __u8 dgram[8192];
	struct run x = {quic_new(), "", false};
	size_t i = 1, dlen = 0, hdr;
	int k = 0;

	if (size < 1 || size > 16384 || !x.q) {
		quic_free(x.q);
		return 0;
	}
	hdr = data[0] & 1 ? 4 : 3;
	while (i + hdr <= size && k++ < MAX_DGRAMS) {
		__u8 f = data[i], pn = hdr == 4 ? data[i + 1] : 0;
		size_t n = data[i + hdr - 2] << 8 | data[i + hdr - 1];
		const __u8 *p = data + i + hdr;

		i += hdr;
		if (n > size - i)
			n = size - i;
		i += n;
		if (!(data[0] & 1)) {
			feed(&x, p, n, !(f & 1));
			continue;
		}
		{
			const __u8 *cid = cids[f >> 1 & 3];
			struct quic_seal s = {.version = f & 1 ? QUIC_V2 : QUIC_V1,
			                      .dcid = cid,
			                      .dcid_len = 8,
			                      .key_cid = f & 0x20 ? cids[0] : NULL,
			                      .key_cid_len = 8,
			                      .pn = pn,
			                      .pn_len = (f >> 3 & 3) + 1};
			int r;

			if (!(f & 0x40) && dlen) {
				feed(&x, dgram, dlen, false);
				dlen = 0;
			}
			r = quic_seal_initial(&s, p, n, dgram + dlen, sizeof(dgram) - dlen);
			if (r > 0)
				dlen += r;
		}
	}
	if (dlen)
		feed(&x, dgram, dlen, false);
	quic_free(x.q);
	return 0;
}

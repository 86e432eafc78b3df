/* SPDX-License-Identifier: GPL-2.0-only */
/* The server_name in a QUIC client's Initial packets, v1 (RFC 9000/9001) and v2
 * (RFC 9369). */
#ifndef TUNFLOW_NAMES_QUIC_H
#define TUNFLOW_NAMES_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "names/name.h"

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

struct quic_state;

/* A client's first UDP datagrams of a flow, one by one, in the order seen: derive keys
 * from the client's first Destination Connection ID (and again after a Retry or when the
 * client changes it), remove header protection, decrypt (GnuTLS, no hand-written
 * crypto), reassemble CRYPTO frames (out of order, across Initials and coalesced
 * packets), and read the ClientHello with tls's parser. */
struct quic_state *quic_new(void);
void quic_free(struct quic_state *q);
/* 1: name found (*ech as in tls_sni), 0: need more datagrams, -EPROTO: not a QUIC
 * v1/v2 long-header Initial, -EBADMSG: malformed or does not decrypt, -ENOENT: the
 * ClientHello has no server_name. Once a name is found, every later call gives it
 * again. */
int quic_feed(struct quic_state *q, const __u8 *dgram, size_t len, char name[NAME_BUF], bool *ech);
/* Server datagrams too (a Retry changes the keys); returns 0 or -EPROTO. */
int quic_feed_server(struct quic_state *q, const __u8 *dgram, size_t len);

/* A client Initial (RFC 9000 17.2.2) carrying payload (frames, not padded here),
 * protected with the keys of key_cid (NULL: of dcid): for tests, fuzzing and
 * benchmarks. Its length in out, or -EINVAL. Length is written as a two-byte varint. */
struct quic_seal {
	__u32 version;
	const __u8 *dcid, *scid, *token, *key_cid;
	size_t dcid_len, scid_len, token_len, key_cid_len;
	__u32 pn;
	size_t pn_len;
};
int quic_seal_initial(const struct quic_seal *s, const __u8 *payload, size_t plen, __u8 *out,
                      size_t cap);

#endif

/* SPDX-License-Identifier: GPL-2.0-only */
/* The server_name in a QUIC client's Initial packets, v1 (RFC 9000/9001) and v2
 * (RFC 9369). */
#ifndef TUNFLOW_NAMES_QUIC_H
#define TUNFLOW_NAMES_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "names/name.h"

struct quic_state;

/* A client's first UDP datagrams of a flow, one by one, in the order seen: derive keys
 * from the client's first Destination Connection ID (and again after a Retry or when the
 * client changes it), remove header protection, decrypt (GnuTLS, no hand-written
 * crypto), reassemble CRYPTO frames (out of order, across Initials and coalesced
 * packets), and read the ClientHello with tls's parser. */
struct quic_state *quic_new(void);
void quic_free(struct quic_state *q);
/* 1: name found (*ech as in tls_sni), 0: need more datagrams, -EPROTO: not a QUIC
 * v1/v2 long-header Initial, -EBADMSG: malformed or does not decrypt. */
int quic_feed(struct quic_state *q, const __u8 *dgram, size_t len, char name[NAME_BUF], bool *ech);
/* Server datagrams too (a Retry changes the keys); returns 0 or -EPROTO. */
int quic_feed_server(struct quic_state *q, const __u8 *dgram, size_t len);

#endif

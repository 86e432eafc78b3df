/* SPDX-License-Identifier: GPL-2.0-only */
/* The server_name of a TLS ClientHello (RFC 8446 4.1.2, RFC 6066 3). */
#ifndef TUNFLOW_NAMES_TLS_H
#define TUNFLOW_NAMES_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "names/name.h"

/* buf is the start of one direction of a TCP connection's payload, in sequence order
 * (the caller reassembles its first segments). Recognises a TLS handshake record
 * holding a ClientHello on any port.
 * Returns 1: name found (*ech true when the ClientHello carries encrypted_client_hello,
 * extension 0xfe0d: the name is then the outer, client-facing one), 0: could be a
 * ClientHello but more bytes are needed, -ENOENT: a ClientHello without server_name,
 * -EPROTO: not a TLS ClientHello, -EBADMSG: malformed. */
int tls_sni(const __u8 *buf, size_t len, char name[NAME_BUF], bool *ech);

/* The same on the bytes of handshake messages without record layer (QUIC's CRYPTO
 * stream): a ClientHello message from hs[0]. Same returns. */
int tls_sni_handshake(const __u8 *hs, size_t len, char name[NAME_BUF], bool *ech);

#endif

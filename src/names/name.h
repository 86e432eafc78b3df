/* SPDX-License-Identifier: GPL-2.0-only */
/* Host names taken from packets (DNS, TLS SNI, QUIC, HTTP Host): one rule for all.
 * A name given out is lowercase, only [a-z0-9._-] (IDN names in their xn-- form), no
 * trailing dot, at most 253 bytes, a port stripped ("example.com:8443" ->
 * "example.com"); a name breaking these rules is refused as malformed, never escaped
 * into something else. */
#ifndef TUNFLOW_NAMES_NAME_H
#define TUNFLOW_NAMES_NAME_H

#include <stddef.h>

#define NAME_BUF 256
#define NAME_MAX_LEN 253

/* Check and normalise a host name in place-ish: 0 and out filled, or -EBADMSG. */
int name_clean(const char *in, size_t len, char out[NAME_BUF]);

#endif

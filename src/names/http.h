/* SPDX-License-Identifier: GPL-2.0-only */
/* The Host of an HTTP/1.x request (RFC 9112). */
#ifndef TUNFLOW_NAMES_HTTP_H
#define TUNFLOW_NAMES_HTTP_H

#include <stddef.h>
#include <linux/types.h>
#include "names/name.h"

/* The start of a TCP connection's client payload. A request line (token SP
 * request-target SP HTTP/1.x CRLF, any method), then headers: the Host header's value,
 * port stripped. 1: found, 0: need more, -ENOENT: request without Host, -EPROTO: not an
 * HTTP/1.x request, -EBADMSG: malformed. */
int http_host(const __u8 *buf, size_t len, char name[NAME_BUF]);

#endif

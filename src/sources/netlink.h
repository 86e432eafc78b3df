/* SPDX-License-Identifier: GPL-2.0-only */
/* rtnetlink dumps (links, qdiscs, filters), one way for every caller. */
#ifndef TUNFLOW_NETLINK_H
#define TUNFLOW_NETLINK_H

#include <stddef.h>
#include <libmnl/libmnl.h>

/* Send the request a header of TYPE (NLM_F_REQUEST | NLM_F_DUMP) followed by the len
 * bytes at hdr (struct ifinfomsg, struct tcmsg, ...), on a socket of its own, and run
 * cb on every message of the answer. Returns 0 or -errno (-ENODEV when the interface a
 * filter dump names is gone). */
int nl_dump(unsigned short type, const void *hdr, size_t len, mnl_cb_t cb, void *data);

#endif

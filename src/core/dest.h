/* SPDX-License-Identifier: GPL-2.0-only */
/* What tunflow knows of a flow's far side beyond its address: the name the user reached
 * and where that name came from, and the address's AS and country. One definition,
 * carried by flows (struct flow) and records (struct record) alike. */
#ifndef TUNFLOW_DEST_H
#define TUNFLOW_DEST_H

#include <stdbool.h>
#include <linux/types.h>

/* Where a flow's name came from, weakest first: a later source replaces an earlier one
 * only when it is stronger (TLS/QUIC over HTTP Host over DNS). */
enum name_source {
	NAME_NONE = 0,
	NAME_DNS,  /* a DNS answer for the far address that this user (or anyone) received */
	NAME_HTTP, /* the Host header of the flow's first HTTP/1.x request */
	NAME_TLS,  /* the server_name of the flow's TLS ClientHello */
	NAME_QUIC, /* the server_name of the ClientHello in the flow's QUIC Initials */
	NAME_SRC_MAX,
};

/* "", "dns", "http", "tls", "quic" */
extern const char *const name_source_names[NAME_SRC_MAX];

struct dest_info {
	const char *name;    /* interned and cleaned; NULL: no name */
	__u8 name_src;       /* enum name_source; NAME_NONE when name is NULL */
	bool ech;            /* TLS/QUIC with Encrypted Client Hello: name is the outer,
	                      * client-facing server */
	__u32 asn;           /* the far address's autonomous system; 0: unknown */
	const char *as_name; /* interned; NULL: unknown */
	char country[3];     /* ISO 3166-1 alpha-2, or "" when unknown */
};

#endif

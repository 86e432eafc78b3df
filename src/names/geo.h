/* SPDX-License-Identifier: GPL-2.0-only */
/* The AS and country of an address, from the IPFire location database through Debian's
 * libloc (libloc-dev, libloc-database): a file on disk, read through mmap; no network
 * at any time. AS names are outside strings: cleaned (util/text.h) and interned, valid
 * until geo_close(). Lookups are cached per address (bounded), since a CDN address
 * serves many flows. */
#ifndef TUNFLOW_GEO_H
#define TUNFLOW_GEO_H

#include <stddef.h>
#include <linux/types.h>

/* Where Debian's libloc-database puts the database, and the path libloc's own tools
 * use (a link to it, or a database `location update` fetched). geo_open(NULL) tries
 * GEO_DB_VAR, then GEO_DB_SHARE. */
#define GEO_DB_VAR "/var/lib/location/database.db"
#define GEO_DB_SHARE "/usr/share/libloc-location/location.db"
/* Addresses whose answer is kept; past it the cache starts again empty. */
#define GEO_CACHE_MAX 65536

struct geo;
struct dest_info;

/* path NULL: Debian's default (GEO_DB_VAR, else GEO_DB_SHARE). NULL and a one-line
 * message naming the path and the fix in err when it cannot be opened. */
struct geo *geo_open(const char *path, char *err, size_t errlen);
void geo_close(struct geo *g);
/* addr: 16 bytes, IPv4 as ::ffff:a.b.c.d. 1: found something (any of asn, *as_name,
 * cc may still be empty: 0, NULL, ""), 0: nothing. */
int geo_lookup(struct geo *g, const __u8 addr[16], __u32 *asn, const char **as_name, char cc[3]);
/* The far address's AS and country into d (asn, as_name, country; the name is left
 * alone). */
void geo_fill(struct geo *g, const __u8 addr[16], struct dest_info *d);
/* Lookups asked, and those the database answered (not from the cache). */
__u64 geo_lookups(const struct geo *g);
__u64 geo_db_lookups(const struct geo *g);

#endif

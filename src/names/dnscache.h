/* SPDX-License-Identifier: GPL-2.0-only */
/* Address -> name from the DNS answers users received: bounded, TTL expiry kept at
 * least min_ttl_s, least recently used evicted (counted). owner is who received the
 * answer (the user, or the interface name when there is no user): lookups prefer the
 * owner's newest answer for that address, then anyone's newest. Strings are copied. */
#ifndef TUNFLOW_NAMES_DNSCACHE_H
#define TUNFLOW_NAMES_DNSCACHE_H

#include <stddef.h>
#include <linux/types.h>

struct dnscache;

struct dnscache *dnscache_new(size_t max_entries, __u32 min_ttl_s);
void dnscache_free(struct dnscache *c);
void dnscache_add(struct dnscache *c, const char *owner, const __u8 addr[16], const char *name,
                  __u32 ttl_s, __u64 now_ns);
/* NULL: nothing unexpired. The string is valid until the next add. */
const char *dnscache_lookup(struct dnscache *c, const char *owner, const __u8 addr[16],
                            __u64 now_ns);
__u64 dnscache_evictions(const struct dnscache *c);
size_t dnscache_size(const struct dnscache *c);

#endif

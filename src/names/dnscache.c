// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "names/dnscache.h"

struct dnscache *dnscache_new(size_t max_entries, __u32 min_ttl_s)
{
	(void)max_entries;
	(void)min_ttl_s;
	return NULL;
}

void dnscache_free(struct dnscache *c) { (void)c; }

void dnscache_add(struct dnscache *c, const char *owner, const __u8 addr[16], const char *name,
                  __u32 ttl_s, __u64 now_ns)
{
	(void)c;
	(void)owner;
	(void)addr;
	(void)name;
	(void)ttl_s;
	(void)now_ns;
}

const char *dnscache_lookup(struct dnscache *c, const char *owner, const __u8 addr[16],
                            __u64 now_ns)
{
	(void)c;
	(void)owner;
	(void)addr;
	(void)now_ns;
	return NULL;
}

__u64 dnscache_evictions(const struct dnscache *c)
{
	(void)c;
	return 0;
}

size_t dnscache_size(const struct dnscache *c)
{
	(void)c;
	return 0;
}

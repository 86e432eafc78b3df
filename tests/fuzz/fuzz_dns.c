// SPDX-License-Identifier: GPL-2.0-only
/* dns_parse() on any bytes, its answers into a small DNS cache (dnscache). Checked:
 * only a response gives answers, every answer carries the question's name (a valid
 * name), the cache stays bounded and gives back at once what was just added for its
 * owner. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "names/dns.h"
#include "names/dnscache.h"
#include "names_check.h"

#define CACHE_MAX 4

struct ctx {
	struct dnscache *c;
	const char *qname;
	int n;
};

static void on_answer(const char *qname, const __u8 addr[16], __u32 ttl, void *arg)
{
	struct ctx *x = arg;
	static const char *owners[] = {"alice", "bob", "wg0"};
	const char *owner = owners[x->n % 3];
	const char *got;

	if (strcmp(qname, x->qname))
		abort(); /* always the question's name */
	check_name(qname);
	dnscache_add(x->c, owner, addr, qname, ttl, 1000000000ull * x->n);
	got = dnscache_lookup(x->c, owner, addr, 1000000000ull * x->n);
	if (!got || strcmp(got, qname))
		abort(); /* the owner's newest answer, kept at least the minimum */
	if (dnscache_size(x->c) > CACHE_MAX)
		abort();
	x->n++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char qname[NAME_BUF];
	struct ctx x = {dnscache_new(CACHE_MAX, 1), qname, 0};
	int r;

	if (size > 4096)
		return 0;
	memset(qname, 0x55, sizeof(qname));
	r = dns_parse(data, size, qname, on_answer, &x);
	if (r != 1 && r != 0 && r != -EBADMSG)
		abort();
	if (r != 1 && x.n)
		abort(); /* answers only from a response */
	if (r >= 0 && qname[0])
		check_name(qname);
	if (r < 0 && qname[0] && !memchr(qname, 0, NAME_BUF))
		abort();
	if (dnscache_evictions(x.c) > (__u64)x.n)
		abort();
	dnscache_free(x.c);
	return 0;
}

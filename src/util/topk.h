/* SPDX-License-Identifier: GPL-2.0-only */
/* The k best items of a stream, best first, in an array the caller owns: one binary
 * search and one memmove per item that makes the cut; most items fail the comparison
 * against the last kept one, so this is linear in practice. */
#ifndef TUNFLOW_TOPK_H
#define TUNFLOW_TOPK_H

#include <stdbool.h>
#include <stddef.h>

/* qsort-style: negative when a ranks before b. Ties must be broken (by key) for the
 * kept set to be the same whatever the order of the stream. */
typedef int (*topk_cmp)(const void *a, const void *b);

struct topk {
	void *items; /* room for k items of size bytes */
	size_t size, k;
	size_t n; /* items kept so far, at most k */
	topk_cmp cmp;
};

static inline void topk_init(struct topk *t, void *items, size_t size, size_t k, topk_cmp cmp)
{
	*t = (struct topk){.items = items, .size = size, .k = k, .cmp = cmp};
}

/* Keep a copy of item if it is among the k best so far. Returns whether it was kept. */
bool topk_offer(struct topk *t, const void *item);

#endif

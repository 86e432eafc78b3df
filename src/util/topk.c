// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include "util/topk.h"

bool topk_offer(struct topk *t, const void *item)
{
	char *v = t->items;
	size_t lo = 0, hi = t->n;

	if (!t->k)
		return false;
	if (t->n == t->k) {
		if (t->cmp(item, v + (t->k - 1) * t->size) >= 0)
			return false;
		t->n--; /* the last one makes room */
		hi = t->n;
	}
	while (lo < hi) { /* the first kept item that item ranks before */
		size_t mid = lo + (hi - lo) / 2;

		if (t->cmp(item, v + mid * t->size) < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	memmove(v + (lo + 1) * t->size, v + lo * t->size, (t->n - lo) * t->size);
	memcpy(v + lo * t->size, item, t->size);
	t->n++;
	return true;
}

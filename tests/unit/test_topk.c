// SPDX-License-Identifier: GPL-2.0-only
/* The shared top-K: the same k items, in the same order, as sorting everything. */
#define CHECK_SUITE "topk"
#include <stdlib.h>
#include "check.h"
#include "util/topk.h"

static int desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x > y ? -1 : x < y;
}

int main(void)
{
	int v[1000], sorted[1000], kept[10];
	struct topk t;
	size_t bad = 0;

	srand(1);
	for (int round = 0; round < 200; round++) {
		int n = round % 50 + (round % 3 ? 0 : 950); /* small streams and long ones */
		size_t k = round % 11;                      /* 0..10 */

		for (int i = 0; i < n; i++)
			/* duplicates, or ascending (the worst case) */
			v[i] = round % 4 ? rand() % 100 : i;
		memcpy(sorted, v, sizeof(v));
		qsort(sorted, n, sizeof(int), desc);
		topk_init(&t, kept, sizeof(int), k, desc);
		for (int i = 0; i < n; i++)
			topk_offer(&t, &v[i]);
		if (t.n != (k < (size_t)n ? k : (size_t)n) ||
		    memcmp(kept, sorted, t.n * sizeof(int)))
			bad++;
	}
	CHECK_INT("200 streams: the k best in order", bad, 0);
	topk_init(&t, kept, sizeof(int), 2, desc);
	CHECK("kept while not full", topk_offer(&t, &(int){5}) && topk_offer(&t, &(int){7}));
	CHECK("a tie with the last kept is not kept", !topk_offer(&t, &(int){5}));
	CHECK("a better one is", topk_offer(&t, &(int){6}));
	CHECK_INT("best first", kept[0] * 10 + kept[1], 76);
	return check_done();
}

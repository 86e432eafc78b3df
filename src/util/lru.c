// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include "util/lru.h"

void lru_init(struct lru *l)
{
	l->head.prev = l->head.next = &l->head;
	l->n = 0;
	l->epoch = 1;
	l->sorted = 0;
}

static void link_before(struct lru_node *at, struct lru_node *x)
{
	x->prev = at->prev;
	x->next = at;
	at->prev->next = x;
	at->prev = x;
}

void lru_remove(struct lru *l, struct lru_node *x)
{
	if (!lru_linked(x))
		return;
	x->prev->next = x->next;
	x->next->prev = x->prev;
	x->prev = x->next = NULL;
	l->n--;
}

void lru_touch(struct lru *l, struct lru_node *x)
{
	lru_remove(l, x);
	link_before(&l->head, x);
	x->epoch = l->epoch;
	l->n++;
}

/* An entry of the run being sorted: its last activity and its place in touch order. */
struct aged {
	__u64 last;
	struct lru_node *x;
	size_t pos;
};

static int by_age(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sort the run of the head's epoch in place. Each epoch's run is sorted at most once: no
 * entry joins it later (a touch moves an entry to the current epoch at the tail). The
 * keys are copied out first, so the sort itself stays in one array. */
static void sort_head_run(struct lru *l, lru_last last)
{
	struct lru_node *x, *after;
	struct aged *v;
	__u64 e = l->head.next->epoch;
	size_t n = 0;

	l->sorted = e + 1;
	for (x = l->head.next; x != &l->head && x->epoch == e; x = x->next)
		n++;
	if (n < 2)
		return;
	after = x;
	v = malloc(n * sizeof(*v));
	if (!v)
		return; /* out of memory: evict in touch order */
	n = 0;
	for (x = l->head.next; x != after; x = x->next, n++)
		v[n] = (struct aged){last(x), x, n};
	qsort(v, n, sizeof(*v), by_age);
	l->head.next = v[0].x;
	v[0].x->prev = &l->head;
	for (size_t i = 0; i + 1 < n; i++) {
		v[i].x->next = v[i + 1].x;
		v[i + 1].x->prev = v[i].x;
	}
	v[n - 1].x->next = after;
	after->prev = v[n - 1].x;
	free(v);
}

struct lru_node *lru_oldest(struct lru *l, lru_last last)
{
	struct lru_node *h = l->head.next;

	if (h == &l->head)
		return NULL;
	/* the current epoch's run is still growing: its touch order stands */
	if (h->epoch < l->epoch && l->sorted != h->epoch + 1) {
		sort_head_run(l, last);
		h = l->head.next;
	}
	return h;
}

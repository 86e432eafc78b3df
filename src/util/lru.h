/* SPDX-License-Identifier: GPL-2.0-only */
/* Least recently used first: an intrusive list in touch order, for tables that evict
 * their longest-idle entry when full, in O(1) amortised.
 *
 * Touches come in epochs (one harvest each). Every entry touched in an epoch follows
 * every entry last touched in an earlier one, so across epochs touch order is idle
 * order. Within an epoch the order is the one the harvest found them in: the first time
 * the oldest epoch's run reaches the head (and that epoch is over), it is sorted once by
 * the caller's idle time (ties keep touch order), so eviction takes the longest idle
 * first. */
#ifndef TUNFLOW_LRU_H
#define TUNFLOW_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct lru_node {
	struct lru_node *prev, *next; /* NULL: not in the list */
	__u64 epoch;                  /* of the last touch */
};

struct lru {
	struct lru_node head; /* head.next: least recently touched */
	size_t n;
	__u64 epoch;  /* of touches now */
	__u64 sorted; /* the epoch whose run was sorted last, plus one */
};

/* When the entry was last active (its last packet): smaller is idle longer. */
typedef __u64 (*lru_last)(const struct lru_node *x);

#define lru_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

void lru_init(struct lru *l);
/* Touches from now on belong to a new epoch. */
static inline void lru_next_epoch(struct lru *l) { l->epoch++; }
static inline bool lru_linked(const struct lru_node *x) { return x->next != NULL; }
/* Put x (linked or not) at the tail, in the current epoch. */
void lru_touch(struct lru *l, struct lru_node *x);
/* Take x out of the list, if it is in. */
void lru_remove(struct lru *l, struct lru_node *x);
/* The entry idle longest, still linked; NULL when empty. */
struct lru_node *lru_oldest(struct lru *l, lru_last last);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* Address -> name. One entry per (owner, address): an owner's newer answer for the
 * address replaces its older one. Each address keeps its entries newest first, so a
 * lookup takes the owner's entry if it has not expired, else the first unexpired one
 * in that list. Entries are in one least-recently-used list (an add or a lookup that
 * returns it is a use); when full, an add evicts the least recently used entry (counted
 * unless it had expired anyway). Nothing is freed by a lookup. */
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "names/dnscache.h"
#include "util/lru.h"

struct byaddr;

struct entry {
	char *owner, *name;
	struct byaddr *a;
	struct entry *prev, *next; /* in a's list, newest first */
	__u64 expires_ns, added_ns;
	struct lru_node lru;
};

struct byaddr {
	__u8 addr[16];
	struct entry *newest;
};

struct dnscache {
	GHashTable *entries; /* struct entry (owner, addr) -> itself */
	GHashTable *addrs;   /* addr -> struct byaddr */
	struct lru lru;
	size_t max;
	__u32 min_ttl_s;
	__u64 evictions;
};

static guint addr_hash(gconstpointer k)
{
	const __u8 *a = k;
	guint h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

static gboolean addr_equal(gconstpointer a, gconstpointer b) { return !memcmp(a, b, 16); }

static guint entry_hash(gconstpointer k)
{
	const struct entry *e = k;

	return addr_hash(e->a->addr) ^ g_str_hash(e->owner);
}

static gboolean entry_equal(gconstpointer x, gconstpointer y)
{
	const struct entry *a = x, *b = y;

	return a->a == b->a && !strcmp(a->owner, b->owner);
}

static __u64 entry_last(const struct lru_node *x)
{
	return lru_entry(x, struct entry, lru)->added_ns;
}

struct dnscache *dnscache_new(size_t max_entries, __u32 min_ttl_s)
{
	struct dnscache *c = g_new0(struct dnscache, 1);

	c->entries = g_hash_table_new(entry_hash, entry_equal);
	c->addrs = g_hash_table_new_full(addr_hash, addr_equal, NULL, g_free);
	lru_init(&c->lru);
	c->max = max_entries ? max_entries : 1;
	c->min_ttl_s = min_ttl_s;
	return c;
}

static void unlink_addr(struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		e->a->newest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

static void entry_free(struct dnscache *c, struct entry *e)
{
	struct byaddr *a = e->a;

	g_hash_table_remove(c->entries, e);
	lru_remove(&c->lru, &e->lru);
	unlink_addr(e);
	if (!a->newest)
		g_hash_table_remove(c->addrs, a->addr); /* frees a */
	g_free(e->owner);
	g_free(e->name);
	g_free(e);
}

void dnscache_free(struct dnscache *c)
{
	struct lru_node *x;

	if (!c)
		return;
	while ((x = c->lru.head.next) != &c->lru.head)
		entry_free(c, lru_entry(x, struct entry, lru));
	g_hash_table_destroy(c->entries);
	g_hash_table_destroy(c->addrs);
	g_free(c);
}

void dnscache_add(struct dnscache *c, const char *owner, const __u8 addr[16], const char *name,
                  __u32 ttl_s, __u64 now_ns)
{
	struct entry key, *e;
	struct byaddr *a;
	__u32 keep = ttl_s > c->min_ttl_s ? ttl_s : c->min_ttl_s;

	if (!owner)
		owner = "";
	a = g_hash_table_lookup(c->addrs, addr);
	if (a) {
		key.a = a;
		key.owner = (char *)owner;
		e = g_hash_table_lookup(c->entries, &key);
		if (e) { /* the owner's newer answer */
			g_free(e->name);
			e->name = g_strdup(name);
			unlink_addr(e);
			goto place;
		}
	}
	while (g_hash_table_size(c->entries) >= c->max) {
		struct entry *old = lru_entry(lru_oldest(&c->lru, entry_last), struct entry, lru);

		if (old->expires_ns > now_ns)
			c->evictions++;
		if (old->a == a && !old->prev && !old->next)
			a = NULL; /* its last entry: a goes with it */
		entry_free(c, old);
	}
	if (!a) {
		a = g_new0(struct byaddr, 1);
		memcpy(a->addr, addr, 16);
		g_hash_table_insert(c->addrs, a->addr, a);
	}
	e = g_new0(struct entry, 1);
	e->owner = g_strdup(owner);
	e->name = g_strdup(name);
	e->a = a;
	g_hash_table_add(c->entries, e);
place:
	e->added_ns = now_ns;
	e->expires_ns = now_ns + (__u64)keep * 1000000000ull;
	e->next = a->newest;
	e->prev = NULL;
	if (a->newest)
		a->newest->prev = e;
	a->newest = e;
	lru_touch(&c->lru, &e->lru);
}

const char *dnscache_lookup(struct dnscache *c, const char *owner, const __u8 addr[16],
                            __u64 now_ns)
{
	struct byaddr *a = g_hash_table_lookup(c->addrs, addr);
	struct entry *e, *any = NULL;

	if (!a)
		return NULL;
	for (e = a->newest; e; e = e->next) {
		if (e->expires_ns <= now_ns)
			continue;
		if (owner && !strcmp(e->owner, owner))
			break;
		if (!any)
			any = e;
	}
	if (!e)
		e = any;
	if (!e)
		return NULL;
	lru_touch(&c->lru, &e->lru);
	return e->name;
}

__u64 dnscache_evictions(const struct dnscache *c) { return c->evictions; }

size_t dnscache_size(const struct dnscache *c) { return g_hash_table_size(c->entries); }

// SPDX-License-Identifier: GPL-2.0-only
/* Session-hook lines from memory, fed in two pieces (split where the first byte says)
 * as the incremental reader sees them, then lookups and expiry: no crash, no leak, every
 * user name clean, nothing bound from another network namespace. */
#include <string.h>
#include "util/log.h"
#include "util/text.h"
#include "sources/users_priv.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct users *u;
	struct flow_key k = {0};
	size_t cut;
	GHashTableIter it;
	gpointer key, v;

	if (!size)
		return 0;
	log_set_level(LOG_LVL_ERR - 1);
	u = users_new(&(struct users_cfg){0});
	u->netns = 1; /* lines with netns=1 are ours */
	cut = 1 + data[0] % size;
	sessions_feed(u, (const char *)data + 1, cut - 1, 0);
	sessions_feed(u, (const char *)data + cut, size - cut, cut - 1);
	if (u->ev.partial->len >= INPUT_LINE_MAX)
		__builtin_trap();
	g_hash_table_iter_init(&it, u->sessions);
	while (g_hash_table_iter_next(&it, &key, &v)) {
		const struct session *s = v;
		const char *w;

		if (!text_is_clean(s->user) || s->ifindex < 0)
			__builtin_trap();
		if (s->naddr)
			memcpy(k.src, s->addr[0], 16);
		k.ifindex = s->ifindex;
		w = users_lookup(u, &k, "vpns0");
		if (w && !text_is_clean(w))
			__builtin_trap();
		if (users_has_session(u, s->ifindex) && !users_of_iface(u, s->ifindex, "x"))
			__builtin_trap(); /* a bound interface names a user */
	}
	g_hash_table_iter_init(&it, u->sessions);
	while (g_hash_table_iter_next(&it, &key, &v))
		users_iface_gone(u, ((const struct session *)v)->ifindex);
	sessions_expire(u, ~0ull >> 1);
	users_free(u);
	return 0;
}

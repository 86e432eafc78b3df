// SPDX-License-Identifier: GPL-2.0-only
/* The user map parser (--user-map) from memory, then lookups against what it accepted:
 * no crash, no leak, every user name clean. */
#include <string.h>
#include "util/log.h"
#include "util/text.h"
#include "sources/users_priv.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct users *u;
	GArray *ifr, *pfx;
	struct flow_key k = {0};

	log_set_level(LOG_LVL_ERR - 1);
	u = users_new(&(struct users_cfg){0});
	if (!usermap_parse(u, "fuzz", (const char *)data, size, &ifr, &pfx)) {
		u->iface_rules = ifr;
		u->prefix_rules = pfx;
		for (guint i = 0; i < ifr->len; i++)
			if (!text_is_clean(g_array_index(ifr, struct iface_rule, i).user))
				__builtin_trap();
		for (guint i = 0; i < pfx->len; i++) {
			const struct prefix_rule *r = &g_array_index(pfx, struct prefix_rule, i);

			if (r->plen < 0 || r->plen > 128 || !text_is_clean(r->user))
				__builtin_trap();
			/* an address inside the rule, and one from the input's first bytes */
			memcpy(k.src, r->addr, 16);
			memcpy(k.dst, data, size < 16 ? size : 16);
			k.dir = i & 1;
			if (!users_lookup(u, &k, "tun0") && r->plen >= 96)
				__builtin_trap(); /* a covered address has a user */
		}
	}
	users_free(u);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* OpenVPN status files (versions 1 to 3) from memory: no crash (defect 1 was a
 * use-after-free on a row shorter than its HEADER), no leak, every user name clean. */
#include "util/log.h"
#include "util/text.h"
#include "sources/users_priv.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct users *u;
	GHashTable *t;
	GHashTableIter it;
	gpointer k, v;
	int bad;

	log_set_level(LOG_LVL_ERR - 1);
	u = users_new(&(struct users_cfg){0});
	t = openvpn_parse(u, (const char *)data, size, &bad);
	if (t) {
		g_hash_table_iter_init(&it, t);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (!text_is_clean(v))
				__builtin_trap();
		g_hash_table_destroy(t);
	}
	users_free(u);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* Interface patterns (command line, config file): the check never crashes or hangs on
 * any bytes; a pattern it accepts names something an interface name can be (at most
 * IFNAMSIZ - 1 bytes when literal); "=NAME" matches exactly NAME; a plain name (no glob
 * character) matches itself. Input: the pattern, then after the first NUL a name. */
#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sources/ifwatch.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	size_t plen = nul ? (size_t)(nul - (const char *)data) : size;
	char *pat = strndup((const char *)data, plen);
	char *name = nul ? strndup(nul + 1, size - plen - 1) : strdup("");

	log_set_level(LOG_LVL_ERR - 1); /* refusals are said on stderr: not here */
	if (!pat || !name)
		abort();
	if (ifwatch_check_pattern(pat, "interface") == 0) {
		if (pat[0] == '=') {
			if (strlen(pat + 1) == 0 || strlen(pat + 1) >= IF_NAMESIZE)
				abort(); /* accepted a literal no interface can have */
			if (ifwatch_match(pat, name) != !strcmp(pat + 1, name))
				abort();
		} else if (!strpbrk(pat, "*?[\\")) {
			if (strlen(pat) >= IF_NAMESIZE || !ifwatch_match(pat, pat))
				abort(); /* a plain name must be short and match itself */
		}
		(void)ifwatch_match(pat, name); /* any glob against any name: no crash */
	}
	free(pat);
	free(name);
	return 0;
}

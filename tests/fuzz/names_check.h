/* SPDX-License-Identifier: GPL-2.0-only */
/* What every name the parsers give out must be (names/name.h): checked by the fuzz
 * targets of src/names/ against a copy of the rules, not by name_clean() alone. */
#ifndef TUNFLOW_FUZZ_NAMES_CHECK_H
#define TUNFLOW_FUZZ_NAMES_CHECK_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "names/name.h"

static inline void check_name(const char *n)
{
	char again[NAME_BUF];
	size_t l = strlen(n);

	if (l == 0 || l > 253 || n[0] == '.' || n[l - 1] == '.' || strstr(n, ".."))
		abort();
	for (size_t i = 0; i < l; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '.' ||
		      n[i] == '-' || n[i] == '_'))
			abort();
	if (name_clean(n, l, again) || strcmp(again, n))
		abort(); /* a clean name is its own cleaning */
}

/* A payload parser's answer (http_host(), tls_sni()): 1 with a clean name, or 0, -ENOENT,
 * -EPROTO or -EBADMSG with none. */
static inline void check_answer(int r, const char *name)
{
	if (r != 1 && r != 0 && r != -ENOENT && r != -EPROTO && r != -EBADMSG)
		abort();
	if (r == 1)
		check_name(name);
	else if (name[0])
		abort();
}

#endif

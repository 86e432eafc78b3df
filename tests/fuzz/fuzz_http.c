// SPDX-License-Identifier: GPL-2.0-only
/* http_host() on any bytes. Checked: only the documented results; a name only with 1,
 * and then a valid one; a prefix of an input that needs more needs more too; once a
 * name is found, more bytes do not change it. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "names/http.h"
#include "names_check.h"

static int run(const __u8 *d, size_t n, char name[NAME_BUF])
{
	int r = http_host(d, n, name);

	check_answer(r, name);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[NAME_BUF], other[NAME_BUF];
	int r;

	if (size > 16384)
		return 0;
	r = run(data, size, name);
	if (r == 0 && run(data, size / 2, other) != 0)
		abort();
	/* found in the first half: the whole gives the same */
	if (run(data, size / 2, other) == 1 && (r != 1 || strcmp(name, other)))
		abort();
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-only
/* tls_sni() and tls_sni_handshake() on any bytes. Checked: only the documented results;
 * a name only with 1, and then a valid one; ECH marked only once a ClientHello was read;
 * a prefix of an input that needs more bytes needs more bytes too; the input cut to any
 * record boundary before a name is found never gives a different name. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "names/tls.h"
#include "names_check.h"

static int run(int (*fn)(const __u8 *, size_t, char *, bool *), const __u8 *d, size_t n,
               char name[NAME_BUF], bool *ech)
{
	int r = fn(d, n, name, ech);

	check_answer(r, name);
	if ((r == 0 || r == -EPROTO) && *ech)
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[NAME_BUF], other[NAME_BUF];
	bool ech, ech2;
	int r, r2;

	if (size > 8192)
		return 0;
	r = run(tls_sni, data, size, name, &ech);
	if (r == 0 && run(tls_sni, data, size / 2, other, &ech2) != 0)
		abort(); /* needs more: so does any prefix */
	if (r == 1 && size > 0) {
		r2 = run(tls_sni, data, size - 1, other, &ech2);
		if (r2 == 1 && (strcmp(name, other) || ech != ech2))
			abort(); /* found before the last byte: the same */
	}
	r = run(tls_sni_handshake, data, size, name, &ech);
	if (r == 0 && run(tls_sni_handshake, data, size / 2, other, &ech2) != 0)
		abort();
	return 0;
}

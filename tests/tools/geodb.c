// SPDX-License-Identifier: GPL-2.0-only
/* geodb OUT: a location database for tests from the spec on stdin (tests/lib/geodb.h). */
#include "geodb.h"

int main(int argc, char **argv)
{
	static char spec[1 << 16];
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: geodb OUT < SPEC\n");
		return 2;
	}
	n = fread(spec, 1, sizeof(spec) - 1, stdin);
	spec[n] = 0;
	return geodb_write(argv[1], spec) ? 1 : 0;
}

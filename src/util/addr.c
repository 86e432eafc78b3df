// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "util/addr.h"

bool addr_parse(const char *s, __u8 out[16], int *plen)
{
	char buf[64];
	char *slash;
	long len = -1;
	struct in_addr a4;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return false;
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		/* decimal digits only: no sign, no spaces, no "0x" */
		if (!*slash || strlen(slash) > 3 || strspn(slash, "0123456789") != strlen(slash))
			return false;
		len = strtol(slash, NULL, 10);
	}
	memset(out, 0, 16);
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		if (len > 32)
			return false;
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		*plen = len < 0 ? 128 : 96 + (int)len;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out) == 1 && len <= 128) {
		*plen = len < 0 ? 128 : (int)len;
		return true;
	}
	return false;
}

int addr_host(const char *s, __u8 out[16])
{
	int plen;

	if (strchr(s, '/') || !addr_parse(s, out, &plen))
		return -1;
	return strchr(s, ':') ? 6 : 4;
}

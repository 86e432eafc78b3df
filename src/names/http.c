// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "names/http.h"

int http_host(const __u8 *buf, size_t len, char name[NAME_BUF])
{
	(void)buf;
	(void)len;
	name[0] = 0;
	return -ENOSYS;
}

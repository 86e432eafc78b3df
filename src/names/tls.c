// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "names/tls.h"

int tls_sni(const __u8 *buf, size_t len, char name[NAME_BUF], bool *ech)
{
	(void)buf;
	(void)len;
	name[0] = 0;
	*ech = false;
	return -ENOSYS;
}

int tls_sni_handshake(const __u8 *hs, size_t len, char name[NAME_BUF], bool *ech)
{
	(void)hs;
	(void)len;
	name[0] = 0;
	*ech = false;
	return -ENOSYS;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include "sinks/sink.h"

int sink_out_status(FILE *out)
{
	errno = 0;
	if (fflush(out) == 0 && !ferror(out))
		return 0;
	return errno ? -errno : -EIO;
}

// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include "util/log.h"
#include "util/rlimit.h"

unsigned long rlimit_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 : rl.rlim_cur;
}

unsigned long rlimit_nofile_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			pr_debug("descriptor limit stays %llu: %s", (unsigned long long)old,
			         strerror(errno));
			return old;
		}
		pr_debug("descriptor limit raised from %llu to %llu", (unsigned long long)old,
		         (unsigned long long)rl.rlim_max);
	}
	return rlimit_nofile();
}

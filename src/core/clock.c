// SPDX-License-Identifier: GPL-2.0-only
#include <stdbool.h>
#include "core/clock.h"

static bool replay;
static __u64 replay_now;
static __s64 replay_offset;

__u64 now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

__u64 clock_now(void) { return replay ? replay_now : now_ns(CLOCK_MONOTONIC); }

__s64 clock_real_offset(void)
{
	if (replay)
		return replay_offset;
	/* read the slower clock between two reads of the other, and take the middle */
	__u64 m1 = now_ns(CLOCK_MONOTONIC), r = now_ns(CLOCK_REALTIME),
	      m2 = now_ns(CLOCK_MONOTONIC);

	return (__s64)(r - (m1 + (m2 - m1) / 2));
}

__u64 clock_to_real(__u64 t) { return t + clock_real_offset(); }

void clock_set(__u64 t, __u64 real)
{
	replay = true;
	replay_now = t;
	replay_offset = (__s64)(real - t);
}

/* SPDX-License-Identifier: GPL-2.0-only */
/* Time as tunflow sees it. Flow times are in the kernel's clock, CLOCK_MONOTONIC (what
 * bpf_ktime_get_ns() stamps); user space reads the same clock through clock_now() and
 * turns it into wall-clock time in one place, clock_to_real(). A replay of a capture
 * sets the clock from the capture instead (clock_set()). */
#ifndef TUNFLOW_CLOCK_H
#define TUNFLOW_CLOCK_H

#include <time.h>
#include <linux/types.h>

/* Flow time now: CLOCK_MONOTONIC nanoseconds, or the capture's time once set. */
__u64 clock_now(void);
/* Wall-clock nanoseconds (UTC) of flow time t. */
__u64 clock_to_real(__u64 t);
/* Flow time + this = wall-clock time, as of now. */
__s64 clock_real_offset(void);
/* From now on, flow time is t (replay); wall time follows the capture's. */
void clock_set(__u64 t, __u64 real);
/* A clock read directly, for timing tunflow's own work (not flow time). */
__u64 now_ns(clockid_t clk);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/* tunflow -r's reading of a capture (libpcap, then replay_next(): pseudo headers made
 * Ethernet-shaped, runts counted): any bytes as a capture file never crash, hang or leak;
 * every packet is either a frame for a test run (at least 14 bytes, no more captured
 * than on the wire, every byte a test run would get readable) or one counter; the
 * capture's time is never before 1970 nor past 2262. No BPF is loaded: the frames are
 * only read. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/datapath.h"
#include "sources/replay.h"
#include "util/log.h"

#define MAX_DATA 3584 /* what replay passes a test run at most (a 4 KiB page) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "rb");
	struct replay_frame fr;
	struct replay *r;
	unsigned sum = 0;
	int rc;

	log_set_level(LOG_LVL_ERR - 1); /* refusals are said on stderr: not here */
	if (!size || !fp) {
		if (fp)
			fclose(fp);
		return 0;
	}
	r = replay_fopen(fp, "fuzz");
	if (!r)
		return 0;
	while ((rc = replay_next(r, &fr)) >= 0) {
		if (fr.ts > (1ull << 63))
			abort();
		if (!rc) {
			if (fr.counter < 0 || fr.counter >= CNT_ALL)
				abort();
			continue;
		}
		if (fr.len < 14 || fr.wire < fr.len || fr.dir < 0 || fr.dir > 1)
			abort();
		for (__u32 i = 0; i < fr.len && i < MAX_DATA; i++)
			sum += fr.data[i]; /* ASan: every byte a test run gets is there */
	}
	(void)sum;
	replay_close(r);
	return 0;
}

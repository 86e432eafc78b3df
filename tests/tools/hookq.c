// SPDX-License-Identifier: GPL-2.0-only
/* hookq IFACE: how many BPF programs are attached to IFACE's tcx ingress and egress.
 * Prints "tcx_ingress N tcx_egress M"; exits 1 when the interface is unknown. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	int ifindex = argc == 2 ? (int)if_nametoindex(argv[1]) : 0;
	__u32 ids[64], cnt[2];

	if (!ifindex) {
		fprintf(stderr, "usage: hookq IFACE (an existing interface)\n");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		__u32 n = 64, flags = 0;

		if (bpf_prog_query(ifindex, 46 + i /* BPF_TCX_INGRESS/EGRESS */, 0, &flags, ids, &n))
			n = 0; /* no tcx entry on this hook yet */
		cnt[i] = n;
	}
	printf("tcx_ingress %u tcx_egress %u\n", cnt[0], cnt[1]);
	return 0;
}

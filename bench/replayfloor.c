// SPDX-License-Identifier: GPL-2.0-only
/* replayfloor MODE FILE [BYTES]: the floor under `tunflow -r` (bench/replay.sh).
 *   read   FILE        read every packet of a pcap/pcapng capture with libpcap, nothing else
 *   empty  FILE BYTES  and run each through an empty tc program (TC_ACT_UNSPEC) with one
 *                      BPF_PROG_TEST_RUN, passing its first BYTES bytes (0: the whole
 *                      packet, up to a page less 512, as tunflow does with names on) and
 *                      no context, as tunflow does (its programs read capture time and
 *                      wire length from globals it writes before each run)
 *   ctx    FILE BYTES  the same with a context holding capture time and wire length
 * Prints the packets read to standard output. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* libpcap's classic struct bpf_insn apart from the kernel's */
#define bpf_insn pcap_bpf_insn
#include <pcap/pcap.h>
#undef bpf_insn
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

static int load_empty(void)
{
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_UNSPEC},
	    {.code = BPF_JMP | BPF_EXIT},
	};

	return bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "floor", "GPL", insns, 2, NULL);
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	const __u32 max_data = (__u32)getpagesize() - 512;
	struct pcap_pkthdr *h;
	const unsigned char *data;
	unsigned long long n = 0, sum = 0;
	__u32 bytes = 0;
	bool run, ctx;
	pcap_t *pc;
	int fd = -1, rc;

	if (argc < 3 || (strcmp(argv[1], "read") && argc < 4)) {
		fprintf(stderr, "usage: replayfloor read|empty|ctx FILE [BYTES]\n");
		return 2;
	}
	run = strcmp(argv[1], "read") != 0;
	ctx = strcmp(argv[1], "ctx") == 0;
	if (run) {
		bytes = (__u32)strtoul(argv[3], NULL, 0);
		if (!bytes || bytes > max_data)
			bytes = max_data;
		fd = load_empty();
		if (fd < 0) {
			fprintf(stderr, "replayfloor: cannot load the empty program: %s\n",
			        strerror(errno));
			return 1;
		}
	}
	pc = pcap_open_offline_with_tstamp_precision(argv[2], PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!pc) {
		fprintf(stderr, "replayfloor: %s: %s\n", argv[2], errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		n++;
		if (!run) {
			sum += data[h->caplen - 1];
			continue;
		}
		if (h->caplen < 14)
			continue;
		{
			struct __sk_buff skb = {.tstamp = (__u64)h->ts.tv_sec * 1000000000ull +
			                                  (__u64)h->ts.tv_usec,
			                        .wire_len = h->len};
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data,
			            .data_size_in = h->caplen < bytes ? h->caplen : bytes,
			            .repeat = 1);

			if (ctx) {
				o.ctx_in = &skb;
				o.ctx_size_in = sizeof(skb);
			}
			if (bpf_prog_test_run_opts(fd, &o)) {
				fprintf(stderr, "replayfloor: test run of packet %llu: %s\n", n,
				        strerror(errno));
				return 1;
			}
			sum += o.retval;
		}
	}
	if (rc != PCAP_ERROR_BREAK) {
		fprintf(stderr, "replayfloor: %s: %s\n", argv[2], pcap_geterr(pc));
		return 1;
	}
	printf("%llu packets (%llu)\n", n, sum);
	pcap_close(pc);
	return 0;
}

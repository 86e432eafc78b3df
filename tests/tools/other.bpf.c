// SPDX-License-Identifier: GPL-2.0-only
/* Somebody else's tc program, for the neighbourliness tests: it counts the packets it
 * sees, so a test can tell that it kept running beside tunflow. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other_seen SEC(".maps");

SEC("tc")
int other_prog(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&other_seen, &zero);

	(void)skb;
	if (n)
		__sync_fetch_and_add(n, 1);
	return TC_ACT_OK;
}

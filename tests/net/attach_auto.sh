#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --attach auto: tcx for a few interfaces; tc (clsact) when a start has more than 32 to
# attach, since every tcx attach and detach waits for an RCU grace period under the
# RTNL lock (seconds for hundreds of interfaces). Said in one line; every packet still
# counted; nothing left after exit either way.
SUITE=attach_auto
. "$(dirname "$0")/lib.sh"
need jq

# tuns N: N tun interfaces a0..a(N-1), up, each with 192.0.2.1/32 (no route needed:
# tunpkt writes packets in as if from the tunnel)
tuns() {
	for i in $(seq 0 $(($1 - 1))); do echo "tuntap add mode tun name a$i"; done | ip -n "$NS" -batch -
	for i in $(seq 0 $(($1 - 1))); do echo "link set a$i up"; done | ip -n "$NS" -batch -
}
# hooks IFACE: tcx links and tunflow's clsact filters (both directions) on IFACE
hooks() {
	echo "$(ip netns exec "$NS" "$HOOKQ" "$1") filters $(for d in ingress egress; do tc -n "$NS" filter show dev "$1" $d; done | grep -c 'tunflow')"
}
send3() { ip netns exec "$NS" "$TUNPKT" "$1" "v=4,proto=udp,src=192.0.2.2,dst=198.51.100.9,sport=7,dport=9,count=3" 2>/dev/null; }

for n in 3 33; do
	ns_new "a$n"
	tuns $n
	tf_start "$NS" "$TMP/o$n" "$TMP/e$n" -o json -t 0.2 --attach auto 'a*' || { fail "start $n" "$(cat "$TMP/e$n")"; continue; }
	if [ $n -gt 32 ]; then
		check "$n interfaces: one line says tc and why" \
			"$(grep -c "^tunflow: $n interfaces to attach: using tc (clsact) rather than tcx, which waits for an RCU grace period per hook (--attach tcx to insist)$" "$TMP/e$n")" 1
		check "$n interfaces: clsact filters" "$(hooks a$((n - 1)))" "tcx_ingress 0 tcx_egress 0 filters 2"
	else
		check "$n interfaces: no such line" "$(grep -c "using tc" "$TMP/e$n")" 0
		check "$n interfaces: tcx links" "$(hooks a$((n - 1)))" "tcx_ingress 1 tcx_egress 1 filters 0"
	fi
	send3 a0
	send3 a$((n - 1))
	sleep 0.5
	tf_stop
	check "$n interfaces: exit status" "$TF_RC" 0
	check "$n interfaces: packets on the first and the last" \
		"$(flow_sum "$TMP/o$n" packets '.dport == 9')" 6
	check "$n interfaces: nothing left" "$(hooks a$((n - 1)))" "tcx_ingress 0 tcx_egress 0 filters 0"
done
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# kill -9 in tc mode (issue 10, defect 11): the filters a killed tunflow leaves keep
# running on every packet. 20 rounds of start + kill -9 under traffic, beside somebody
# else's clsact and filters: each start removes what the round before left and says so
# in one line, and the end is exactly the tc state from before. --cleanup refuses the
# filters of a tunflow still running, naming its PID.
SUITE=killed
. "$(dirname "$0")/lib.sh"
need jq
OTHER=$TOP/build/other.bpf.o
ROUNDS=20

tun_ns killed
# somebody else's clsact on tun0: a BPF filter (prio 10) and a u32 filter (prio 20)
tc -n "$NS" qdisc add dev tun0 clsact
tc -n "$NS" filter add dev tun0 ingress prio 10 bpf da obj "$OTHER" sec tc
tc -n "$NS" filter add dev tun0 ingress prio 20 u32 match u32 0 0 flowid 1:1
# tun1: nothing on it before
ip -n "$NS" tuntap add mode tun name tun1
ip -n "$NS" link set tun1 up
tc_state() {
	tc -n "$NS" qdisc show
	for d in tun0 tun1; do
		tc -n "$NS" filter show dev $d ingress
		tc -n "$NS" filter show dev $d egress
	done
}
tunflow_filters() { tc_state | grep -c 'tunflow_'; }
before=$(tc_state)

bg ip netns exec "$NS" "$TUNPKT" tun0 --pps 500 \
	"v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,count=100000"
SENDER=$BG
bad=""
prev=""
for r in $(seq 1 $ROUNDS); do
	tf_start "$NS" "$TMP/o$r" "$TMP/e$r" -o json -t 0.1 --attach tc tun0 tun1 ||
		{ bad="$bad start$r"; continue; }
	n=$(tunflow_filters)
	[ "$n" = 4 ] || bad="$bad round$r:$n-filters"
	said=$(grep -c 'removed' "$TMP/e$r")
	if [ -n "$prev" ]; then
		grep -q "^tunflow: removed 4 tc filters left by a killed tunflow (PID $prev) on tun0 and other interfaces$" "$TMP/e$r" ||
			bad="$bad round$r:said:$(grep removed "$TMP/e$r")"
		[ "$said" = 1 ] || bad="$bad round$r:$said-lines"
	fi
	sleep 0.15
	kill -KILL "$TF"; wait "$TF" 2>/dev/null
	prev=$TF
done
check "$ROUNDS rounds of kill -9: each start removed the last one's 4 filters, in one line" "${bad:-none}" none
check "after the last kill -9: its 4 filters are there" "$(tunflow_filters)" 4

# a tunflow filter no owner file names is a leftover too
rm -f "$TUNFLOW_STATE_DIR"/owner-*
tf_start "$NS" "$TMP/o" "$TMP/e" -o json -t 0.1 --attach tc tun0 tun1 || fail start "$(cat "$TMP/e")"
check "filters of no recorded owner removed" "$(grep -c '^tunflow: removed 4 tc filters left by a killed tunflow (no owner recorded) on tun0 and other interfaces$' "$TMP/e")" 1
# --cleanup leaves a running tunflow's filters alone
msg=$(ip netns exec "$NS" "$TUNFLOW" --cleanup tun0 2>&1); rc=$?
check "--cleanup beside a running tunflow: refused" "$rc" 1
check "--cleanup beside a running tunflow: one line naming its PID" "$msg" \
	"tunflow: tun0: the tunflow filters left there belong to tunflow PID $TF, which is running: not removed (stop it, it removes its own)"
check "--cleanup beside a running tunflow: its filters kept" "$(tunflow_filters)" 4
tf_stop
check "exit status" "$TF_RC" 0
kill "$SENDER" 2>/dev/null
check "the tc state is exactly the one from before" "$(tc_state)" "$before"
check "state directory empty" "$(ls -A "$TUNFLOW_STATE_DIR")" ""
finish

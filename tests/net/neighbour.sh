#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Good neighbour: somebody else's clsact qdisc and filters survive tunflow's start and
# exit in both attach modes, and keep seeing every packet; tunflow leaves no tc state
# after a normal exit; after kill -9, tcx leaves nothing and --cleanup removes exactly
# what tc mode left.
SUITE=neighbour
. "$(dirname "$0")/lib.sh"
need jq
need bpftool
OTHER=$TOP/build/other.bpf.o

# other_setup: a clsact with somebody else's BPF filter (prio 10) and a u32 filter (prio 20)
other_setup() {
	tc -n "$NS" qdisc add dev tun0 clsact
	tc -n "$NS" filter add dev tun0 ingress prio 10 bpf da obj "$OTHER" sec tc
	tc -n "$NS" filter add dev tun0 ingress prio 20 u32 match u32 0 0 flowid 1:1
	OTHER_MAP=$(bpftool -j prog show id "$(tc -n "$NS" -j filter show dev tun0 ingress | jq '[.[] | .options.prog.id // empty][0]')" | jq '.map_ids[0]')
}
other_seen() { bpftool -j map dump id "$OTHER_MAP" | jq '.[0].formatted.value'; }
qdiscs() { tc -n "$NS" qdisc show dev tun0 | grep -c clsact; }
filters() { tc -n "$NS" filter show dev tun0 "$1" | grep -c "$2"; }
send5() { ip netns exec "$NS" "$TUNPKT" tun0 "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,count=5" 2>/dev/null; }

# --- tcx mode beside an existing clsact
tun_ns tcx; other_setup
before=$(other_seen)
tf_start "$NS" "$TMP/o1" "$TMP/e1" -o json --attach tcx tun0 || fail "start tcx" "$(cat "$TMP/e1")"
check "tcx: attached both directions" "$(ip netns exec "$NS" "$HOOKQ" tun0)" "tcx_ingress 1 tcx_egress 1"
send5; sleep 0.2
tf_stop
check "tcx: tunflow counted the 5 packets" "$(flow_sum "$TMP/o1" packets '.dport == 2')" 5
after=$(other_seen)
check "tcx: the other program still saw every packet" "$((after - before))" 5
check "tcx: nothing of tunflow left" "$(ip netns exec "$NS" "$HOOKQ" tun0)" "tcx_ingress 0 tcx_egress 0"
check "tcx: existing clsact kept" "$(qdiscs)" 1
check "tcx: other BPF filter kept" "$(filters ingress other)" 1
check "tcx: u32 filter kept" "$(filters ingress flowid)" 1

# --- tc mode beside an existing clsact
tun_ns tc; other_setup
NS_TC=$NS
before=$(other_seen)
tf_start "$NS" "$TMP/o2" "$TMP/e2" -o json --attach tc tun0 || fail "start tc" "$(cat "$TMP/e2")"
check "tc: filter on ingress" "$(filters ingress tunflow_l3_in)" 1
check "tc: filter on egress" "$(filters egress tunflow_l3_eg)" 1
send5; sleep 0.2
tf_stop
check "tc: tunflow counted the 5 packets" "$(flow_sum "$TMP/o2" packets '.dport == 2')" 5
after=$(other_seen)
check "tc: the other program still saw every packet" "$((after - before))" 5
check "tc: tunflow filters removed" "$(filters ingress tunflow; filters egress tunflow)" "0
0"
check "tc: existing clsact kept" "$(qdiscs)" 1
check "tc: other BPF filter kept" "$(filters ingress other)" 1
check "tc: u32 filter kept" "$(filters ingress flowid)" 1

# --- no qdisc before: none after, in either mode
tun_ns clean
for mode in tc tcx; do
	tf_start "$NS" "$TMP/o3" "$TMP/e3" -o json --attach $mode tun0 || fail "start $mode" "$(cat "$TMP/e3")"
	tf_stop
	check "$mode: no clsact left after a normal exit" "$(qdiscs)" 0
	check "$mode: no tcx program left after a normal exit" "$(ip netns exec "$NS" "$HOOKQ" tun0)" "tcx_ingress 0 tcx_egress 0"
done

# --- kill -9 in tcx mode: the kernel detaches the links with the process
tf_start "$NS" "$TMP/o4" "$TMP/e4" -o json --attach tcx tun0 || fail "start tcx" "$(cat "$TMP/e4")"
kill -KILL "$TF"; wait "$TF" 2>/dev/null
check "tcx kill -9: nothing left" "$(ip netns exec "$NS" "$HOOKQ" tun0) $(qdiscs)" "tcx_ingress 0 tcx_egress 0 0"

# --- kill -9 in tc mode, qdisc made by tunflow: --cleanup removes filters and qdisc
tf_start "$NS" "$TMP/o5" "$TMP/e5" -o json --attach tc tun0 || fail "start tc" "$(cat "$TMP/e5")"
kill -KILL "$TF"; wait "$TF" 2>/dev/null
check "tc kill -9: filters left behind" "$(filters ingress tunflow) $(filters egress tunflow) $(qdiscs)" "1 1 1"
msg=$(ip netns exec "$NS" "$TUNFLOW" --cleanup tun0 2>&1); rc=$?
check "--cleanup exit status" "$rc" 0
check "--cleanup says what it removed" "$msg" "tunflow: removed 2 tunflow filters from tun0"
check "--cleanup removed filters and tunflow's qdisc" "$(qdiscs)" 0

# --- kill -9 in tc mode beside an existing clsact: --cleanup removes only tunflow's
NS=$NS_TC
before=$(other_seen)
tf_start "$NS" "$TMP/o6" "$TMP/e6" -o json --attach tc tun0 || fail "start tc" "$(cat "$TMP/e6")"
kill -KILL "$TF"; wait "$TF" 2>/dev/null
msg=$(ip netns exec "$NS" "$TUNFLOW" --cleanup tun0 2>&1)
check "--cleanup beside others: removed exactly tunflow's two" "$msg" "tunflow: removed 2 tunflow filters from tun0"
check "--cleanup beside others: clsact kept" "$(qdiscs)" 1
check "--cleanup beside others: other BPF and u32 filters kept" "$(filters ingress other) $(filters ingress flowid) $(filters ingress tunflow) $(filters egress tunflow)" "1 1 0 0"
send5; sleep 0.1
after=$(other_seen)
check "--cleanup beside others: other program still counting" "$((after - before))" 5
msg=$(ip netns exec "$NS" "$TUNFLOW" --cleanup tun0 2>&1)
check "--cleanup with nothing to do" "$msg" "tunflow: removed 0 tunflow filters from tun0"
finish

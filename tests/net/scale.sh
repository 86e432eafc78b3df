#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# An ocserv server with 1000 users has 1000 tunnel interfaces: 1000 tun interfaces are
# created at once under a running tunflow, every one is attached, one packet written
# into each is accounted on its own interface, and deleting them all at once reports
# each one gone with its packet. In both attach modes: a tcx attach waits for an RCU
# grace period per hook (35 ms per interface here, see docs/BENCHMARKS.md), tc does not,
# so tcx is given longer.
SUITE=scale
. "$(dirname "$0")/lib.sh"
need jq

N=1000
for i in $(seq 0 $((N - 1))); do
	echo "tuntap add mode tun name s$i"
	echo "link set s$i up"
done >"$TMP/up.batch"
for i in $(seq 0 $((N - 1))); do echo "link del s$i"; done >"$TMP/down.batch"
for mode in tc tcx; do
	[ $mode = tc ] && waits=300 || waits=1200 # tenths of a second
	ns_new "scale-$mode"
	tf_start "$NS" "$TMP/$mode.json" "$TMP/$mode.err" -o json -t 0.5 --attach $mode 's*' ||
		{ fail "$mode: start" "$(cat "$TMP/$mode.err")"; continue; }
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$NS" -batch "$TMP/up.batch"
	for _ in $(seq $waits); do
		[ "$(grep -c '^tunflow: watching s' "$TMP/$mode.err")" -ge $N ] && break
		sleep 0.1
	done
	check "$mode: all $N interfaces attached" "$(grep -c '^tunflow: watching s' "$TMP/$mode.err")" $N
	# one 60-byte UDP packet into each
	ip netns exec "$NS" bash -c "for i in \$(seq 0 $((N - 1))); do
		$TUNPKT s\$i v=4,proto=udp,src=203.0.113.7,dst=198.51.100.1,sport=\$((1000 + i)),dport=53,payload=32 2>/dev/null || echo \"write to s\$i failed\"
	done" >"$TMP/writes"
	check "$mode: all $N writes" "$(cat "$TMP/writes")" ""
	sleep 0.7
	ip -n "$NS" -batch "$TMP/down.batch"
	out=$TMP/$mode.json
	for _ in $(seq $waits); do
		[ "$(jq -s 'map(select(.type == "iface_gone")) | length' "$out")" -ge $N ] && break
		sleep 0.1
	done
	tf_stop
	check "$mode: exit status" "$TF_RC" 0
	check "$mode: one packet of 60 bytes on each of $N interfaces" \
		"$(jq -s "map(select(.type == \"flow\" and .dir == \"ingress\" and .proto == 17)) | group_by(.iface)
			| map([(map(.packets) | add), (map(.bytes) | add), .[0].sport - 1000 == (.[0].iface[1:] | tonumber)])
			| unique | [length, .[0]]" -c "$out")" \
		"[1,[1,60,true]]"
	check "$mode: flows on $N distinct interfaces" \
		"$(jq -s 'map(select(.type == "flow" and .proto == 17) | .iface) | unique | length' "$out")" $N
	check "$mode: $N interfaces reported gone, each with its packet" \
		"$(jq -s -c 'map(select(.type == "iface_gone")) | [length, (map(.packets_in) | unique)]' "$out")" \
		"[$N,[1]]"
	check "$mode: none watched at the end, no attach errors, no loss" "$(final_health "$out")" "[0,0,0,0]"
	check "$mode: nothing left in the state directory" "$(ls -A "$TUNFLOW_STATE_DIR" 2>/dev/null)" ""
	ip netns del "$NS"
done
finish

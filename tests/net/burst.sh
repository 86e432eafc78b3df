#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A mass reconnect (issue 10, defect 10): 300 tun interfaces appear at once, as after a
# VPN server restart, while tunflow harvests every 200 ms. In both attach modes the
# harvests keep their cadence through the burst (no gap between two reports over twice
# the interval plus 100 ms; a tcx attach takes about 35 ms, so the burst lasts seconds),
# and every packet on every interface is counted. The reports' times are taken as the
# lines arrive; steady traffic on tun0 makes every harvest write at least one line.
SUITE=burst
. "$(dirname "$0")/lib.sh"
need jq
need perl

N=300
INTERVAL=0.2
MAX_GAP_MS=500 # 2 x interval + 100 ms
for mode in ${MODES:-tc tcx}; do
	tun_ns "b-$mode"
	B=$NS
	ip netns exec "$B" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	for i in $(seq 0 $((N - 1))); do
		echo "tuntap add mode tun name b$i"
		echo "link set b$i up"
	done >"$TMP/up.batch"
	# each line of the report, prefixed by the time it arrived (ms)
	mkfifo "$TMP/$mode.fifo"
	bg bash -c 'exec perl -MTime::HiRes=time -ne '\''BEGIN { $| = 1 } printf "%d %s", time * 1000, $_'\'' <"$1" >"$2"' \
		stamp "$TMP/$mode.fifo" "$TMP/$mode.stamped"
	tf_start "$B" "$TMP/$mode.fifo" "$TMP/$mode.err" -o json -t $INTERVAL --attach "$mode" \
		tun0 'b*' || { fail "$mode: start" "$(cat "$TMP/$mode.err")"; continue; }
	# 20 s of steady traffic on tun0: 2000 echo requests at 100/s
	bg ip netns exec "$B" "$TUNPKT" tun0 --pps 100 \
		"v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=2000"
	STEADY=$BG
	sleep 1
	ip -n "$B" -batch "$TMP/up.batch"
	for _ in $(seq 400); do
		[ "$(grep -c '^tunflow: watching b' "$TMP/$mode.err")" -ge $N ] && break
		sleep 0.05
	done
	check "$mode: all $N interfaces attached" "$(grep -c '^tunflow: watching b' "$TMP/$mode.err")" $N
	# one 60-byte UDP packet into each
	ip netns exec "$B" bash -c "for i in \$(seq 0 $((N - 1))); do
		$TUNPKT b\$i v=4,proto=udp,src=203.0.113.7,dst=198.51.100.1,sport=\$((1000 + i)),dport=53,payload=32 2>/dev/null || echo \"write to b\$i failed\"
	done" >"$TMP/writes"
	check "$mode: all $N writes" "$(cat "$TMP/writes")" ""
	wait "$STEADY"
	sleep 0.5
	tf_stop
	check "$mode: exit status" "$TF_RC" 0
	out=$TMP/$mode.json
	cut -d' ' -f2- "$TMP/$mode.stamped" >"$out"
	# each harvest while the steady traffic flows writes one tun0 ingress line: the time
	# between two of them is the time between two reports
	steady='"iface":"tun0","ifindex":[0-9]*,"dir":"ingress"'
	gap=$(grep "$steady" "$TMP/$mode.stamped" | awk 'NR > 1 && $1 - last > max { max = $1 - last }
		{ last = $1 } END { print max + 0 }')
	if [ "$gap" -le $MAX_GAP_MS ]; then
		ok "$mode: harvest cadence held through the burst (longest gap ${gap} ms)"
	else
		fail "$mode: harvest cadence" "a gap of ${gap} ms between two reports (at most $MAX_GAP_MS)"
	fi
	# the burst and the writes fell within the steady traffic
	check "$mode: the $N interfaces' packets were reported while tun0 still had traffic" \
		"$(awk -v re="$steady" '$0 ~ re { last = $1 } /"proto":17/ && !first { first = $1 }
			END { print (first && first < last) ? "yes" : "no" }' "$TMP/$mode.stamped")" yes
	check "$mode: every steady packet on tun0" \
		"$(flow_sum "$out" packets '.iface == "tun0" and .dir == "ingress" and .proto == 1')" 2000
	check "$mode: one packet of 60 bytes on each of $N interfaces" \
		"$(jq -s "map(select(.type == \"flow\" and .dir == \"ingress\" and .proto == 17)) | group_by(.iface)
			| map([(map(.packets) | add), (map(.bytes) | add), .[0].sport - 1000 == (.[0].iface[1:] | tonumber)])
			| [length, (unique | .[0])]" -c "$out")" \
		"[$N,[1,60,true]]"
	check "$mode: $N + 1 watched at the end, no attach errors, no loss" "$(final_health "$out")" "[$((N + 1)),0,0,0]"
	ip netns del "$B"
done
finish

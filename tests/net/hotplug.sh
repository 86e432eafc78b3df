#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Interfaces that come and go: tunflow started with no interface argument follows tun
# interfaces created, renamed and deleted in a loop while traffic flows on a long-lived
# one. Every packet on every interface is accounted, each interface's last flows come
# with end "interface gone" and its totals, excluded ones stay unwatched, and nothing
# (file descriptors, attachments) is left behind.
SUITE=hotplug
. "$(dirname "$0")/lib.sh"
need jq

ROUNDS=12
# make_tun NS NAME I: a tun with 198.51.100.I, its peer 203.0.113.I routed through it
make_tun() {
	ip -n "$1" tuntap add mode tun name "$2" &&
	ip -n "$1" addr add "198.51.100.$3/32" peer "203.0.113.$3/32" dev "$2" &&
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" &&
	ip -n "$1" link set "$2" up
}
# ping_in NS NAME I COUNT: COUNT echo requests of 84 bytes arriving on NAME
ping_in() {
	ip netns exec "$1" "$TUNPKT" "$2" \
		"v=4,proto=icmp,src=203.0.113.$3,dst=198.51.100.$3,sport=8,dport=0,payload=56,count=$4" \
		2>/dev/null
}

for mode in tc tcx; do
	tun_ns "hp-$mode"
	HP=$NS
	tf_start "$HP" "$TMP/$mode.json" "$TMP/$mode.err" -o json -t 0.1 --attach "$mode" \
		-x 'skip*' || { fail "$mode: start" "tunflow did not start"; continue; }
	fds_before=$(ls "/proc/$TF/fd" | wc -l)
	# steady traffic on tun0 through the whole loop: 400 echo requests at 200/s
	bg ip netns exec "$HP" "$TUNPKT" tun0 --pps 200 \
		"v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=400"
	STEADY=$BG
	make_tun "$HP" skip0 250
	ping_in "$HP" skip0 250 3
	for i in $(seq 1 $ROUNDS); do
		make_tun "$HP" "hp$i" "$i"
		if [ "$mode" = tcx ]; then
			# a tcx attach waits for an RCU grace period (about 17 ms per direction
			# here): wait for it, as a VPN server's interface is configured first
			for _ in $(seq 100); do
				grep -q "watching hp$i " "$TMP/$mode.err" && break
				sleep 0.02
			done
		fi
		if [ "$i" -eq 5 ]; then
			# renamed before its packets: a harvest between packets and rename would
			# rightly report them under the old name
			ip -n "$HP" link set hp5 name renamed5
			for _ in $(seq 100); do
				grep -q "hp5 is now renamed5" "$TMP/$mode.err" && break
				sleep 0.02
			done
			ping_in "$HP" renamed5 5 5
			ping_in "$HP" renamed5 5 1
		else
			# tc: no waiting; the packets go right after the interface came up
			ping_in "$HP" "hp$i" "$i" "$i"
		fi
		if [ "$i" -gt 2 ]; then
			old=hp$((i - 2)); [ "$old" = hp5 ] && old=renamed5
			ip -n "$HP" link del "$old"
		fi
	done
	wait "$STEADY"
	for i in $((ROUNDS - 1)) $ROUNDS; do ip -n "$HP" link del "hp$i"; done
	sleep 0.3
	fds_after=$(ls "/proc/$TF/fd" | wc -l)
	tf_stop
	out=$TMP/$mode.json
	check "$mode: exit status" "$TF_RC" 0
	check "$mode: steady tun0 ingress, every packet" \
		"$(flow_sum "$out" packets '.iface == "tun0" and .dir == "ingress"')" 400
	check "$mode: steady tun0 egress (echo replies)" \
		"$(flow_sum "$out" packets '.iface == "tun0" and .dir == "egress"')" 400
	bad=""
	for i in $(seq 1 $ROUNDS); do
		name=hp$i; want=$i
		[ "$i" -eq 5 ] && { name=renamed5; want=6; }
		got=$(flow_sum "$out" packets ".ifindex != 0 and .iface == \"$name\" and .dir == \"ingress\" and .src == \"203.0.113.$i\"")
		gotb=$(flow_sum "$out" bytes ".iface == \"$name\" and .dir == \"ingress\" and .src == \"203.0.113.$i\"")
		rep=$(flow_sum "$out" packets ".iface == \"$name\" and .dir == \"egress\" and .dst == \"203.0.113.$i\"")
		gone=$(jq -c -s "map(select(.type == \"iface_gone\" and .iface == \"$name\")) | map([.packets_in, .bytes_in, .packets_out, .flows])" "$out")
		ends=$(jq -s "map(select(.type == \"flow\" and .iface == \"$name\" and .end == \"interface gone\")) | length" "$out")
		[ "$got/$gotb/$rep" = "$want/$((want * 84))/$want" ] || bad="$bad $name:$got/$gotb/$rep"
		[ "$gone" = "[[$want,$((want * 84)),$want,2]]" ] || bad="$bad $name-gone:$gone"
		[ "$ends" = 2 ] || bad="$bad $name-ends:$ends"
	done
	check "$mode: $ROUNDS hot-plugged interfaces, every packet, reply, total and end" "${bad:-none}" none
	check "$mode: rename followed" "$(grep -c 'hp5 is now renamed5$' "$TMP/$mode.err")" 1
	check "$mode: excluded interface unwatched" \
		"$(jq -s 'map(select(.iface == "skip0")) | length' "$out") $(grep -c 'watching skip0' "$TMP/$mode.err")" "0 0"
	check "$mode: no file descriptor leaked over $ROUNDS interfaces" "$fds_after" "$fds_before"
	check "$mode: no loss counted" "$(final_counters "$out")" \
		'{"non_ip":0,"truncated":0,"bad_ihl":0,"bad_len":0,"ext_limit":0,"map_full":0,"no_map":0,"harvest_errors":0}'
	check "$mode: tun0 alone watched at the end, no attach errors" "$(final_health "$out")" "[1,0,0,0]"
	check "$mode: nothing left on tun0 after exit" \
		"$(ip netns exec "$HP" "$HOOKQ" tun0) clsact $(tc -n "$HP" qdisc show dev tun0 | grep -c clsact)" \
		"tcx_ingress 0 tcx_egress 0 clsact 0"
	check "$mode: no marker or owner file left" "$(ls -A "$TUNFLOW_STATE_DIR" 2>/dev/null)" ""
done
finish

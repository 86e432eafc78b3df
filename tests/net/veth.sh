#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# L2 entry over a veth pair between two namespaces: exact per-flow counts both ways for
# IPv4 and IPv6 TCP, UDP and ICMP, with tunflow on one end.
SUITE=veth
. "$(dirname "$0")/lib.sh"
need jq
need ping

ns_new a; A=$NS
ns_new b; B=$NS
ip -n "$A" link add va type veth peer name vb netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev va
ip -n "$B" addr add 198.51.100.2/24 dev vb
ip -n "$A" addr add 2001:db8:5::1/64 dev va nodad
ip -n "$B" addr add 2001:db8:5::2/64 dev vb nodad
ip -n "$A" link set va up
ip -n "$B" link set vb up
# Static neighbours: no ARP or neighbour discovery in the middle of the counts.
MACB=$(ip -n "$B" -j link show vb | jq -r '.[0].address')
MACA=$(ip -n "$A" -j link show va | jq -r '.[0].address')
ip -n "$A" neigh add 198.51.100.2 lladdr "$MACB" dev va nud permanent
ip -n "$A" neigh add 2001:db8:5::2 lladdr "$MACB" dev va nud permanent
ip -n "$B" neigh add 198.51.100.1 lladdr "$MACA" dev vb nud permanent
ip -n "$B" neigh add 2001:db8:5::1 lladdr "$MACA" dev vb nud permanent
# .99 / ::99 reach B, which does not own them and does not forward: dropped silently, so
# no ICMP error makes a connected UDP socket refuse the next send.
ip -n "$A" neigh add 198.51.100.99 lladdr "$MACB" dev va nud permanent
ip -n "$A" neigh add 2001:db8:5::99 lladdr "$MACB" dev va nud permanent

OUT=$TMP/out.json
tf_start "$A" "$OUT" "$TMP/err" -o json -t 0.2 va || { fail start "$(cat "$TMP/err")"; finish; }
check "L2 link recognised" "$(grep -c 'watching va (veth, L2,' "$TMP/err")" 1

ip netns exec "$A" bash -c 'exec 3>/dev/udp/198.51.100.99/7000; for i in 1 2 3 4 5 6; do printf "%100s" x >&3; done'
ip netns exec "$A" bash -c 'exec 3>/dev/udp/2001:db8:5::99/7001; for i in 1 2 3 4; do printf "%10s" x >&3; done'
ip netns exec "$A" ping -q -c 3 -i 0.2 -W 1 198.51.100.2 >/dev/null; check "IPv4 ping answered through the hook" $? 0
ip netns exec "$A" ping -q -6 -c 2 -i 0.2 -W 1 2001:db8:5::2 >/dev/null; check "IPv6 ping answered through the hook" $? 0
ip netns exec "$A" bash -c 'exec 3<>/dev/tcp/198.51.100.2/81' 2>/dev/null
ip netns exec "$A" bash -c 'exec 3<>/dev/tcp/2001:db8:5::2/82' 2>/dev/null
sleep 0.3
tf_stop
check "exit status after SIGINT" "$TF_RC" 0

I='.iface == "va" and .dir == "ingress"'
E='.iface == "va" and .dir == "egress"'
flow_is "$OUT" "egress IPv4 UDP > :7000" "$E and .ip_version == 4 and .proto == 17 and .dport == 7000" 6 $((6 * 128))
flow_is "$OUT" "egress IPv6 UDP > :7001" "$E and .ip_version == 6 and .proto == 17 and .dport == 7001" 4 $((4 * 58))
flow_is "$OUT" "egress IPv4 echo request" "$E and .proto == 1 and .icmp_type == 8" 3 $((3 * 84))
flow_is "$OUT" "ingress IPv4 echo reply" "$I and .proto == 1 and .icmp_type == 0 and .src == \"198.51.100.2\"" 3 $((3 * 84))
flow_is "$OUT" "egress IPv6 echo request" "$E and .proto == 58 and .icmp_type == 128" 2 $((2 * 104))
flow_is "$OUT" "ingress IPv6 echo reply" "$I and .proto == 58 and .icmp_type == 129" 2 $((2 * 104))
# Linux SYNs carry 20 bytes of options (MSS, SACK, timestamps, window scale)
flow_is "$OUT" "egress IPv4 TCP SYN > :81" "$E and .ip_version == 4 and .proto == 6 and .dport == 81 and .tcp_flags == 2" 1 60
flow_is "$OUT" "ingress IPv4 TCP RST from :81" "$I and .ip_version == 4 and .proto == 6 and .sport == 81 and .tcp_flags == 20" 1 40
flow_is "$OUT" "egress IPv6 TCP SYN > :82" "$E and .ip_version == 6 and .proto == 6 and .dport == 82 and .tcp_flags == 2" 1 80
flow_is "$OUT" "ingress IPv6 TCP RST from :82" "$I and .ip_version == 6 and .proto == 6 and .sport == 82 and .tcp_flags == 20" 1 60
check "no parse failure or loss counted" "$(final_counters "$OUT" | jq -c 'del(.non_ip)')" \
	'{"truncated":0,"bad_ihl":0,"bad_len":0,"ext_limit":0,"map_full":0,"no_map":0,"harvest_errors":0}'
check "nothing left attached after exit" "$(ip netns exec "$A" "$HOOKQ" va)" "tcx_ingress 0 tcx_egress 0"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Exactness under load: tens of thousands of packets over thousands of flows while
# tunflow harvests every 100 ms. The sum reported equals the number sent, to the packet.
SUITE=load
. "$(dirname "$0")/lib.sh"
need jq

tun_ns load
OUT=$TMP/out.json
tf_start "$NS" "$OUT" "$TMP/err" -o json -t 0.1 -d ingress tun0 || { fail start "$(cat "$TMP/err")"; finish; }
# 20000 IPv4 UDP packets over 2000 flows and 10000 IPv6 TCP packets over 1000 flows,
# paced so that the stream spans many harvests. Destinations are not local and the
# namespace does not forward: the kernel drops them after tc ingress, silently.
ip netns exec "$NS" "$TUNPKT" tun0 --pps 15000 \
	"v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=10000,dport=9000,payload=64,count=20000,flows=2000" \
	"v=6,proto=tcp,flags=0x18,src=2001:db8::2,dst=2001:db8::99,sport=20000,dport=443,payload=100,count=10000,flows=1000" \
	2>"$TMP/tunpkt.err" || fail tunpkt "$(cat "$TMP/tunpkt.err")"
tf_stop

V4='.proto == 17 and .dport == 9000'
V6='.proto == 6 and .dport == 443'
check "IPv4 packets reported = sent" "$(flow_sum "$OUT" packets "$V4")" 20000
check "IPv4 bytes reported = sent" "$(flow_sum "$OUT" bytes "$V4")" $((20000 * 92))
check "IPv4 distinct flows" "$(jq -s "map(select(.type == \"flow\" and $V4) | .sport) | unique | length" "$OUT")" 2000
check "IPv6 packets reported = sent" "$(flow_sum "$OUT" packets "$V6")" 10000
check "IPv6 bytes reported = sent" "$(flow_sum "$OUT" bytes "$V6")" $((10000 * 160))
check "IPv6 distinct flows" "$(jq -s "map(select(.type == \"flow\" and $V6) | .sport) | unique | length" "$OUT")" 1000
lines=$(jq -s "map(select(.type == \"flow\" and ($V4 or $V6))) | length" "$OUT")
if [ "$lines" -gt 6000 ]; then
	ok "flows were split across many harvests ($lines flow lines for 3000 flows)"
else
	fail "flows split across harvests" "only $lines flow lines for 3000 flows"
fi
check "no loss counted" "$(final_counters "$OUT")" \
	'{"non_ip":0,"truncated":0,"bad_ihl":0,"bad_len":0,"ext_limit":0,"map_full":0,"no_map":0,"harvest_errors":0}'
finish

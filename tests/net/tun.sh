#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# L3 entry on a real tun: packets written into the tun fd arrive on ingress, packets
# from sockets (and the kernel's answers) leave on egress. Exact packets and bytes per
# flow, IPv4 and IPv6, TCP, UDP, ICMP, plus GSO and paged (non-linear) packets.
SUITE=tun
. "$(dirname "$0")/lib.sh"
need jq
need ping

tun_ns tun
OUT=$TMP/out.json
tf_start "$NS" "$OUT" "$TMP/err" -o json -t 0.2 tun0 || { fail start "$(cat "$TMP/err")"; finish; }

T="ip netns exec $NS $TUNPKT tun0"
# Ingress: crafted packets from "remote" 192.0.2.2 / 2001:db8::2. The kernel answers the
# echo requests and the SYNs to a closed port on egress.
$T "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=5000,dport=9000,payload=100,count=7" \
   "v=4,proto=tcp,flags=2,src=192.0.2.2,dst=192.0.2.1,sport=40000,dport=81,count=3" \
   "v=4,proto=icmp,sport=8,dport=0,src=192.0.2.2,dst=192.0.2.1,payload=56,count=4" \
   "v=6,proto=udp,src=2001:db8::2,dst=2001:db8::99,sport=5001,dport=9001,payload=200,count=5" \
   "v=6,proto=tcp,flags=2,src=2001:db8::2,dst=2001:db8::1,sport=40001,dport=82,count=2" \
   "v=6,proto=icmp6,sport=128,dport=0,src=2001:db8::2,dst=2001:db8::1,payload=56,count=3" \
   2>>"$TMP/tunpkt.err" || fail "tunpkt ingress" "$(cat "$TMP/tunpkt.err")"
# GSO (virtio-net header, 5000-byte TCP packet in 1000-byte segments: 5 wire packets)
# and a paged packet whose headers lie outside the skb's linear area.
$T --vnet "v=4,proto=tcp,flags=0x10,src=192.0.2.2,dst=192.0.2.99,sport=6000,dport=6001,payload=4960,gso=1000" \
   "v=6,proto=udp,src=2001:db8::2,dst=2001:db8::99,sport=6002,dport=6003,payload=5000,linear=10" \
   2>>"$TMP/tunpkt.err" || fail "tunpkt vnet" "$(cat "$TMP/tunpkt.err")"

# Egress from sockets, with a reader holding the tun so that its carrier is up.
bg $T --hold 3 2>/dev/null
sleep 0.3
ip netns exec "$NS" bash -c 'exec 3>/dev/udp/192.0.2.2/7000; for i in 1 2 3 4 5; do printf "%50s" x >&3; done'
ip netns exec "$NS" bash -c 'exec 3>/dev/udp/2001:db8::2/7001; for i in 1 2 3 4 5 6; do printf "%20s" x >&3; done'
ip netns exec "$NS" ping -q -c 3 -i 0.2 -W 1 192.0.2.2 >/dev/null
ip netns exec "$NS" ping -q -6 -c 2 -i 0.2 -W 1 2001:db8::2 >/dev/null
sleep 0.3
tf_stop
check "exit status after SIGINT" "$TF_RC" 0

I='.iface == "tun0" and .dir == "ingress"'
E='.iface == "tun0" and .dir == "egress"'
flow_is "$OUT" "ingress IPv4 UDP 192.0.2.2:5000 > 192.0.2.99:9000" \
	"$I and .ip_version == 4 and .proto == 17 and .src == \"192.0.2.2\" and .dst == \"192.0.2.99\" and .sport == 5000 and .dport == 9000" 7 $((7 * 128))
flow_is "$OUT" "ingress IPv4 TCP SYN > :81" \
	"$I and .proto == 6 and .src == \"192.0.2.2\" and .sport == 40000 and .dport == 81 and .tcp_flags == 2" 3 $((3 * 40))
flow_is "$OUT" "egress IPv4 TCP RST from :81" \
	"$E and .proto == 6 and .src == \"192.0.2.1\" and .sport == 81 and .dport == 40000 and .tcp_flags == 20" 3 $((3 * 40))
flow_is "$OUT" "ingress IPv4 ICMP echo request" \
	"$I and .proto == 1 and .icmp_type == 8 and .icmp_code == 0 and .src == \"192.0.2.2\"" 4 $((4 * 84))
flow_is "$OUT" "egress IPv4 ICMP echo reply" \
	"$E and .proto == 1 and .icmp_type == 0 and .dst == \"192.0.2.2\"" 4 $((4 * 84))
flow_is "$OUT" "ingress IPv6 UDP [2001:db8::2]:5001 > [2001:db8::99]:9001" \
	"$I and .ip_version == 6 and .proto == 17 and .src == \"2001:db8::2\" and .dst == \"2001:db8::99\" and .sport == 5001 and .dport == 9001" 5 $((5 * 248))
flow_is "$OUT" "ingress IPv6 TCP SYN > :82" \
	"$I and .ip_version == 6 and .proto == 6 and .sport == 40001 and .dport == 82" 2 $((2 * 60))
flow_is "$OUT" "egress IPv6 TCP RST from :82" \
	"$E and .ip_version == 6 and .proto == 6 and .sport == 82 and .dport == 40001 and .tcp_flags == 20" 2 $((2 * 60))
flow_is "$OUT" "ingress ICMPv6 echo request" \
	"$I and .proto == 58 and .icmp_type == 128 and .src == \"2001:db8::2\"" 3 $((3 * 104))
flow_is "$OUT" "egress ICMPv6 echo reply" \
	"$E and .proto == 58 and .icmp_type == 129 and .dst == \"2001:db8::2\"" 3 $((3 * 104))
flow_is "$OUT" "ingress GSO TCP 5000 bytes / 1000: 5 wire packets" \
	"$I and .proto == 6 and .sport == 6000 and .dport == 6001" 5 $((5000 + 4 * 40))
flow_is "$OUT" "ingress paged IPv6 UDP (headers outside linear area)" \
	"$I and .ip_version == 6 and .sport == 6002 and .dport == 6003" 1 $((40 + 8 + 5000))
flow_is "$OUT" "egress IPv4 UDP from a socket > 192.0.2.2:7000" \
	"$E and .ip_version == 4 and .proto == 17 and .dst == \"192.0.2.2\" and .dport == 7000" 5 $((5 * 78))
flow_is "$OUT" "egress IPv6 UDP from a socket > [2001:db8::2]:7001" \
	"$E and .ip_version == 6 and .proto == 17 and .dst == \"2001:db8::2\" and .dport == 7001" 6 $((6 * 68))
flow_is "$OUT" "egress IPv4 ping" \
	"$E and .proto == 1 and .icmp_type == 8 and .dst == \"192.0.2.2\"" 3 $((3 * 84))
flow_is "$OUT" "egress IPv6 ping" \
	"$E and .proto == 58 and .icmp_type == 128 and .dst == \"2001:db8::2\"" 2 $((2 * 104))
check "no parse failure or loss counted" "$(final_counters "$OUT")" \
	'{"non_ip":0,"truncated":0,"bad_ihl":0,"bad_len":0,"ext_limit":0,"map_full":0,"no_map":0,"harvest_errors":0}'
# JSON shape: required keys and RFC 3339 UTC milliseconds
check "every flow line has the documented keys" \
	"$(jq -s 'map(select(.type == "flow") | has("iface") and has("dir") and has("ip_version") and has("proto") and has("src") and has("dst") and has("sport") and has("dport") and has("packets") and has("bytes") and has("tcp_flags") and has("first_seen") and has("last_seen")) | all' "$OUT")" true
check "timestamps are RFC 3339 UTC with milliseconds" \
	"$(jq -s 'map(select(.type == "flow") | .first_seen, .last_seen | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")) | all' "$OUT")" true
check "nothing left attached after exit" "$(ip netns exec "$NS" "$HOOKQ" tun0)" "tcx_ingress 0 tcx_egress 0"

# The table: under 80 columns with long IPv6 addresses, totals and every loss counter in
# the footer (two packets with IHL 4 reach tc ingress on a real tun).
TAB=$TMP/table.txt
tf_start "$NS" "$TAB" "$TMP/err2" -o table -t 0.2 tun0 || fail "start table" "$(cat "$TMP/err2")"
$T "v=6,proto=tcp,flags=0x18,src=2001:db8:aaaa:bbbb:cccc:dddd:eeee:2,dst=2001:db8::99,sport=65000,dport=65001,payload=10,count=4" \
   "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,ihl=4,count=2" \
   "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=3,dport=4,count=1" 2>/dev/null
sleep 0.4
tf_stop
check "table: exit status" "$TF_RC" 0
check "table: widest line under 80 columns" "$(awk '{ if (length($0) > m) m = length($0) } END { print (m < 80) }' "$TAB")" 1
FINAL=$(sed -n '/(final)$/,$p' "$TAB")
check "table: final rows by bytes, long IPv6 source cut to fit with its port kept" \
	"$(echo "$FINAL" | grep '^tun0')" \
	"tun0   in  tcp   ~:dddd:eeee:2]:65000 [2001:db8::99]:65001      4    280      0
tun0   in  udp   192.0.2.2:3          192.0.2.99:4              1     28      0"
check "table: final footer totals" "$(echo "$FINAL" | grep '^total')" "total  5 packets  308 bytes  0 bit/s"
check "table: footer shows the loss counter" "$(echo "$FINAL" | grep '^not in flows')" "not in flows: bad_ihl 2"

# --top 1: the biggest flow only, and how many more there are
tf_start "$NS" "$TMP/top.txt" "$TMP/e5" -o table --top 1 -t 0.2 tun0 || fail "start --top" "$(cat "$TMP/e5")"
ip netns exec "$NS" "$TUNPKT" tun0 "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=5,dport=6,payload=100,count=3" \
	"v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=7,dport=8,payload=10,count=1" 2>/dev/null
sleep 0.4
tf_stop
FINAL=$(sed -n '/(final)$/,$p' "$TMP/top.txt")
check "table --top 1: only the biggest flow" "$(echo "$FINAL" | grep -c '^tun0') $(echo "$FINAL" | grep '^tun0' | grep -c ':5 ')" "1 1"
check "table --top 1: says what is left out" "$(echo "$FINAL" | grep '^\.\.\.')" "... 1 more flow"

# Stopping: SIGTERM and --duration both end with a final harvest and status 0.
tf_start "$NS" "$TMP/o3" "$TMP/e3" -o json tun0 || fail "start" "$(cat "$TMP/e3")"
kill -TERM "$TF"; wait "$TF"
check "SIGTERM: exit status" $? 0
check "SIGTERM: final counters written" "$(jq -s 'map(select(.type == "counters" and .final)) | length' "$TMP/o3")" 1
start=$(date +%s%N)
ip netns exec "$NS" "$TUNFLOW" -q -o json --duration 0.5 tun0 >"$TMP/o4" 2>"$TMP/e4"
check "--duration: exit status" $? 0
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ "$ms" -ge 500 ] && [ "$ms" -lt 5000 ]; then ok "--duration 0.5 stopped by itself (${ms} ms)"; else fail "--duration 0.5" "took ${ms} ms"; fi
check "--duration: final counters written, -q silent" "$(jq -s 'map(select(.final)) | length' "$TMP/o4") $(wc -c < "$TMP/e4")" "1 0"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Flow records: both directions in one record (initiator first), and each end reason:
# idle timeout, active timeout (records that add up to all that was sent), TCP end
# (RST; FIN both ways over a real connection), interface gone, tunflow exit; one record
# per direction with --uniflow; the CSV form.
SUITE=records
. "$(dirname "$0")/lib.sh"
need jq
need busybox

tun_ns rec
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$@" 2>/dev/null; }
echo_spec() { echo "v=4,proto=icmp,src=192.0.2.$1,dst=192.0.2.1,sport=8,dport=0,payload=56,count=$2"; }
rec() { jq -c -s "map(select(.type == \"record\" and ($2)) | $3)" "$1"; }

tf_start "$NS" "$TMP/bi.json" "$TMP/bi.err" --records -t 0.1 --idle-timeout 0.5 \
	--active-timeout 0.6 --tcp-linger 0.2 tun0 || exit 1
send "$(echo_spec 9 3)"
send "v=4,proto=tcp,src=192.0.2.9,dst=192.0.2.1,sport=4000,dport=81,flags=2,payload=0"
sleep 1
check "idle timeout: echo in one biflow record, before exit" \
	"$(rec "$TMP/bi.json" '.proto == 1' '[.src, .dst, .dir, .packets, .bytes, .rev_packets, .rev_bytes, .end_reason]')" \
	'[["192.0.2.9","192.0.2.1","ingress",3,252,3,252,"idle timeout"]]'
check "tcp end: SYN answered by RST|ACK" \
	"$(rec "$TMP/bi.json" '.proto == 6' '[.sport, .dport, .packets, .tcp_flags, .rev_packets, .rev_tcp_flags, .end_reason]')" \
	'[[4000,81,1,2,1,20,"tcp end"]]'
# a long flow: 60 echo requests at 40/s, in active-timeout records adding up to all
send --pps 40 "$(echo_spec 10 60)"
sleep 1
recs=$(rec "$TMP/bi.json" '.src == "192.0.2.10"' '[.packets, .rev_packets, .end_reason]')
check "active timeout: records add up to the 60 sent and answered" \
	"$(echo "$recs" | jq -c '[(map(.[0]) | add), (map(.[1]) | add)]')" "[60,60]"
# (the last part ends by idle timeout, or by active timeout when that came first)
check "active timeout: at least two 'active timeout' records, none of another reason" \
	"$(echo "$recs" | jq -c '[(map(select(.[2] == "active timeout")) | length >= 2), (map(.[2]) - ["active timeout", "idle timeout"])]')" \
	'[true,[]]'
send "$(echo_spec 11 2)"
sleep 0.2
tf_stop
check "tunflow exit: the open flow's record" \
	"$(rec "$TMP/bi.json" '.src == "192.0.2.11"' '[.packets, .rev_packets, .end_reason]')" \
	'[[2,2,"tunflow exit"]]'

# one record per direction
tf_start "$NS" "$TMP/uni.json" "$TMP/uni.err" --records --uniflow -t 0.1 tun0 || exit 1
send "$(echo_spec 12 4)"
sleep 0.3
tf_stop
check "--uniflow: a record each way" \
	"$(rec "$TMP/uni.json" '.proto == 1' '[.dir, .packets, .bytes, .rev_packets]' | jq -c sort)" \
	'[["egress",4,336,0],["ingress",4,336,0]]'

# CSV
tf_start "$NS" "$TMP/out.csv" "$TMP/csv.err" -o csv -t 0.1 tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.13,dst=192.0.2.1,sport=5353,dport=9,payload=20,count=2"
sleep 0.3
tf_stop
check "csv: header" "$(head -1 "$TMP/out.csv")" \
	"start,end,duration,end_reason,iface,user,dir,ip_version,proto,proto_name,src,dst,sport,dport,icmp_type,icmp_code,packets,bytes,rev_packets,rev_bytes,tcp_flags,rev_tcp_flags,peer,endpoint,name,name_source,ech,asn,as_name,country"
check "csv: the UDP record (ICMP errors answer it: a flow of its own)" \
	"$(grep ',udp,' "$TMP/out.csv" | cut -d, -f4-)" \
	"tunflow exit,tun0,,ingress,4,17,udp,192.0.2.13,192.0.2.1,5353,9,,,2,96,0,0,0,0,,,,,,,,"

# interface gone, and FIN both ways over a real TCP connection (veth)
ns_new a; A=$NS
ns_new b; B=$NS
ip link add va netns "$A" type veth peer name vb netns "$B"
ip -n "$A" addr add 198.51.100.1/24 dev va
ip -n "$B" addr add 198.51.100.2/24 dev vb
ip -n "$A" link set va up
ip -n "$B" link set vb up
tf_start "$A" "$TMP/v.json" "$TMP/v.err" --records -t 0.1 --tcp-linger 0.2 va || exit 1
bg ip netns exec "$B" busybox nc -l -p 8080 >/dev/null
sleep 0.2
echo hello | ip netns exec "$A" busybox nc -w 1 198.51.100.2 8080
sleep 0.6
check "tcp end: FIN both ways" \
	"$(rec "$TMP/v.json" '.proto == 6' '[.dport, (.tcp_flags % 4), (.rev_tcp_flags % 4), .end_reason]')" \
	'[[8080,3,3,"tcp end"]]'
ip netns exec "$A" ping -q -c 2 -i 0.05 198.51.100.2 >/dev/null
ip -n "$A" link del va
sleep 0.3
tf_stop
check "interface gone: the open echo flow's record" \
	"$(rec "$TMP/v.json" '.proto == 1' '[.packets, .rev_packets, .end_reason]')" \
	'[[2,2,"interface gone"]]'
finish

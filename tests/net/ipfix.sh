#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# IPFIX export, decoded by three independent implementations from Debian: nfdump's
# nfcapd + nfdump, libfixbuf's ipfixDump and tshark's IPFIX dissector. Known flows (IPv4
# and IPv6; TCP, UDP, ICMP; answered and not) through a tun, over UDP and over TCP, each
# record with its exact addresses, ports, protocol, counters both ways and user. Then:
# a TCP collector absent at first gets every record once it is there; records beyond
# --ipfix-backlog, or still waiting at exit, are counted; a collector that never
# answers does not hold up the harvest; a UDP collector started late gets the templates
# again; --uniflow exports one record per direction without reverse elements. Every
# record says it is unsampled (samplingInterval 1). (Bad --ipfix options:
# tests/net/errors.sh; nfacctd and nfcapd totals per user: tests/net/nfacctd.sh,
# tests/net/nfdump_recipe.sh.)
SUITE=ipfix
. "$(dirname "$0")/lib.sh"
need jq
need nfcapd
need nfdump
need ipfixDump
need tshark
need xxd
need nc.openbsd
need busybox
SPLIT=$TOP/build/ipfixsplit

. "$(dirname "$0")/ipfix_lib.sh"
ipfix_ns ipfix
# One line per record: proto src dst sport dport packets bytes rev_packets rev_bytes user
# (ICMP: dport is type * 256 + code, as icmpTypeCode and nfdump have it). The UDP
# datagrams to a closed port draw ICMP errors (type 3 code 3, ICMPv6 1/4): records the
# host initiated, on egress.
WANT_USER='1 192.0.2.1 192.0.2.9 0 771 2 152 0 0 alice
1 192.0.2.9 192.0.2.1 0 2048 3 252 3 252 alice
17 192.0.2.9 192.0.2.1 5353 9 2 96 0 0 alice
17 2001:db8::9 2001:db8::1 5353 9 2 136 0 0 bob
58 2001:db8::1 2001:db8::9 0 260 2 232 0 0 bob
58 2001:db8::9 2001:db8::1 0 32768 3 312 3 312 bob
6 192.0.2.9 192.0.2.1 40000 81 1 40 1 40 alice
6 2001:db8::9 2001:db8::1 40001 81 1 60 1 60 bob'
WANT_NOUSER=$(echo "$WANT_USER" | sed 's/ [a-z]*$//')

# nfdump: nfcapd's files as CSV (nfdump 1.7 has no element for userName)
nfdump_lines() {
	nfdump -R "$1" -q -o csv 2>/dev/null | awk -F, '$8 != "" {
		p = $8 == "ICMP" ? 1 : $8 == "ICMP6" ? 58 : $8 == "TCP" ? 6 : $8 == "UDP" ? 17 : $8
		print p, $4, $5, $6, $7, $12, $13, $14, $15 }' | sort
}
# ipfixdump_json (ipfix_lib.sh), then one line per record
ipfixdump_lines() {
	ipfixdump_json "$1" | jq -r '[.protocolIdentifier,
		(.sourceIPv4Address // .sourceIPv6Address), (.destinationIPv4Address // .destinationIPv6Address),
		.sourceTransportPort,
		(if .protocolIdentifier == "1" then .icmpTypeCodeIPv4 elif .protocolIdentifier == "58"
		 then .icmpTypeCodeIPv6 else .destinationTransportPort end),
		.packetDeltaCount, .octetDeltaCount, .reversePacketDeltaCount, .reverseOctetDeltaCount,
		.userName] | join(" ")' | sort
}
# tshark_json (ipfix_lib.sh), then one line per record
tshark_lines() {
	tshark_json "$1" "$2" | jq -r '[.["cflow.protocol"],
		(.["cflow.srcaddr"] // .["cflow.srcaddrv6"]), (.["cflow.dstaddr"] // .["cflow.dstaddrv6"]),
		.["cflow.srcport"],
		(if .["cflow.protocol"] == "1" then (.["cflow.icmp_type_code_ipv4"] | ltrimstr("0x") | ascii_downcase
			| explode | map(if . >= 97 then . - 87 else . - 48 end) | reduce .[] as $d (0; . * 16 + $d))
		 elif .["cflow.protocol"] == "58" then ((.["cflow.icmp_ipv6_type"] | tonumber) * 256 + (.["cflow.icmp_ipv6_code"] | tonumber))
		 else .["cflow.dstport"] end),
		.["cflow.packets"][0], .["cflow.octets"][0], .["cflow.packets"][1], .["cflow.octets"][1],
		.["cflow.user_name"]] | map(tostring) | join(" ")' | sort
}
# tshark_capture PORTFILTER FILE: capture on the namespace's loopback; $CAP is its PID
tshark_capture() {
	bg ip netns exec "$NS" tshark -i lo -f "$1" -w "$2"
	CAP=$BG
	for _ in $(seq 100); do
		[ -s "$2" ] && return 0
		sleep 0.1
	done
	fail "tshark" "did not start capturing"
}
stop_pid() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# collector_up PORT: wait until something listens on 127.0.0.1:PORT (TCP) in $NS
collector_up() {
	for _ in $(seq 100); do
		ip netns exec "$NS" ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}
scrape() { ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9275/metrics"; }
metric() { scrape | awk -v m="$1" '$1 == m { print $2 }'; }

# ---- over UDP: nfcapd receives, tshark captures the same datagrams, ipfixDump reads
# their payloads as a file
mkdir -p "$TMP/nf"
bg ip netns exec "$NS" nfcapd -w "$TMP/nf" -p 4739 -b 127.0.0.1
NFCAPD=$BG
tshark_capture "udp port 4739" "$TMP/udp.pcap"
tf_start "$NS" "$TMP/udp.json" "$TMP/udp.err" --ipfix udp:127.0.0.1:4739 --ipfix-domain 7 \
	--user-map "$TMP/users" --records -t 0.1 --tcp-linger 0.2 tun0 || exit 1
traffic
sleep 0.6
tf_stop
sleep 0.3
stop_pid "$NFCAPD"
stop_pid "$CAP"
check "udp: tunflow's own records (JSON) are the known flows" \
	"$(jq -r 'select(.type == "record") | [.proto, .src, .dst, .sport,
		(if .icmp_type then .icmp_type * 256 + .icmp_code else .dport end),
		.packets, .bytes, .rev_packets, .rev_bytes, .user] | map(tostring) | join(" ")' \
		"$TMP/udp.json" | sort)" "$WANT_USER"
check "udp: final counters: 8 exported, no failure" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.exported, .export_failures, .export_backlog]' "$TMP/udp.json")" \
	"[8,0,0]"
check "udp: nfdump shows the records" "$(nfdump_lines "$TMP/nf")" "$WANT_NOUSER"
check "udp: nfdump's end reasons and interfaces" \
	"$(nfdump -R "$TMP/nf" -q -o raw 2>/dev/null | awk '/end reason/ { print $4 }' | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')" \
	"0x03x2 0x04x6"
check "udp: nfdump saw no sequence error" \
	"$(nfdump -R "$TMP/nf" -I 2>/dev/null | awk '/^Sequence failures/ { print $3 }')" "0"
tshark -r "$TMP/udp.pcap" -T fields -e udp.payload 2>/dev/null | tr -d '\n' | xxd -r -p >"$TMP/udp.ipfix"
check "udp: ipfixDump shows the records" "$(ipfixdump_lines "$TMP/udp.ipfix")" "$WANT_USER"
check "udp: ipfixDump: observation domain of every message" \
	"$(ipfixDump --in "$TMP/udp.ipfix" 2>&1 | grep -o 'observation domain id: [0-9]*' | sort -u)" \
	"observation domain id: 7"
check "udp: ipfixDump: the TCP record's remaining elements" \
	"$(ipfixdump_json "$TMP/udp.ipfix" | jq -c 'select(.sourceTransportPort == "40000") |
		[.interfaceName, .ingressInterface, .egressInterface, .flowDirection, .flowEndReason,
		 .tcpControlBits, .reverseTcpControlBits]')" \
	"[\"tun0\",\"$(ip netns exec "$NS" cat /sys/class/net/tun0/ifindex)\",\"0\",\"0\",\"3\",\"2\",\"20\"]"
# every packet is counted: the sampling rate every record carries is 1 in 1 (IANA
# samplingInterval, the element Akvorado and goflow2 read in a data record)
check "udp: samplingInterval 1 in all 8 records (ipfixDump, tshark) and in both templates" \
	"$(ipfixdump_json "$TMP/udp.ipfix" | jq -r .samplingInterval | sort | uniq -c | awk '{ print $1 "x" $2 }') $(tshark -r "$TMP/udp.pcap" -d udp.port==4739,cflow -T fields -e cflow.sampling_interval 2>/dev/null | tr ',' '\n' | grep . | sort | uniq -c | awk '{ print $1 "x" $2 }') $(ipfixDump --in "$TMP/udp.ipfix" 2>&1 | grep -c 'id: *34 .*samplingInterval')" \
	"8x1 8x1 2"
check "udp: ipfixDump: the host's ICMP error is an egress record" \
	"$(ipfixdump_json "$TMP/udp.ipfix" | jq -c 'select(.icmpTypeCodeIPv4 == "771") |
		[.ingressInterface, .egressInterface != "0", .flowDirection, .flowEndReason]')" \
	'["0",true,"1","4"]'
check "udp: tshark shows the records" "$(tshark_lines "$TMP/udp.pcap" udp.port==4739)" "$WANT_USER"
check "udp: tshark: the observation domain" \
	"$(tshark -r "$TMP/udp.pcap" -d udp.port==4739,cflow -T fields -e cflow.od_id 2>/dev/null | sort -u)" "7"

# ---- over TCP, the collector absent at first: records wait, then all arrive
tshark_capture "tcp port 4739" "$TMP/tcp.pcap"
tf_start "$NS" "$TMP/tcp.json" "$TMP/tcp.err" --ipfix tcp:127.0.0.1:4739 --metrics 9275 \
	--user-map "$TMP/users" --records -t 0.1 --tcp-linger 0.2 --idle-timeout 0.3 tun0 || exit 1
traffic
sleep 1
check "tcp: collector absent: tunflow says so once" \
	"$(grep -c 'IPFIX collector tcp:127.0.0.1:4739: Connection refused; records wait' "$TMP/tcp.err")" "1"
check "tcp: collector absent: the 8 records wait, none exported, none lost" \
	"$(metric tunflow_export_backlog_records) $(metric tunflow_exported_records_total) $(metric tunflow_export_failures_total)" \
	"8 0 0"
# a TCP collector that keeps whatever it is sent (-d: its stdin is /dev/null, and its
# end of file must not close the connection)
bg sh -c "exec ip netns exec '$NS' nc.openbsd -d -l 127.0.0.1 4739 >'$TMP/tcp.ipfix'"
COLLECTOR=$BG
collector_up 4739 || fail "tcp" "the collector did not start"
for _ in $(seq 300); do
	[ "$(metric tunflow_exported_records_total)" == 8 ] && break
	sleep 0.1
done
check "tcp: collector started: the waiting records are delivered" \
	"$(metric tunflow_export_backlog_records) $(metric tunflow_exported_records_total) $(metric tunflow_export_failures_total)" \
	"0 8 0"
check "tcp: tunflow says it delivers again" \
	"$(grep -c 'IPFIX collector tcp:127.0.0.1:4739: delivering again' "$TMP/tcp.err")" "1"
traffic
sleep 1
tf_stop
sleep 0.3
stop_pid "$COLLECTOR"
stop_pid "$CAP"
check "tcp: final counters: 16 exported, no failure" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.exported, .export_failures, .export_backlog]' "$TMP/tcp.json")" \
	"[16,0,0]"
WANT2=$( (echo "$WANT_USER"; echo "$WANT_USER") | sort)
check "tcp: ipfixDump shows both rounds of records" "$(ipfixdump_lines "$TMP/tcp.ipfix")" "$WANT2"
check "tcp: tshark shows both rounds of records" "$(tshark_lines "$TMP/tcp.pcap" tcp.port==4739)" "$WANT2"
# nfcapd listens on UDP only: the stream's messages, unchanged, one per datagram
mkdir -p "$TMP/nf2"
bg ip netns exec "$NS" nfcapd -w "$TMP/nf2" -p 4740 -b 127.0.0.1
NFCAPD=$BG
sleep 0.5
ip netns exec "$NS" "$SPLIT" "$TMP/tcp.ipfix" 127.0.0.1 4740 2>/dev/null ||
	fail "tcp" "the stream is not a sequence of IPFIX messages"
sleep 0.3
stop_pid "$NFCAPD"
check "tcp: nfdump shows both rounds of records" "$(nfdump_lines "$TMP/nf2")" \
	"$( (echo "$WANT_NOUSER"; echo "$WANT_NOUSER") | sort)"

# ---- the backlog full, and records still waiting at exit: counted, and said (the
# datagrams go to an address the namespace does not forward to: no answer, one record)
tf_start "$NS" "$TMP/bl.json" "$TMP/bl.err" --ipfix tcp:127.0.0.1:4739 --ipfix-backlog 1 \
	--metrics 9275 --records -t 0.1 --idle-timeout 0.2 tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.31,dst=192.0.2.77,sport=1,dport=9,payload=0"
sleep 0.6
check "backlog: one record waits" \
	"$(metric tunflow_export_backlog_records) $(metric tunflow_export_failures_total)" "1 0"
send "v=4,proto=udp,src=192.0.2.32,dst=192.0.2.77,sport=1,dport=9,payload=0"
sleep 0.6
check "backlog: the next does not fit: one failure" \
	"$(metric tunflow_export_backlog_records) $(metric tunflow_export_failures_total)" "1 1"
tf_stop
check "backlog: exit with the collector still away: the waiting record counted too" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.exported, .export_failures, .export_backlog]' "$TMP/bl.json")" \
	"[0,2,0]"
check "backlog: tunflow exits cleanly" "$TF_RC" "0"

# the table's footer names the failures
tf_start "$NS" "$TMP/t.out" "$TMP/t.err" --ipfix tcp:127.0.0.1:4739 -o table -t 0.1 tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.33,dst=192.0.2.77,sport=1,dport=9,payload=0"
sleep 0.3
tf_stop
check "table: the footer counts the record that could not be sent" \
	"$(grep -c 'export_failures 1' "$TMP/t.out")" "1"

# ---- a collector that never answers (its SYNs vanish into the tunnel): the harvest
# goes on while the sender waits to connect
tf_start "$NS" "$TMP/bh.json" "$TMP/bh.err" --ipfix tcp:192.0.2.200:4739 --metrics 9275 \
	--records -t 0.1 --idle-timeout 0.2 tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.34,dst=192.0.2.77,sport=1,dport=9,payload=0"
sleep 0.5
h1=$(metric tunflow_harvests_total)
sleep 2
h2=$(metric tunflow_harvests_total)
check "black hole: harvests go on while the sender waits for the collector" \
	"$(( h2 - h1 >= 10 ))" "1"
sleep 1.5
check "black hole: the connect times out, said once" \
	"$(grep -c 'IPFIX collector tcp:192.0.2.200:4739: Connection timed out; records wait' "$TMP/bh.err")" "1"
tf_stop
# (every record tunflow wrote, the UDP one and its own SYNs' into the tun, failed)
check "black hole: tunflow exits cleanly, every record it made counted as failed" \
	"$TF_RC $(jq -s -c '(map(select(.type == "record")) | length) as $n
		| map(select(.type == "counters" and .final)) | last
		| [$n >= 1, .exported, .export_failures == $n, .export_backlog]' "$TMP/bh.json")" \
	"0 [true,0,true,0]"

# ---- UDP: a collector that starts late gets the templates again
tf_start "$NS" "$TMP/late.json" "$TMP/late.err" --ipfix 127.0.0.1:4741 --ipfix-templates 1 \
	--records -t 0.1 --idle-timeout 0.2 tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.41,dst=192.0.2.77,sport=1,dport=9,payload=0"
sleep 0.5
mkdir -p "$TMP/nf3"
bg ip netns exec "$NS" nfcapd -w "$TMP/nf3" -p 4741 -b 127.0.0.1
NFCAPD=$BG
sleep 1.5
send "v=4,proto=udp,src=192.0.2.42,dst=192.0.2.77,sport=1,dport=9,payload=0"
sleep 0.5
tf_stop
sleep 0.3
stop_pid "$NFCAPD"
check "udp late collector: the record sent after it started decodes" \
	"$(nfdump_lines "$TMP/nf3" | grep -c '^17 192.0.2.42 192.0.2.77 1 9 1 28 0 0$')" "1"

# ---- --uniflow: a record per direction, templates without reverse elements
bg sh -c "exec ip netns exec '$NS' nc.openbsd -d -u -l 127.0.0.1 4742 >'$TMP/uni.ipfix'"
UNI=$BG
sleep 0.3
tf_start "$NS" "$TMP/uni.json" "$TMP/uni.err" --ipfix 127.0.0.1:4742 --uniflow --records \
	-t 0.1 tun0 || exit 1
send "v=4,proto=icmp,src=192.0.2.35,dst=192.0.2.1,sport=8,dport=0,payload=56,count=2"
sleep 0.3
tf_stop
sleep 0.2
stop_pid "$UNI"
check "uniflow: one record each way, no reverse element in any template" \
	"$(ipfixdump_json "$TMP/uni.ipfix" | jq -c '[.sourceIPv4Address, .flowDirection, .icmpTypeCodeIPv4, .packetDeltaCount, .octetDeltaCount]' | sort | paste -sd' ') $(ipfixDump --in "$TMP/uni.ipfix" 2>&1 | grep -c 29305)" \
	'["192.0.2.1","1","0","2","168"] ["192.0.2.35","0","2048","2","168"] 0'
check "uniflow: both records carry samplingInterval 1" \
	"$(ipfixdump_json "$TMP/uni.ipfix" | jq -r .samplingInterval | paste -sd' ')" "1 1"

finish

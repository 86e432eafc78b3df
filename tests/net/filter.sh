#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# -f/--filter on real traffic: JSON flow lines, records, CSV rows, --group-by user,
# /metrics and IPFIX (through nfcapd) hold exactly the matching flows (as and country
# from a test location database too); interface totals
# (iface_gone) and the counters stay whole; an expression that does not parse is a usage
# error naming its column.
SUITE=filter
. "$(dirname "$0")/lib.sh"
need jq

tun_ns filt
MAP=$TMP/users
printf '192.0.2.9 alice\n192.0.2.10 bob\n2001:db8::/64 carol\n' >"$MAP"
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$1" 2>/dev/null; }
traffic() {
	send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=2"
	send "v=4,proto=tcp,src=192.0.2.9,dst=192.0.2.1,sport=4000,dport=443,flags=2,payload=0"
	send "v=4,proto=udp,src=192.0.2.10,dst=192.0.2.1,sport=1000,dport=53,payload=10,count=3"
	send "v=6,proto=udp,src=2001:db8::9,dst=2001:db8::1,sport=1000,dport=443,payload=10,count=4"
}
# the flow lines of a file, each flow's lines summed: [user, dir, proto, src, sport, dst,
# dport, packets, bytes], sorted
flows() {
	jq -s -c 'map(select(.type == "flow")) | group_by([.user, .dir, .proto, .src, .sport, .dst, .dport])
		| map([.[0].user, .[0].dir, .[0].proto, .[0].src, .[0].sport, .[0].dst, .[0].dport,
		       (map(.packets) | add), (map(.bytes) | add)])' "$1"
}

F='user alice and (port 443 or proto udp) and net 192.0.2.0/24 and not dir egress'
tf_start "$NS" "$TMP/f.json" "$TMP/f.err" -o json -t 0.1 --user-map "$MAP" -f "$F" tun0 || exit 1
traffic
sleep 0.4
ip -n "$NS" link del tun0
sleep 0.3
tf_stop
check "json: exactly alice's two flows received, not the replies, not bob or carol" \
	"$(flows "$TMP/f.json")" \
	'[["alice","ingress",6,"192.0.2.9",4000,"192.0.2.1",443,1,40],["alice","ingress",17,"192.0.2.9",1000,"192.0.2.1",7,2,76]]'
check "json: interface totals stay whole (every packet received)" \
	"$(jq -s -c 'map(select(.type == "iface_gone")) | map([.iface, .packets_in, .bytes_in])' "$TMP/f.json")" \
	'[["tun0",10,462]]'
check "json: the final counters are there" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | length' "$TMP/f.json")" 1
check "exit status 0" "$TF_RC" 0

# records: both directions in one, by the far side's port
tun_ns filt2
tf_start "$NS" "$TMP/r.json" "$TMP/r.err" --records -o json -t 0.1 --user-map "$MAP" \
	-f 'remote port 443' tun0 || exit 1
traffic
sleep 0.4
tf_stop
check "records: alice's TCP (answered by a RST) and carol's UDP, nothing else" \
	"$(jq -s -c 'map(select(.type == "record")) | map([.user, .proto, .src, .sport, .dst, .dport, .packets, .bytes, .rev_packets, .rev_bytes]) | sort' "$TMP/r.json")" \
	'[["alice",6,"192.0.2.9",4000,"192.0.2.1",443,1,40,1,40],["carol",17,"2001:db8::9",1000,"2001:db8::1",443,4,232,0,0]]'
check "records: no flow lines besides" \
	"$(jq -s -c 'map(select(.type == "flow")) | length' "$TMP/r.json")" 0

# CSV
tun_ns filt3
tf_start "$NS" "$TMP/f.csv" "$TMP/c.err" -o csv -t 0.1 --user-map "$MAP" \
	-f 'user bob and proto udp' tun0 || exit 1
traffic
sleep 0.4
tf_stop
check "csv: the header and bob's UDP record only" \
	"$(cut -d, -f4- "$TMP/f.csv" | sed 1d)" \
	"tunflow exit,tun0,bob,ingress,4,17,udp,192.0.2.10,192.0.2.1,1000,53,,,3,114,0,0,0,0,,,,,,,,"

# --group-by user over the matching flows
tun_ns filt4
tf_start "$NS" "$TMP/g.json" "$TMP/g.err" -o json -t 0.1 --group-by user --user-map "$MAP" \
	-f 'ip6 and dir ingress' tun0 || exit 1
traffic
sleep 0.4
tf_stop
check "group-by user: carol's received bytes only" \
	"$(jq -s -c 'map(select(.type == "user")) | map([.user, .packets_in, .bytes_in, .packets_out]) | unique' "$TMP/g.json")" \
	'[["carol",4,232,0]]'

# /metrics: the series of the matching flows only
tun_ns filt5
tf_start "$NS" "$TMP/m.json" "$TMP/m.err" -o none -t 0.1 --user-map "$MAP" --metrics 9276 \
	-f 'user bob' tun0 || exit 1
traffic
sleep 0.4
ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9276/metrics" >"$TMP/m.txt"
tf_stop
check "metrics: bytes of bob's flows only (his datagrams, the ICMP errors they drew)" \
	"$(grep '^tunflow_bytes_total{' "$TMP/m.txt" | sort | tr '\n' ' ')" \
	'tunflow_bytes_total{interface="tun0",direction="egress",user="bob"} 198 tunflow_bytes_total{interface="tun0",direction="ingress",user="bob"} 114 '
check "metrics: tunflow_flows counts the matching flows" \
	"$(awk '$1 == "tunflow_flows" {print $2}' "$TMP/m.txt")" 2

# IPFIX, received by nfcapd and read back by nfdump
if command -v nfcapd >/dev/null && command -v nfdump >/dev/null; then
	tun_ns filt6
	mkdir -p "$TMP/nf"
	bg ip netns exec "$NS" sh -c 'exec nfcapd -w "$0" -p 4740 -b 127.0.0.1 >/dev/null 2>&1' "$TMP/nf"
	NFCAPD=$BG
	tf_start "$NS" "$TMP/i.json" "$TMP/i.err" -o json --records -t 0.1 --user-map "$MAP" \
		--ipfix udp:127.0.0.1:4740 -f 'ip6 and udp' tun0 || exit 1
	traffic
	sleep 0.4
	tf_stop
	sleep 0.3
	kill -TERM "$NFCAPD"
	wait "$NFCAPD" 2>/dev/null
	check "ipfix: the one matching record reaches the collector" \
		"$(nfdump -R "$TMP/nf" -q -o csv 2>/dev/null | awk -F, '$8 != "" {print $8, $4, $5, $6, $7, $12, $13}')" \
		"UDP 2001:db8::9 2001:db8::1 1000 443 4 232"
	check "ipfix: exported 1, no failure" \
		"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.exported, .export_failures]' "$TMP/i.json")" \
		'[1,0]'
else
	fail "prerequisite" "nfcapd and nfdump are not installed (run 'make deps')"
fi

# as and country, from a test location database (libloc's writer, build/geodb)
printf '%s\n' "as 64500 Example Transit" "as 64501 Example Six" \
	"net 198.51.100.0/24 64500 DE" "net 2001:db8:1::/48 64501 NL" |
	"$TOP/build/geodb" "$TMP/geo.db" || fail "geodb" "cannot write the test database"
tun_ns filt7
tf_start "$NS" "$TMP/geo.json" "$TMP/geo.err" -o json -t 0.1 --geo-db "$TMP/geo.db" \
	-f 'country de or as 64501' tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.9,dst=198.51.100.7,sport=5000,dport=443,payload=20,count=2"
send "v=6,proto=udp,src=2001:db8::9,dst=2001:db8:1::53,sport=5001,dport=53,payload=20"
send "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.5,sport=5002,dport=9,payload=20"
sleep 0.4
tf_stop
check "geo: the flows to Germany and to AS 64501, not the one to an unknown place" \
	"$(jq -s -c 'map(select(.type == "flow")) | map([.dst, .dport, .packets]) | sort' "$TMP/geo.json")" \
	'[["198.51.100.7",443,2],["2001:db8:1::53",53,1]]'

# a usage error, on the command line and in a config file
"$TUNFLOW" -f 'user alice and port x' tun0 >/dev/null 2>"$TMP/u.err"
check "parse error: exit status 2" "$?" 2
check "parse error: the column and what was expected" "$(cat "$TMP/u.err")" \
	"tunflow: filter: at column 21: expected a port number (0 to 65535) after 'port', got 'x'"
printf 'filter = dir sideways\n' >"$TMP/conf"
"$TUNFLOW" --config "$TMP/conf" tun0 >/dev/null 2>"$TMP/c2.err"
check "config file: FILE:LINE and the column" "$(grep -c "^tunflow: $TMP/conf:1: filter: at column 5: expected ingress or egress after 'dir', got 'sideways'$" "$TMP/c2.err")" 1
finish

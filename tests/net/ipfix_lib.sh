# SPDX-License-Identifier: GPL-2.0-only
# The known flows of the IPFIX suites (ipfix.sh, nfacctd.sh, nfdump_recipe.sh), sourced
# after lib.sh. ipfix_ns NAME: a tun namespace ($NS, tun0's index in $IFINDEX) with a
# user map ($TMP/users: alice on IPv4, bob on IPv6). traffic: all from the far side of
# the tunnel, answered by the host's stack: echoes, a SYN answered by a reset, datagrams
# to a closed port that draw ICMP errors. ipfixdump_lines and tshark_lines: the names
# suites' (ipfix_names.sh, names.sh) one line per data record, from two decoders.
ipfix_ns() {
	tun_ns "$1"
	IFINDEX=$(ip netns exec "$NS" cat /sys/class/net/tun0/ifindex)
	printf '192.0.2.0/24 alice\n2001:db8::/64 bob\n' >"$TMP/users"
}
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$@" 2>/dev/null; }
traffic() {
	send "v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=3" \
	     "v=6,proto=icmp6,src=2001:db8::9,dst=2001:db8::1,sport=128,dport=0,payload=56,count=3" \
	     "v=4,proto=tcp,src=192.0.2.9,dst=192.0.2.1,sport=40000,dport=81,flags=2,payload=0" \
	     "v=6,proto=tcp,src=2001:db8::9,dst=2001:db8::1,sport=40001,dport=81,flags=2,payload=0" \
	     "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=5353,dport=9,payload=20,count=2" \
	     "v=6,proto=udp,src=2001:db8::9,dst=2001:db8::1,sport=5353,dport=9,payload=20,count=2"
}
# export_through PORT NAME TUNFLOW-ARGS...: once a collector listens on UDP PORT in $NS,
# tunflow exports the known flows to it as records (users from $TMP/users; its JSON and
# stderr in $TMP/NAME.json and .err), then stops
export_through() {
	local port=$1 name=$2
	shift 2
	for _ in $(seq 100); do
		ip netns exec "$NS" ss -Hlun "sport = :$port" | grep -q . && break
		sleep 0.05
	done
	tf_start "$NS" "$TMP/$name.json" "$TMP/$name.err" --ipfix "127.0.0.1:$port" \
		--user-map "$TMP/users" --records -t 0.1 --tcp-linger 0.2 "$@" tun0 || exit 1
	traffic
	sleep 0.6
	tf_stop
}
# ipfixDump --yaf's text, one JSON object per data record (element name -> value)
ipfixdump_json() {
	ipfixDump --yaf --in "$1" 2>&1 | awk '
		function flush() { if (r != "") print "{" r "}"; r = "" }
		/^--- data record/ { flush(); inrec = 1; next }
		/^---|^\*\*\*/ { flush(); inrec = 0; next }
		inrec && /^\t\([0-9\/]+\) +[A-Za-z0-9_]+ : / {
			line = $0; sub(/^\t\([0-9\/]+\) +/, "", line)
			name = line; sub(/ : .*/, "", name)
			val = line; sub(/^[^:]* : /, "", val); sub(/^\(len: [0-9]+\) ?/, "", val)
			r = r (r == "" ? "" : ",") "\"" name "\":\"" val "\""
		}
		END { flush() }' | sed -E 's/(^|[":])0+([0-9a-f])/\1\2/g'
}
# one line per record: proto src dst sport dport sslServerName httpHost dnsQName srcAS dstAS
# ("-" for an empty name)
ipfixdump_lines() {
	ipfixdump_json "$1" | jq -r '[.protocolIdentifier,
		(.sourceIPv4Address // .sourceIPv6Address), (.destinationIPv4Address // .destinationIPv6Address),
		(if .protocolIdentifier == "1" then "-" else .sourceTransportPort end),
		(if .protocolIdentifier == "1" then .icmpTypeCodeIPv4 else .destinationTransportPort end),
		.sslServerName, .httpHost, .dnsQName, .bgpSourceAsNumber, .bgpDestinationAsNumber]
		| map(if . == "" then "-" else . end) | join(" ")' | sort
}
# tshark_json FILE DECODE: tshark's dissection of a capture (DECODE: its -d port rule),
# one JSON object per data record
tshark_json() {
	tshark -r "$1" -d "$2,cflow" -T json --no-duplicate-keys 2>/dev/null | jq -c '
		.[]._source.layers.cflow // empty | (if type == "array" then .[] else . end) | to_entries[]
		| select(.key | test("^Set .*flows")) | .value | to_entries[]
		| select(.key | test("^Flow ")) | .value'
}
# the same lines from tshark, ntop's elements by their names in Wireshark
tshark_lines() {
	tshark_json "$1" udp.port==4739 | jq -r '
		[.["cflow.protocol"],
		   (.["cflow.srcaddr"] // .["cflow.srcaddrv6"]), (.["cflow.dstaddr"] // .["cflow.dstaddrv6"]),
		   (if .["cflow.protocol"] == "1" then "-" else .["cflow.srcport"] end),
		   (if .["cflow.protocol"] == "1" then (.["cflow.icmp_type_code_ipv4"] | ltrimstr("0x") | ascii_downcase
			| explode | map(if . >= 97 then . - 87 else . - 48 end) | reduce .[] as $d (0; . * 16 + $d))
		    else .["cflow.dstport"] end),
		   .["cflow.pie.ntop.ssl_server_name"], .["cflow.pie.ntop.http_host"],
		   .["cflow.pie.ntop.dns_query"], .["cflow.srcas"], .["cflow.dstas"]]
		| map(if . == null or . == "" then "-" else tostring end) | join(" ")' | sort
}

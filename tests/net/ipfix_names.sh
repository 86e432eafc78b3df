#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# IPFIX: the far side's name and AS, decoded by two independent decoders from Debian,
# each printing the elements by name: libfixbuf's ipfixDump --yaf (CERT's PEN 6871
# sslServerName, httpHost, dnsQName) and tshark's IPFIX dissector (ntop's PEN 35632
# SSL_SERVER_NAME, HTTP_HOST, DNS_QUERY); both read IANA's bgpSourceAsNumber and
# bgpDestinationAsNumber. First records with names fed to the exporter directly
# (build/ipfixfeed), then real flows through a tun whose AS comes from a test location
# database (build/geodb, libloc's writer), then tunflow without a database.
SUITE=ipfix_names
. "$(dirname "$0")/lib.sh"
need jq
need ipfixDump
need tshark
need xxd
need nc.openbsd
FEED=$TOP/build/ipfixfeed
GEODB=$TOP/build/geodb

. "$(dirname "$0")/ipfix_lib.sh"
ipfix_ns names
# what the tun's far side sends to addresses beyond the gateway ends there, unanswered
for net in 198.51.100.0/24 203.0.113.0/24 2001:db8:1::/48; do
	ip -n "$NS" route add blackhole "$net"
done

# capture PCAP CMD...: CMD runs while tshark captures UDP 4739 on the namespace's loopback,
# with a UDP listener there (no port-unreachable); then the payloads into PCAP.ipfix
capture() {
	local pcap=$1 cap nc
	shift
	bg sh -c "exec ip netns exec '$NS' nc.openbsd -d -u -l 127.0.0.1 4739 >/dev/null"
	nc=$BG
	bg sh -c "exec ip netns exec '$NS' tshark -i lo -f 'udp port 4739' -w '$pcap' 2>/dev/null"
	cap=$BG
	for _ in $(seq 100); do
		[ -s "$pcap" ] && break
		sleep 0.1
	done
	"$@"
	sleep 0.5
	kill -TERM "$cap" "$nc" 2>/dev/null
	wait "$cap" "$nc" 2>/dev/null
	tshark -r "$pcap" -T fields -e udp.payload 2>/dev/null | tr -d '\n' | xxd -r -p >"$pcap.ipfix"
}

# ---- records with names, fed to the exporter: each name in the elements of its source,
# the AS with whichever address is the far side (the source of an egress-initiated one)
cat >"$TMP/feed" <<'EOF'
in 192.0.2.9 198.51.100.7 6 40000 443 alice tls shop.example 64500 DE
in 2001:db8::9 2001:db8:1::53 17 40001 443 bob quic video.cdn.example 64501 NL
in 192.0.2.9 198.51.100.8 6 40002 80 alice http plain.example 64500 DE
in 192.0.2.9 203.0.113.5 17 40003 53 alice dns ns.example 0 -
in 2001:db8::9 2001:db8:1::80 6 40004 8080 bob dns www.shop.example 64501 NL
in 192.0.2.9 203.0.113.6 6 40005 443 - - - 0 -
out 198.51.100.7 192.0.2.9 17 443 40006 - tls push.example 64500 DE
EOF
feed() { ip netns exec "$NS" "$FEED" udp:127.0.0.1:4739 <"$TMP/feed" 2>"$TMP/feed.err"; }
capture "$TMP/feed.pcap" feed
check "feed: every record sent" "$(cat "$TMP/feed.err")" "ipfixfeed: 7 records, 7 sent, 0 failed"
WANT_FEED=$(sort <<'EOF'
17 198.51.100.7 192.0.2.9 443 40006 push.example - - 64500 0
17 192.0.2.9 203.0.113.5 40003 53 - - ns.example 0 0
17 2001:db8::9 2001:db8:1::53 40001 443 video.cdn.example - - 0 64501
6 192.0.2.9 198.51.100.7 40000 443 shop.example - - 0 64500
6 192.0.2.9 198.51.100.8 40002 80 - plain.example - 0 64500
6 192.0.2.9 203.0.113.6 40005 443 - - - 0 0
6 2001:db8::9 2001:db8:1::80 40004 8080 - - www.shop.example 0 64501
EOF
)
check "feed: ipfixDump --yaf: CERT's sslServerName, httpHost, dnsQName and the AS, record for record" \
	"$(ipfixdump_lines "$TMP/feed.pcap.ipfix")" "$WANT_FEED"
check "feed: tshark: ntop's SSL_SERVER_NAME, HTTP_HOST, DNS_QUERY and the AS, record for record" \
	"$(tshark_lines "$TMP/feed.pcap")" "$WANT_FEED"
check "feed: ipfixDump names CERT's elements and IANA's AS elements in the templates" \
	"$(ipfixDump --yaf --templates --in "$TMP/feed.pcap.ipfix" 2>&1 | awk '$1 == "ent:" && ($2 == 6871 || ($2 == 0 && ($4 == 16 || $4 == 17))) { print $2 "/" $4, $NF }' | sort -u | paste -sd,)" \
	"0/16 bgpSourceAsNumber,0/17 bgpDestinationAsNumber,6871/117 httpHost,6871/179 dnsQName,6871/294 sslServerName"

# ---- real flows through the tun: their AS from a test location database
printf '%s\n' "as 64500 Example Transit" "as 64501 Example Six" "as 64510 Example Gateway" \
	"net 198.51.100.0/24 64500 DE" "net 2001:db8:1::/48 64501 NL" "net 192.0.2.1/32 64510 SE" |
	"$GEODB" "$TMP/geo.db" || fail "geodb" "cannot write the test database"
# 192.0.2.1 is the gateway itself: the datagram to its closed port draws an ICMP error,
# a record the gateway initiated (egress), whose far side is its source
geo_traffic() {
	send "v=4,proto=udp,src=192.0.2.9,dst=198.51.100.7,sport=5000,dport=443,payload=20,count=2" \
	     "v=6,proto=udp,src=2001:db8::9,dst=2001:db8:1::53,sport=5001,dport=53,payload=20" \
	     "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.5,sport=5002,dport=9,payload=20" \
	     "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=5003,dport=9,payload=20"
}
run_tunflow() {
	local name=$1
	shift
	tf_start "$NS" "$TMP/$name.json" "$TMP/$name.err" --ipfix udp:127.0.0.1:4739 \
		--records -t 0.1 --idle-timeout 0.3 "$@" tun0 || exit 1
	geo_traffic
	sleep 0.8
	tf_stop
}
capture "$TMP/geo.pcap" run_tunflow geo --geo-db "$TMP/geo.db"
WANT_GEO=$(sort <<'EOF'
1 192.0.2.1 192.0.2.9 - 771 - - - 64510 0
17 192.0.2.9 192.0.2.1 5003 9 - - - 0 64510
17 192.0.2.9 198.51.100.7 5000 443 - - - 0 64500
17 192.0.2.9 203.0.113.5 5002 9 - - - 0 0
17 2001:db8::9 2001:db8:1::53 5001 53 - - - 0 64501
EOF
)
check "tun: ipfixDump: each record's far side in its AS (source or destination)" \
	"$(ipfixdump_lines "$TMP/geo.pcap.ipfix")" "$WANT_GEO"
check "tun: tshark: the same" "$(tshark_lines "$TMP/geo.pcap")" "$WANT_GEO"
check "tun: nothing said about the database" "$(grep -c -i 'location\|AS and country' "$TMP/geo.err")" "0"

# ---- no database: said once, in one line, and the records go out without an AS
capture "$TMP/none.pcap" run_tunflow none --geo-db "$TMP/none.db"
check "no database: one line naming it and the fix" \
	"$(grep -i 'location\|AS and country' "$TMP/none.err")" \
	"tunflow: location database $TMP/none.db: No such file or directory (give --geo-db PATH); running without AS and country"
check "no database: the records, without AS" "$(ipfixdump_lines "$TMP/none.pcap.ipfix")" \
	"$(echo "$WANT_GEO" | awk '{ $9 = 0; $10 = 0; print }' | sort)"
check "no database: tunflow exits cleanly" "$TF_RC" "0"
# a file that is not a database
echo "not a database" >"$TMP/bad.db"
capture "$TMP/bad.pcap" run_tunflow bad --geo-db "$TMP/bad.db"
check "not a database: one line naming it" \
	"$(grep -i 'location\|AS and country' "$TMP/bad.err")" \
	"tunflow: $TMP/bad.db is not a location database libloc can read (give --geo-db PATH); running without AS and country"
# --geo off: no lookups, nothing said
capture "$TMP/off.pcap" run_tunflow off --geo off --geo-db "$TMP/none.db"
check "--geo off: nothing said" "$(grep -c -i 'location\|AS and country' "$TMP/off.err")" "0"
check "--geo off: no AS" "$(ipfixdump_lines "$TMP/off.pcap.ipfix" | awk '{ print $9, $10 }' | sort -u)" "0 0"
finish

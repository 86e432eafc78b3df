#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# nfdump's nfcapd (Debian's nfdump 1.7) as tunflow's IPFIX collector: what it keeps and
# what it loses, and the recipe README gives for it. It keeps both directions of a
# biflow (the RFC 5103 reverse counters become its "out" packets and bytes), the
# interface index in and out, the direction and the end reason; it stores neither
# userName nor interfaceName, so a user's totals come from the user's addresses (the
# VPN's address pool). Tested: totals per user (by address) and per interface index,
# exact, from the default biflow records and from --uniflow ones.
SUITE=nfdump_recipe
. "$(dirname "$0")/lib.sh"
need jq
need nfcapd
need nfdump

. "$(dirname "$0")/ipfix_lib.sh"
ipfix_ns nfdump
# nfcapd_run NAME PORT TUNFLOW-ARGS...: nfcapd on 127.0.0.1:PORT in $NS writing into
# $TMP/NAME, tunflow exporting the known flows to it; tunflow's JSON in $TMP/NAME.json
nfcapd_run() {
	local name=$1 port=$2 nf
	shift 2
	mkdir -p "$TMP/$name"
	bg sh -c "exec ip netns exec '$NS' nfcapd -w '$TMP/$name' -p $port -b 127.0.0.1 >'$TMP/$name.nfcapd.log' 2>&1"
	nf=$BG
	export_through "$port" "$name" "$@"
	sleep 0.3
	kill -TERM "$nf" 2>/dev/null
	wait "$nf" 2>/dev/null
}
# nfdump_total DIR FILTER: "flows packets bytes" of the records that match, both
# directions of each record added up (nfdump's summary)
nfdump_total() {
	nfdump -R "$1" -o csv "$2" 2>/dev/null |
		awk -F, '/^flows,bytes,packets/ { getline; print $1, $3, $2 }'
}
# tunflow's own: records, packets and bytes of a user, both directions
tunflow_total() {
	jq -s -r --arg u "$2" 'map(select(.type == "record" and .user == $u))
		| [length, (map(.packets + (.rev_packets // 0)) | add), (map(.bytes + (.rev_bytes // 0)) | add)]
		| map(tostring) | join(" ")' "$1"
}

# ---- the default biflow records: the recipe
nfcapd_run bi 4739
check "biflow: tunflow's own totals: alice, bob" \
	"$(tunflow_total "$TMP/bi.json" alice), $(tunflow_total "$TMP/bi.json" bob)" \
	"4 12 832, 4 12 1112"
check "biflow: nfdump's totals per user, by the user's addresses, equal tunflow's" \
	"$(nfdump_total "$TMP/bi" 'net 192.0.2.0/24'), $(nfdump_total "$TMP/bi" 'net 2001:db8::/64')" \
	"4 12 832, 4 12 1112"
# the initiators' packets came in on tun0 for the echoes, the SYN and the datagrams
# (reverse: the answers), went out of it for the host's ICMP errors
check "biflow: nfdump's totals per interface index, in and out" \
	"$(nfdump_total "$TMP/bi" "in if $IFINDEX"), $(nfdump_total "$TMP/bi" "out if $IFINDEX")" \
	"6 20 1560, 2 4 384"
check "biflow: nfdump keeps the answers as the records' out counters" \
	"$(nfdump -R "$TMP/bi" -q -o csv 2>/dev/null | awk -F, '$8 != "" { p += $14; b += $15 } END { print p, b }')" \
	"8 664"
check "biflow: nfdump keeps direction and end reason" \
	"$(nfdump -R "$TMP/bi" -q -o raw 2>/dev/null | awk '$1 == "direction" { print "direction=" $3 }
		$1 == "end" && $2 == "reason" { print "end_reason=" $4 }' | sort | uniq -c | awk '{ print $2 "x" $1 }' | paste -sd' ')" \
	"direction=0x6 direction=1x2 end_reason=0x03x2 end_reason=0x04x6"
check "biflow: nfdump stores neither userName nor interfaceName" \
	"$(nfdump -R "$TMP/bi" -q -o raw 2>/dev/null | grep -c -i -E 'alice|bob|tun0')" "0"

# ---- --uniflow: the same totals, but each answer is a record of its own
nfcapd_run uni 4740 --uniflow
check "uniflow: nfdump's totals per user, by address, equal tunflow's" \
	"$(nfdump_total "$TMP/uni" 'net 192.0.2.0/24'), $(nfdump_total "$TMP/uni" 'net 2001:db8::/64')" \
	"$(tunflow_total "$TMP/uni.json" alice), $(tunflow_total "$TMP/uni.json" bob)"
check "uniflow: 6 records per user instead of 4, the same packets and bytes" \
	"$(tunflow_total "$TMP/uni.json" alice), $(tunflow_total "$TMP/uni.json" bob)" \
	"6 12 832, 6 12 1112"

finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# /metrics carries the naming counters next to the other losses: the kernel's name_drops
# and naming's own (dns_malformed ... names_unfollowed), each a counter with HELP text,
# exact values; with --names off, name_drops alone. promtool accepts both pages.
SUITE=metrics_naming
. "$(dirname "$0")/lib.sh"
need promtool
need busybox
need jq

tun_ns mnaming
NAMING="dns_malformed tls_malformed quic_malformed http_malformed dns_evictions names_unstored names_unfollowed"
# page FILE: the naming counters' values, "name value" a line, in the page's order
values() {
	local c
	for c in name_drops $NAMING; do
		awk -v m="tunflow_${c}_total" '$1 == m { print m, $2 }' "$1"
	done
}
scrape() {
	ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9276/metrics" >"$1"
}

tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --metrics 9276 tun0 || exit 1
# three DNS messages shorter than a DNS header: each refused as malformed
ip netns exec "$NS" "$TUNPKT" tun0 \
	"v=4,proto=udp,src=192.0.2.9,dst=203.0.113.200,sport=1000,dport=53,payload=5,count=3" 2>/dev/null
sleep 0.4
scrape "$TMP/m"
tf_stop
check "promtool accepts the page" "$(promtool check metrics <"$TMP/m" 2>&1; echo "rc=$?")" "rc=0"
check "the naming counters, exact values" "$(values "$TMP/m")" "tunflow_name_drops_total 0
tunflow_dns_malformed_total 3
tunflow_tls_malformed_total 0
tunflow_quic_malformed_total 0
tunflow_http_malformed_total 0
tunflow_dns_evictions_total 0
tunflow_names_unstored_total 0
tunflow_names_unfollowed_total 0"
check "the same as the JSON counters" \
	"$(jq -r -s --arg n "name_drops $NAMING" 'map(select(.type == "counters")) | last as $c
		| $n | split(" ")[] | "tunflow_\(.)_total \($c[.])"' "$TMP/out.json")" "$(values "$TMP/m")"
check "each a counter with HELP text" \
	"$(for c in name_drops $NAMING; do
		grep -c "^# TYPE tunflow_${c}_total counter\$" "$TMP/m"
		grep -c "^# HELP tunflow_${c}_total [A-Z].*\.\$" "$TMP/m"
	done | sort | uniq -c | sed 's/^ *//')" "16 1"
check "next to the other losses" \
	"$(grep -E '^tunflow_[a-z_]+' "$TMP/m" | sed 's/[{ ].*//' | uniq |
		grep -A1 -x tunflow_unaccounted_packets_total | tail -1)" "tunflow_name_drops_total"

# --names off: the kernel's name_drops, no naming counters
tf_start "$NS" "$TMP/off.json" "$TMP/off.err" -o json -t 0.1 --metrics 9276 --names off tun0 || exit 1
ip netns exec "$NS" "$TUNPKT" tun0 \
	"v=4,proto=udp,src=192.0.2.9,dst=203.0.113.200,sport=1000,dport=53,payload=5,count=3" 2>/dev/null
sleep 0.4
scrape "$TMP/off"
tf_stop
check "--names off: promtool accepts the page" "$(promtool check metrics <"$TMP/off" 2>&1; echo "rc=$?")" "rc=0"
check "--names off: name_drops alone" "$(values "$TMP/off")" "tunflow_name_drops_total 0"
finish

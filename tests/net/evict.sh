#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The bound on user space's tables (--max-table-flows): a port scan from one tunnel ends
# the longest idle flows and records as "evicted" (IPFIX flowEndReason 5), exactly as
# many as went past the bound, each with its exact packets; the counter says so in
# JSON, CSV, the table's footer and /metrics; memory stays bounded.
SUITE=evict
. "$(dirname "$0")/lib.sh"
need jq
need busybox
need ipfixDump
need nc.openbsd

tun_ns evict
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
# SYNs from 192.0.2.9 to an address with no route: counted on ingress, never answered
# scan FIRST-SPORT N [PPS]: N flows of one packet (40 bytes) each, sport FIRST.., in order
scan() {
	ip netns exec "$NS" "$TUNPKT" tun0 ${3:+--pps $3} \
		"v=4,proto=tcp,flags=2,src=192.0.2.9,dst=198.51.100.1,sport=$1,dport=80,flows=$2,count=$2" \
		2>/dev/null
}
recs() { jq -c -s "map(select(.type == \"record\" and ($2)) | $3)" "$1"; }
counters() { jq -c -s 'map(select(.type == "counters" and .final)) | last | .evicted' "$1"; }

# Records: 100 open at the bound; then 50 more evict the 50 sent first.
tf_start "$NS" "$TMP/r.json" "$TMP/r.err" --records -d ingress -t 0.1 --max-table-flows 100 tun0 || exit 1
scan 10000 100
sleep 0.3
scan 20000 50
sleep 0.3
tf_stop
check "records: the 50 idle longest ended evicted, one packet each" \
	"$(recs "$TMP/r.json" '.end_reason == "evicted"' '[.sport, .packets, .bytes]' | jq -c '[length, (map(.[0]) | min), (map(.[0]) | max), (map(.[1]) | add), (map(.[2]) | add)]')" \
	'[50,10000,10049,50,2000]'
check "records: the other 100 open until exit" \
	"$(recs "$TMP/r.json" '.end_reason == "tunflow exit"' '.sport' | jq -c '[length, (map(select(. >= 10050 and . < 10100 or . >= 20000 and . < 20050)) | length)]')" \
	'[100,100]'
check "records: every packet in exactly one record" "$(recs "$TMP/r.json" 'true' '.packets' | jq -c '[length, add]')" '[150,150]'
check "counters: 50 flows and 50 records evicted" "$(counters "$TMP/r.json")" 100

# Flows (no records): the evicted flows reported once more, with "end":"evicted".
tf_start "$NS" "$TMP/f.json" "$TMP/f.err" -o json -d ingress -t 0.1 --max-table-flows 100 tun0 || exit 1
scan 10000 100
sleep 0.3
scan 20000 50
sleep 0.3
tf_stop
check "flows: the 50 idle longest reported once more as evicted" \
	"$(jq -c -s 'map(select(.type == "flow" and .end == "evicted") | .sport) | [length, min, max, (unique | length)]' "$TMP/f.json")" \
	'[50,10000,10049,50]'
check "flows: every packet reported once" "$(flow_sum "$TMP/f.json" packets true)" 150
check "counters: 50 flows evicted" "$(counters "$TMP/f.json")" 50

# The table's footer and /metrics.
tf_start "$NS" "$TMP/t.txt" "$TMP/t.err" -o table -d ingress -t 0.1 --max-table-flows 100 \
	--metrics 9274 tun0 || exit 1
scan 10000 100
sleep 0.3
scan 20000 50
sleep 0.3
check "metrics: tunflow_evicted_total" \
	"$(ip netns exec "$NS" timeout 5 busybox wget -q -O - http://127.0.0.1:9274/metrics | grep '^tunflow_evicted_total')" \
	"tunflow_evicted_total 50"
tf_stop
check "table: the footer shows evicted" "$(grep '^not in flows' "$TMP/t.txt" | tail -1)" "not in flows: evicted 50"

# IPFIX: the evicted records end with flowEndReason 5 (lack of resources), the others
# at exit with 4 (forced end). A TCP collector that keeps what it is sent.
bg sh -c "exec ip netns exec '$NS' nc.openbsd -d -l 127.0.0.1 4740 >'$TMP/x.ipfix'"
COLLECTOR=$BG
for _ in $(seq 50); do
	ip netns exec "$NS" ss -Hltn 'sport = :4740' | grep -q . && break
	sleep 0.1
done
tf_start "$NS" "$TMP/x.json" "$TMP/x.err" -o json -d ingress -t 0.1 --max-table-flows 100 \
	--ipfix tcp:127.0.0.1:4740 tun0 || exit 1
scan 10000 100
sleep 0.3
scan 20000 50
sleep 0.3
tf_stop
sleep 0.3
kill "$COLLECTOR" 2>/dev/null
wait "$COLLECTOR" 2>/dev/null
check "ipfix: 50 records with flowEndReason 5, 100 with 4" \
	"$(ipfixDump --in "$TMP/x.ipfix" 2>&1 | grep -o 'flowEndReason *: *[0-9]*' | grep -o '[0-9]*$' | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" \
	"4:100 5:50 "

# The default bound: 4 x --max-flows.
tf_start "$NS" "$TMP/d.json" "$TMP/d.err" -o json -d ingress -t 0.1 --max-flows 16 tun0 || exit 1
scan 30000 100 100
sleep 0.3
tf_stop
check "default bound 4 x 16: 36 of 100 flows evicted, none lost to map_full" \
	"$(jq -c -s 'map(select(.type == "counters" and .final)) | last | [.evicted, .map_full]' "$TMP/d.json")" \
	'[36,0]'

# A scan of 30000 ports through a bound of 1000, CSV: memory stays bounded.
tf_start "$NS" "$TMP/s.csv" "$TMP/s.err" -o csv -d ingress -t 0.1 --max-table-flows 1000 tun0 || exit 1
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$TF/status")
scan 1 30000 20000
sleep 0.3
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$TF/status")
tf_stop
check "csv: 29000 records evicted, 1000 open at exit, 30000 packets" \
	"$(awk -F, 'NR > 1 {n[$4]++; p += $17} END {print n["evicted"] + 0, n["tunflow exit"] + 0, p + 0}' "$TMP/s.csv")" \
	"29000 1000 30000"
check "csv: the counter on stderr at exit" "$(grep -o 'evicted [0-9]*' "$TMP/s.err")" "evicted 58000"
grown=$(( (hwm - rss0) / 1024 ))
if [ "$grown" -lt 6 ]; then ok "memory: peak RSS grew ${grown} MiB (< 6)"; else fail "memory: peak RSS" "grew ${grown} MiB, want < 6"; fi
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Prometheus /metrics, scraped while tunflow runs: promtool accepts the exposition,
# the byte and packet counters match the traffic exactly, the top destinations are the
# right ones, and the number of series stays the same with 5000 destinations.
SUITE=metrics
. "$(dirname "$0")/lib.sh"
need jq
need busybox
need promtool

tun_ns met
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$@" 2>/dev/null; }
scrape() { ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9273/metrics"; }
metric() { grep -v '^#' "$2" | grep -F "$1 " | awk '{print $NF}'; }

tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --metrics 9273 --metrics-top 10 tun0 ||
	exit 1
# 3 echo requests and their replies; 20 packets of 120 bytes to one address; one
# 68-byte packet to each of 5000 IPv6 destinations
send "v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=3"
send "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.200,sport=1000,dport=53,payload=92,count=20"
sleep 0.3
scrape >"$TMP/small"
send "v=6,proto=udp,src=2001:db8::9,dst=2001:db8:1::1,sport=1000,dport=53,payload=20,count=5000,dsts=5000"
sleep 0.4
scrape >"$TMP/m"
tf_stop
check "promtool check metrics" "$(promtool check metrics <"$TMP/m" 2>&1; echo "rc=$?")" "rc=0"
check "bytes in: 252 + 2400 + 5000 x 68" \
	"$(metric 'tunflow_bytes_total{interface="tun0",direction="ingress",user=""}' "$TMP/m")" 342652
check "packets in" \
	"$(metric 'tunflow_packets_total{interface="tun0",direction="ingress",user=""}' "$TMP/m")" 5023
check "bytes out: the echo replies" \
	"$(metric 'tunflow_bytes_total{interface="tun0",direction="egress",user=""}' "$TMP/m")" 252
check "flows in the table" "$(metric tunflow_flows "$TMP/m")" 5003
check "top destination" "$(grep -m1 '^tunflow_top_destination_bytes' "$TMP/m")" \
	'tunflow_top_destination_bytes{address="203.0.113.200",name=""} 2400'
check "exactly 10 destinations shown of 5002" "$(grep -c '^tunflow_top_destination_bytes' "$TMP/m")" 10
check "series: as many with 5000 destinations as before them (bounded)" \
	"$(grep -vc '^#' "$TMP/m")" "$(( $(grep -vc '^#' "$TMP/small") + 10 - $(grep -c '^tunflow_top_destination_bytes' "$TMP/small") ))"
check "loss counters exposed, all zero" \
	"$(grep '^tunflow_unaccounted_packets_total' "$TMP/m" | awk '{s += $NF; n++} END {print n, s}')" "9 0"
# (asked until the server listens: its start may take a while on a busy machine)
check "not found elsewhere" \
	"$(ip netns exec "$NS" "$TUNFLOW" -q --duration 3 --metrics 9274 tun0 >/dev/null &
	   for _ in $(seq 50); do
		sleep 0.05
		r=$(ip netns exec "$NS" timeout 5 busybox wget -q -O - http://127.0.0.1:9274/ 2>&1)
		[[ "$r" == *"Connection refused"* ]] || break
	   done; echo "$r"; wait)" \
	"wget: server returned error: HTTP/1.1 404 Not Found"
# the Grafana dashboard: its queries parse (promtool) and name only metrics served here
DASH=$TOP/docs/grafana/tunflow-dashboard.json
{
	echo "groups:"
	echo "- name: dashboard"
	echo "  rules:"
	jq -r '.panels[].targets[].expr' "$DASH" | sed 's/\$__rate_interval/1m/g; s/\$instance/.*/g' |
		awk '{ gsub(/"/, "\\\""); printf "  - record: dashboard_q%d\n    expr: \"%s\"\n", NR, $0 }'
} >"$TMP/rules.yml"
check "dashboard queries parse" "$(promtool check rules "$TMP/rules.yml" >/dev/null 2>&1; echo $?)" 0
missing=""
for name in $(jq -r '.panels[].targets[].expr' "$DASH" | grep -o 'tunflow_[a-z_]*' | sort -u); do
	grep -q "^$name[{ ]" "$TMP/m" || missing="$missing $name"
done
check "dashboard names only served metrics" "${missing:-none}" none
finish

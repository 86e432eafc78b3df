#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Per-user series are bounded on a shared tunnel (OpenVPN's tun0 carries every user):
# a user with no traffic for --metrics-user-idle loses the series, counted in
# tunflow_metrics_user_series_dropped_total; one who comes back starts from 0 (a counter
# reset to Prometheus). Interface series without a user stay.
SUITE=metrics_series
. "$(dirname "$0")/lib.sh"
need busybox

tun_ns mseries
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
printf '192.0.2.10 alice\n192.0.2.11 bob\n192.0.2.12 carol\n' >"$TMP/users"
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --metrics 9273 \
	--metrics-user-idle 1 --user-map "$TMP/users" tun0 || exit 1
# 100 bytes a packet
send() { ip netns exec "$NS" "$TUNPKT" tun0 \
	"v=4,proto=udp,src=$1,dst=203.0.113.200,sport=1000,dport=53,payload=72,count=$2" 2>/dev/null; }
scrape() { ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9273/metrics"; }
users() { grep '^tunflow_bytes_total' "$1" | grep -o 'user="[^"]*"} [0-9]*' | sort | paste -sd' '; }
send 192.0.2.10 1
send 192.0.2.11 2
send 198.51.100.1 1
sleep 0.3
scrape >"$TMP/m1"
check "three series: alice, bob and no user" "$(users "$TMP/m1")" \
	'user=""} 100 user="alice"} 100 user="bob"} 200'
# carol keeps sending for 1.6 s; alice and bob are idle
for _ in $(seq 8); do send 192.0.2.12 1; sleep 0.2; done
scrape >"$TMP/m2"
check "idle users' series gone, the active one there" "$(users "$TMP/m2")" \
	'user=""} 100 user="carol"} 800'
check "two series dropped" \
	"$(awk '$1 == "tunflow_metrics_user_series_dropped_total" {print $2}' "$TMP/m2")" 2
send 192.0.2.10 3
sleep 0.3
scrape >"$TMP/m3"
check "alice back: her series starts again from 0" \
	"$(users "$TMP/m3" | grep -o 'user="alice"} [0-9]*')" 'user="alice"} 300'
tf_stop
finish

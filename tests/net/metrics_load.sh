#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# /metrics stays up under connection abuse: 500 idle connections (10 from each of 50
# addresses) and 16 slow clients (one header byte every 2 s, from one address) are
# held while another client scrapes once a second, and every scrape succeeds. The slow
# clients are cut at the 10 s request deadline however often they send a byte, and an
# address gets no more than 16 connections.
SUITE=metrics_load
. "$(dirname "$0")/lib.sh"
need curl
CONNHOLD=$TOP/build/connhold

tun_ns mload
for i in $(seq 1 60) 100; do echo "addr add 198.51.100.$i/32 dev lo"; done >"$TMP/addrs"
ip -n "$NS" -batch "$TMP/addrs"
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.2 --metrics 198.51.100.1:9273 tun0 ||
	exit 1
scrape() {
	ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
		--interface 198.51.100.2 http://198.51.100.1:9273/metrics
}

# one address, 20 connections: 16 are held
check "an address holds 16 connections at most" \
	"$(ip netns exec "$NS" "$CONNHOLD" -i 20 -d 2.5 198.51.100.1 9273 198.51.100.60 |
	   grep max_open)" "max_open=16"

srcs=$(for i in $(seq 10 59); do echo 198.51.100.$i; done)
bg ip netns exec "$NS" "$CONNHOLD" -i 500 -d 26 198.51.100.1 9273 $srcs >"$TMP/idle"
bg ip netns exec "$NS" "$CONNHOLD" -l 16 -e 2 -d 26 198.51.100.1 9273 198.51.100.100 >"$TMP/slow"
sleep 3
for _ in $(seq 20); do
	scrape
	sleep 1
done >"$TMP/codes"
wait "${PIDS[-2]}" "${PIDS[-1]}"
check "20 of 20 scrapes answered 200 while the others held on" \
	"$(sort "$TMP/codes" | uniq -c | awk '{print $1 "x" $2}' | paste -sd' ')" "20x200"
check "500 idle connections held at once" "$(grep max_open "$TMP/idle")" "max_open=500"
check "16 slow clients held at once" "$(grep max_open "$TMP/slow")" "max_open=16"
# every 2 s a byte, for 26 s: closed at 10 s (plus the watchdog's 0.25 s tick), never
# kept alive by the bytes
check "slow clients cut at the 10 s deadline" "$(grep slow_longest "$TMP/slow")" \
	"slow_longest=11"
check "deadline closes counted" \
	"$(ip netns exec "$NS" curl -s --max-time 5 http://198.51.100.1:9273/metrics |
	   awk '$1 == "tunflow_metrics_deadline_closes_total" {print ($2 >= 32 ? "yes" : $2)}')" yes
tf_stop
check "exit status" "$TF_RC" 0
finish

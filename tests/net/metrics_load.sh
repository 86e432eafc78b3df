#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# /metrics stays up under connection abuse: 500 idle connections (10 from each of 50
# addresses) and 16 slow clients (one header byte every 2 s, from one address) are
# held while another client scrapes once a second, and every scrape succeeds. The slow
# clients are cut at the 10 s request deadline however often they send a byte, while a
# scraper that keeps its connection alive is not; an address gets no more than 16
# connections.
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
# a kept-alive scraper, one request every 8.6 s on one connection: never cut
bg ip netns exec "$NS" curl -s --max-time 30 --rate 7/m --interface 198.51.100.3 \
	-w '%{http_code}:%{num_connects} ' $(printf -- '-o /dev/null http://198.51.100.1:9273/metrics %.0s' 1 2 3) \
	>"$TMP/keepalive"
for _ in $(seq 20); do
	scrape
	sleep 1
done >"$TMP/codes"
wait "${PIDS[-3]}" "${PIDS[-2]}" "${PIDS[-1]}"
check "a kept-alive scraper's 3 requests 8.6 s apart: one connection, all 200" \
	"$(cat "$TMP/keepalive")" "200:1 200:0 200:0 "
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

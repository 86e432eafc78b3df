#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# /metrics top destinations carry the name the flows reached each remote address by:
# one series per address and name (an address serving two sites is two destinations),
# still --metrics-top series in all; a name is escaped as the text format wants, and
# promtool accepts the page. Flows with names are fed to the metrics sink directly
# (build/metricsfeed), as the pipeline hands them over once names are captured.
SUITE=metrics_dest
. "$(dirname "$0")/lib.sh"
need promtool
need busybox
FEED=$TOP/build/metricsfeed

ns_new mdest
# in|out SRC DST BYTES NAME ("-": none); egress: the far side is the source
printf '%s\n' \
	"in 192.0.2.9 198.51.100.7 5000 shop.example" \
	"in 192.0.2.10 198.51.100.7 3000 shop.example" \
	"in 192.0.2.9 198.51.100.7 4000 blog.example" \
	"in 192.0.2.9 198.51.100.7 1000 -" \
	"out 203.0.113.5 192.0.2.9 6000 cdn.example" \
	"in 2001:db8::9 2001:db8:1::53 7000 video.cdn.example" \
	"in 192.0.2.9 203.0.113.9 500 $(printf 'a"b\\c\377')" >"$TMP/flows"
# serve TOP: the page for the flows with --metrics-top TOP into $TMP/m
serve() {
	rm -f "$TMP/feed.out"
	bg sh -c "exec ip netns exec '$NS' '$FEED' 9277 $1 <'$TMP/flows' >'$TMP/feed.out'"
	local pid=$BG
	for _ in $(seq 100); do
		grep -q ready "$TMP/feed.out" 2>/dev/null && break
		sleep 0.05
	done
	ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9277/metrics" >"$TMP/m"
	kill -TERM "$pid"
	wait "$pid"
}
serve 10
check "promtool accepts the page" "$(promtool check metrics <"$TMP/m" 2>&1; echo "rc=$?")" "rc=0"
check "each address and name a destination, most bytes first, the name escaped" \
	"$(grep '^tunflow_top_destination_bytes' "$TMP/m")" \
	'tunflow_top_destination_bytes{address="198.51.100.7",name="shop.example"} 8000
tunflow_top_destination_bytes{address="2001:db8:1::53",name="video.cdn.example"} 7000
tunflow_top_destination_bytes{address="203.0.113.5",name="cdn.example"} 6000
tunflow_top_destination_bytes{address="198.51.100.7",name="blog.example"} 4000
tunflow_top_destination_bytes{address="198.51.100.7",name=""} 1000
tunflow_top_destination_bytes{address="203.0.113.9",name="a\"b\\c\\xff"} 500'
serve 3
check "--metrics-top 3: three series" "$(grep '^tunflow_top_destination_bytes' "$TMP/m")" \
	'tunflow_top_destination_bytes{address="198.51.100.7",name="shop.example"} 8000
tunflow_top_destination_bytes{address="2001:db8:1::53",name="video.cdn.example"} 7000
tunflow_top_destination_bytes{address="203.0.113.5",name="cdn.example"} 6000'
finish

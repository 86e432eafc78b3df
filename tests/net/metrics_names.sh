#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# One odd name never makes the Prometheus page unparsable: a user name (from --user-map)
# with invalid UTF-8, an ESC byte, a quote and a backslash, and an interface whose name
# has such bytes, come out as valid UTF-8 with the bytes shown as \xHH, and escaped as
# the text format wants; promtool accepts the page.
SUITE=metrics_names
. "$(dirname "$0")/lib.sh"
need promtool
need busybox

tun_ns mnames
# an interface named t, 0xff, ESC, a quote, a backslash
ODD=$(printf 't\377\033"\\')
ip -n "$NS" tuntap add mode tun name "$ODD"
ip -n "$NS" link set "$ODD" up
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
printf '192.0.2.9 ev\033[2Jil\377"q\\\n' >"$TMP/users"
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --metrics 9273 \
	--user-map "$TMP/users" tun0 't*' || exit 1
ip netns exec "$NS" "$TUNPKT" tun0 \
	"v=4,proto=udp,src=192.0.2.9,dst=203.0.113.200,sport=1000,dport=53,payload=92,count=3" 2>/dev/null
ip netns exec "$NS" "$TUNPKT" "$ODD" \
	"v=4,proto=udp,src=198.51.100.9,dst=203.0.113.200,sport=1000,dport=53,payload=12,count=2" 2>/dev/null
sleep 0.4
ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9273/metrics" >"$TMP/m"
tf_stop
check "promtool accepts the page" "$(promtool check metrics <"$TMP/m" 2>&1; echo "rc=$?")" "rc=0"
check "the page is valid UTF-8 without control bytes" \
	"$(LC_ALL=C grep -c $'[\x01-\x09\x0b-\x1f\x7f\x80-\xff]' "$TMP/m")" 0
check "the user's series, name cleaned and escaped" \
	"$(grep -F 'tunflow_bytes_total{interface="tun0",direction="ingress",user="ev\\x1b[2Jil\\xff\"q\\"}' "$TMP/m" | awk '{print $NF}')" 360
check "the interface's series, name cleaned and escaped" \
	"$(grep -F 'tunflow_packets_total{interface="t\\xff\\x1b\"\\",direction="ingress",user=""}' "$TMP/m" | awk '{print $NF}')" 2
finish

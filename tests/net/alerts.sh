#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The example Prometheus alerting rules (docs/grafana/tunflow-alerts.yml): promtool
# accepts them, its unit test (tests/net/alerts.test.yml) gets exactly the alerts it
# expects from the series it feeds (and not with a threshold changed), and every metric
# the rules name is served by a running tunflow.
SUITE=alerts
. "$(dirname "$0")/lib.sh"
need promtool
need busybox

RULES=$TOP/docs/grafana/tunflow-alerts.yml
check "promtool check rules" \
	"$(promtool check rules "$RULES" 2>&1 | grep -o "SUCCESS: [0-9]* rules found")" "SUCCESS: 11 rules found"
check "promtool test rules: every expected alert, exactly" \
	"$(cd "$TOP/tests/net" && promtool test rules alerts.test.yml >"$TMP/unit.out" 2>&1; echo $?)" "0"
# the same test against rules with the user threshold at 1 Gbit/s: alice's 200 Mbit/s
# no longer fires, and the test says so
mkdir -p "$TMP/docs/grafana" "$TMP/tests/net"
sed 's/\* 8 > 100e6/* 8 > 1000e6/' "$RULES" >"$TMP/docs/grafana/tunflow-alerts.yml"
cp "$TOP/tests/net/alerts.test.yml" "$TMP/tests/net/"
check "promtool test rules fails when a rule changes" \
	"$(cd "$TMP/tests/net" && promtool test rules alerts.test.yml 2>&1 | grep -c 'alertname: TunflowUserHighRate, time: 20m')" "1"

# a running tunflow's /metrics (with an IPFIX exporter, so its series are there too)
tun_ns alerts
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --metrics 9276 \
	--ipfix 127.0.0.1:4739 tun0 || exit 1
ip netns exec "$NS" "$TUNPKT" tun0 "v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=1" 2>/dev/null
sleep 0.3
ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9276/metrics" >"$TMP/m"
tf_stop
names=$(grep -o 'tunflow_[a-z_]*' "$RULES" | sort -u)
check "the rules name 11 of tunflow's metrics" "$(echo "$names" | wc -l)" "11"
missing=""
for name in $names; do
	grep -q "^$name[{ ]" "$TMP/m" || missing="$missing $name"
done
check "every metric the rules name is served" "${missing:-none}" none
check "the labels they group by are served: reason, user, direction" \
	"$(grep -c -E '^tunflow_unaccounted_packets_total\{reason="map_full"\}|^tunflow_bytes_total\{interface="tun0",direction="ingress",user=""\}' "$TMP/m")" "2"
finish

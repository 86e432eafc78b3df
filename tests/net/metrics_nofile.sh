#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# More descriptors than select() can handle: under a soft limit of 1024 (the common
# default), tunflow watches 520 interfaces in tcx mode (two links each: over 1040
# descriptors), and /metrics still answers, since tunflow raises its soft limit to the
# hard one and its server polls with epoll.
SUITE=metrics_nofile
. "$(dirname "$0")/lib.sh"
need busybox

N=520
ns_new nofile
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
for i in $(seq 0 $((N - 1))); do
	echo "tuntap add mode tun name s$i"
	echo "link set s$i up"
done >"$TMP/up.batch"
ip -n "$NS" -batch "$TMP/up.batch"
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt 4096 ]; then
	fail "prerequisite" "the hard descriptor limit is $(ulimit -Hn); this test needs 4096"
	finish
fi
bg bash -c "ulimit -Sn 1024 && exec ip netns exec $NS $TUNFLOW -o json -t 0.5 --attach tcx \
	--metrics 9273 's*'" >"$TMP/out.json" 2>"$TMP/err"
TF=$BG
for _ in $(seq 1200); do
	grep -q "tunflow: ready" "$TMP/err" && break
	kill -0 "$TF" 2>/dev/null || break
	sleep 0.1
done
check "started" "$(grep -c 'tunflow: ready' "$TMP/err")" 1
check "all $N interfaces watched" "$(grep -c '^tunflow: watching s' "$TMP/err")" $N
check "more than 1024 descriptors open" \
	"$(ls /proc/"$(pgrep -P "$TF" -x tunflow || echo "$TF")"/fd 2>/dev/null | wc -l |
	   awk '{print ($1 > 1040 ? "yes" : $1)}')" yes
ip netns exec "$NS" "$TUNPKT" s7 \
	"v=4,proto=udp,src=203.0.113.7,dst=198.51.100.1,sport=1000,dport=53,payload=32" 2>/dev/null
sleep 1.2
check "/metrics answers, with the packet" \
	"$(ip netns exec "$NS" timeout 5 busybox wget -q -O - http://127.0.0.1:9273/metrics |
	   grep -F 'tunflow_bytes_total{interface="s7",direction="ingress",user=""}' | awk '{print $NF}')" 60
tf_stop
check "exit status" "$TF_RC" 0
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tunflow run from a config file (--config): the interface, output and metrics come
# from the file and the packets are counted exactly; -o none writes nothing on stdout
# while /metrics shows the packets and the log the final totals and loss counters;
# SIGHUP applies a runtime key (interval) and names a restart-only one; a config file
# others may write, and a bad key, are refused with one line and exit status 2.
SUITE=config
. "$(dirname "$0")/lib.sh"
need jq
need busybox

tun_ns cfg
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$@" 2>/dev/null; }
scrape() { ip netns exec "$NS" timeout 5 busybox wget -q -O - "http://127.0.0.1:9283/metrics"; }
metric() { grep -v '^#' "$2" | grep -F "$1 " | awk '{print $NF}'; }
# wait_for FILE TEXT: until FILE holds the line TEXT (5 s at most)
wait_for() {
	for _ in $(seq 100); do
		grep -qxF "$2" "$1" && return 0
		sleep 0.05
	done
}

CONF=$TMP/tunflow.conf
cat >"$CONF" <<CONF
# a service: no flow stream, /metrics only
interface = tun0
output = none
interval = 0.1
metrics = 127.0.0.1:9283
metrics-top = 5
CONF
chmod 0644 "$CONF"

# -o none from the file: 30 packets of 120 bytes in, 2 malformed (IHL 3) on top
tf_start "$NS" "$TMP/out" "$TMP/err" --config "$CONF" || exit 1
send "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.7,sport=1000,dport=53,payload=92,count=30"
send "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.7,sport=1000,dport=53,payload=92,count=2,ihl=3"
sleep 0.4
scrape >"$TMP/m"
kill -HUP "$TF"
wait_for "$TMP/err" "tunflow: re-read $CONF: nothing changed"
tf_stop
check "exit status" "$TF_RC" 0
check "-o none: nothing on stdout" "$(stat -c %s "$TMP/out")" 0
check "the interface from the file is watched" "$(grep -c 'tunflow: ready, 1 interface$' "$TMP/err")" 1
check "/metrics: packets in" \
	"$(metric 'tunflow_packets_total{interface="tun0",direction="ingress",user=""}' "$TMP/m")" 30
check "/metrics: bytes in" \
	"$(metric 'tunflow_bytes_total{interface="tun0",direction="ingress",user=""}' "$TMP/m")" 3600
check "SIGHUP with an unchanged file" \
	"$(grep -c "^tunflow: re-read $CONF: nothing changed$" "$TMP/err")" 1
check "final totals in the log" "$(grep '^tunflow: final:' "$TMP/err")" \
	"tunflow: final: 30 packets, 3600 bytes in 1 flows"
check "final loss counters in the log" "$(grep '^tunflow: not in flows:' "$TMP/err")" \
	"tunflow: not in flows: bad_ihl 2"

# SIGHUP: interval 0.1 -> 3600 applied (no harvest after it), metrics-top named. The
# command line's -o json wins over the file's none.
tf_start "$NS" "$TMP/out2" "$TMP/err2" --config "$CONF" -o json --metrics 9284 || exit 1
send "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.7,sport=1000,dport=53,payload=92,count=3"
sleep 0.5
before=$(flow_sum "$TMP/out2" packets '.dst == "203.0.113.7"')
sed -i 's/^interval = 0.1$/interval = 3600/; s/^metrics-top = 5$/metrics-top = 7/' "$CONF"
kill -HUP "$TF"
wait_for "$TMP/err2" "tunflow: metrics-top changed in $CONF: takes effect after a restart"
send "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.8,sport=1000,dport=53,payload=92,count=5"
sleep 1
after=$(flow_sum "$TMP/out2" packets '.dst == "203.0.113.8"')
tf_stop
check "-o json on the command line wins: harvested at 0.1 s before SIGHUP" "$before" 3
check "SIGHUP: the changes, one line each" "$(grep ' changed in ' "$TMP/err2")" \
	"tunflow: interval changed in $CONF: applied
tunflow: metrics-top changed in $CONF: takes effect after a restart"
check "interval 3600 applied: no harvest in the second after SIGHUP" "$after" 0
check "the final report counts the 5 packets" \
	"$(flow_sum "$TMP/out2" packets '.dst == "203.0.113.8"')" 5

# refused files: one line, exit status 2, nothing started
chmod 0666 "$CONF"
ip netns exec "$NS" "$TUNFLOW" --config "$CONF" >"$TMP/out3" 2>"$TMP/err3"
check "writable by others: exit status" "$?" 2
check "writable by others: one line" "$(cat "$TMP/err3")" \
	"tunflow: the config file: $CONF is writable by anyone (mode 0666): chmod o-w $CONF"
chmod 0644 "$CONF"
printf 'interface = tun0\ninterval = 1\nintreval = 2\n' >"$CONF"
ip netns exec "$NS" "$TUNFLOW" --config "$CONF" >"$TMP/out3" 2>"$TMP/err3"
check "bad key: exit status" "$?" 2
check "bad key: FILE:LINE" "$(cat "$TMP/err3")" \
	"tunflow: $CONF:3: unknown key 'intreval': every long option without its '--' is a key (see --help)"
finish

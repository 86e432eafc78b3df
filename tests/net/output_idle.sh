#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# An output that fails ends tunflow cleanly: `| head -c1` (its reader goes: seen at
# once, even when tunflow has nothing more to write) and a full disk (/dev/full). Each
# time: exit status 3, the cause on stderr, the final counters on stderr, and tc filters
# detached (--attach tc, which a killed tunflow would leave behind).
SUITE=output_idle
. "$(dirname "$0")/lib.sh"

ns_new output
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" tuntap add mode tun name tun0
ip -n "$NS" addr add 192.0.2.1/24 dev tun0
ip -n "$NS" link set tun0 up
send() {
	ip netns exec "$NS" "$TUNPKT" tun0 \
		"v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=3" 2>/dev/null
}
filters() { ip netns exec "$NS" tc filter show dev tun0 "$1" | grep -c tunflow; }
# wait_gone PID SECONDS: 1 when the process ended in time
wait_gone() {
	for _ in $(seq $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || { echo 1; return; }
		sleep 0.05
	done
	echo 0
}

# JSON into a pipe whose reader takes one byte and goes; no traffic after that
bg sh -c "{ ip netns exec '$NS' '$TUNFLOW' --attach tc -o json -t 0.1 tun0 2>'$TMP/e1' &
	   echo \$! >'$TMP/pid1'; wait \$!; echo \$? >'$TMP/rc1'; } | head -c1 >'$TMP/h1'"
for _ in $(seq 100); do
	grep -q "tunflow: ready" "$TMP/e1" 2>/dev/null && break
	sleep 0.05
done
PIDS+=("$(cat "$TMP/pid1")") # tunflow itself, for teardown
check "pipe: filters attached" "$(filters ingress) $(filters egress)" "1 1"
send
for _ in $(seq 40); do # head has its byte and goes
	[ -s "$TMP/h1" ] && break
	sleep 0.05
done
check "pipe: tunflow ends within 2 s of its reader, without writing again" \
	"$(for _ in $(seq 40); do [ -s "$TMP/rc1" ] && break; sleep 0.05; done; [ -s "$TMP/rc1" ] && echo 1 || echo 0)" 1
check "pipe: exit status 3" "$(cat "$TMP/rc1" 2>/dev/null)" 3
check "pipe: the cause on stderr" "$(grep -c '^tunflow: stopped: standard output failed: Broken pipe$' "$TMP/e1")" 1
check "pipe: final counters on stderr" \
	"$(grep -c '^tunflow: final: 6 packets, 504 bytes in 2 flows$' "$TMP/e1")" 1
check "pipe: filters detached" "$(filters ingress) $(filters egress)" "0 0"

# CSV to a full disk
tf_start "$NS" /dev/full "$TMP/e2" --attach tc -o csv -t 0.1 tun0 || fail "start csv" "$(cat "$TMP/e2")"
send
check "/dev/full: tunflow ends" "$(wait_gone "$TF" 3)" 1
wait "$TF"
check "/dev/full: exit status 3" "$?" 3
check "/dev/full: the cause on stderr" \
	"$(grep -c '^tunflow: stopped: standard output failed: No space left on device$' "$TMP/e2")" 1
check "/dev/full: filters detached" "$(filters ingress) $(filters egress)" "0 0"
finish

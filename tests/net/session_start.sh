#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Attribution at session start: a new vpnsN carries packets before the VPN server runs
# its connect script (the kernel's own IPv6 multicast listener reports, say). Flows on
# an interface that young wait for its session, so their first line already names the
# user; flows whose session never comes are reported, without a user, after the wait.
SUITE=session_start
. "$(dirname "$0")/lib.sh"
need jq
HOOK=$TOP/scripts/tunflow-session-hook
S=$TMP/run/sessions
hook() { # EVENT ID USER DEV ADDR: as ocserv runs it, in the server's namespace
	ip netns exec "$NS" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" REASON="$1" ID="$2" \
		USERNAME="$3" DEVICE="$4" IP_REMOTE="$5" IP_REAL=198.51.100.2 sh "$HOOK"
}
newtun() { # NAME ADDR
	ip -n "$NS" tuntap add mode tun name "$1"
	ip -n "$NS" addr add "$2/32" dev "$1"
	ip -n "$NS" link set "$1" up
}
send() { # DEV SRC COUNT
	ip netns exec "$NS" "$TUNPKT" "$1" "v=4,proto=udp,src=$2,dst=203.0.113.5,sport=5000,dport=53,count=$3" 2>/dev/null
}

ns_new srv
mkdir -m 0700 "$TMP/run"
# the sessions file exists from the start (the hook made it at an earlier connect)
hook connect 0 earlier vpns9 192.0.2.99 2>/dev/null
tf_start "$NS" "$TMP/out" "$TMP/err" -o json -t 0.2 --sessions "$S" 'vpns*' ||
	fail "start" "$(cat "$TMP/err")"

# alice: her interface sends before the connect script has run
newtun vpns0 192.0.2.1
sleep 0.3 # attached
send vpns0 192.0.2.10 3
sleep 0.45 # two harvests go by before the server runs its script
hook connect 1 alice vpns0 192.0.2.10
sleep 0.5 # her session is read, her held flow reported
send vpns0 192.0.2.10 2
# bob: no session ever comes for his interface
newtun vpns1 192.0.2.2
sleep 0.3
send vpns1 192.0.2.20 4
sleep 1.6 # longer than the wait (1 s at -t 0.2)
tf_stop

lines() { jq -c -s "map(select(.type == \"flow\" and .iface == \"$1\" and .dport == 53)) | map([.user, .packets])" "$TMP/out"; }
check "alice: every line of her flow names her, the first with the packets sent before her session" \
	"$(lines vpns0)" '[["alice",3],["alice",2]]'
check "bob: his flow reported once the wait is over, without a user" "$(lines vpns1)" '[[null,4]]'
check "nothing lost, both interfaces watched to the end" "$(final_health "$TMP/out")" "[2,0,0,0]"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The full-screen view (-o tui), driven in tmux at 80x24 and 200x50 with known traffic
# (IPv4 and IPv6, 300+ connections, two users through a user map): exact rows and
# their order after each key (sort, filter and its error, drill into a user and back,
# pause), per-user totals exact after every flow was forgotten, resize, the scrollback
# not growing, q exiting 0 with the terminal given back (alternate screen left).
SUITE=tui
. "$(dirname "$0")/lib.sh"
need tmux

# one tmux server per start (a server being killed may still take a new client)
SOCKS=()
tm() { tmux -L "$SOCK" "$@"; }
teardown_tmux() {
	for SOCK in "${SOCKS[@]}"; do tm kill-server 2>/dev/null; done
	teardown
}
trap teardown_tmux EXIT

tun_ns tui
# what goes past the tunnel is dropped without a word (no ICMP errors to count)
ip -n "$NS" route add blackhole 203.0.113.0/24
ip -n "$NS" route add blackhole 198.51.100.0/24
ip -n "$NS" -6 route add blackhole 2001:db8:ffff::/48
MAP=$TMP/users
printf '192.0.2.0/25 alice\n192.0.2.128/25 bob\n2001:db8::/64 alice\n' >"$MAP"
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$@" 2>/dev/null; }

# screen: the pane without its first line (the clock), trailing blanks cut
screen() { tm capture-pane -p -t tf | sed 1d | sed 's/ *$//'; }
# rows N: the header and the first N lines under it, without the rate columns (2s,
# 10s, 40s: the last ones, right-aligned) and FIRST (a clock), which depend on timing
rows() {
	local n
	n=$(tm capture-pane -p -t tf | sed -n 2p | grep -oE ' (2s|10s|40s)' | wc -l)
	tm capture-pane -p -t tf | sed -n "2,$(($1 + 2))p" |
		sed -E "s/( +([0-9.]+[kMGTPE]?|2s|10s|40s)){$n}\$//; s/ *\$//" |
		sed -E 's/ +([0-9]{2}:[0-9]{2}:[0-9]{2}|FIRST)$//' # when first seen: a clock
}
key() { tm send-keys -t tf "$@"; sleep 0.5; }
wait_for() { # wait_for TEXT: until the pane shows it (5 s)
	for _ in $(seq 50); do
		tm capture-pane -p -t tf | grep -qF -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

start() { # start COLS ROWS ARGS...: tunflow in a fresh tmux pane
	local x=$1 y=$2
	shift 2
	[ ${#SOCKS[@]} -gt 0 ] && tm kill-server 2>/dev/null
	SOCK=tftui$$-${#SOCKS[@]}
	SOCKS+=("$SOCK")
	rm -f "$TMP/rc"
	tm -f /dev/null new-session -d -s tf -x "$x" -y "$y" \
		"ip netns exec $NS $TUNFLOW -t 0.2 --user-map $MAP $* tun0 2>$TMP/err; echo \$? >$TMP/rc"
	tm set-option -t tf remain-on-exit on
	tm set-option -t tf history-limit 10000
	wait_for "1 interface" || { fail "start" "no screen: $(cat "$TMP/err")"; exit 1; }
}

start 80 24
check "alternate screen on" "$(tm display -p -t tf '#{alternate_on}')" 1
# alice: 300 UDP connections of 2 packets (128 bytes each), 2 IPv6 TCP connections of 10
# (260), 3 pings of 2001:db8::1 answered; bob: 5 TCP connections of 20 (1040), 4 pings
send "v=4,proto=udp,src=192.0.2.10,dst=203.0.113.80,sport=10000,dport=5201,payload=100,count=600,flows=300" \
	"v=6,proto=tcp,src=2001:db8::9,dst=2001:db8:ffff:1234:5678:9abc:def0:1,sport=3000,dport=443,payload=200,count=20,flows=2" \
	"v=6,proto=icmp6,src=2001:db8::9,dst=2001:db8::1,sport=128,dport=0,payload=52,count=3" \
	"v=4,proto=tcp,src=192.0.2.200,dst=198.51.100.7,sport=2000,dport=443,payload=1000,count=100,flows=5" \
	"v=4,proto=icmp,src=192.0.2.200,dst=192.0.2.1,sport=8,dport=0,payload=56,count=4"
sleep 0.5
wait_for "309 connections" || fail "connections" "$(screen | head -3)"

key B # most bytes first
check "80x24, by bytes: header and rows" "$(rows 9)" "$(cat <<'EOF'
USER   LOCAL              REMOTE                              SENT   RECV
bob    192.0.2.200:2000   198.51.100.7:443                     21k      0
bob    192.0.2.200:2001   198.51.100.7:443                     21k      0
bob    192.0.2.200:2002   198.51.100.7:443                     21k      0
bob    192.0.2.200:2003   198.51.100.7:443                     21k      0
bob    192.0.2.200:2004   198.51.100.7:443                     21k      0
alice  [2001:db8::9]:3000 [2001:db8:ffff:1…9abc:def0:1]:443   2.6k      0
alice  [2001:db8::9]:3001 [2001:db8:ffff:1…9abc:def0:1]:443   2.6k      0
bob    192.0.2.200        192.0.2.1                            336    336
alice  2001:db8::9        2001:db8::1                          300    300
EOF
)"
key r # reversed: the fewest bytes first
check "reversed" "$(rows 2 | tail -2)" "$(cat <<'EOF'
alice  tun0  udp   192.0.2.10:10000 203.0.113.80:5201    256      0
alice  tun0  udp   192.0.2.10:10001 203.0.113.80:5201    256      0
EOF
)"
key r
# End: the last row, the fewest bytes and the highest port; Home: back to the top
key G
check "End: the last row" "$(tm capture-pane -p -t tf | sed -n 21p | awk '{print $4}')" "192.0.2.10:10299"
key PPage
check "PgUp: a page up" "$(tm capture-pane -p -t tf | sed -n 21p | awk '{print $4}')" "192.0.2.10:10280"
key g
check "Home: the top again" "$(rows 1 | tail -1 | awk '{print $2}')" "192.0.2.200:2000"
# a filter: only bob's TCP
key / ; tm send-keys -t tf -l 'user bob and port 443'; key Enter
check "filter: bob's TCP only" "$(screen | grep -c '^bob .* tcp ')" 5
check "filter: nothing else" "$(screen | grep -cE '^(alice|bob) ' )" 5
check "filter: shown in the footer" "$(screen | grep -c 'filter: user bob and port 443')" 1
# a filter that does not parse: the error with its column, the input stays open
key / ; tm send-keys -t tf C-u; tm send-keys -t tf -l 'port x'; key Enter
check "filter error: its column" "$(screen | grep -c 'at column 6')" 1
key Escape; key Escape # the input closed; the filter cleared
check "filter cleared" "$(screen | grep -cE '^(alice|bob) ')" 19

# the users view: totals, most bytes first
key u
check "users view" "$(rows 2)" "$(cat <<'EOF'
USER     CONNS   SENT   RECV   PKTS ACTIVE
bob          6 104336    336    108 0s
alice      303  82300    300    626 0s
EOF
)"
# Enter: bob's connections; Esc: back to the users
key Enter
check "drill into bob: his connections only" "$(screen | grep -cE '^(alice|bob) ')" 6
check "drill into bob: none of alice's" "$(screen | grep -c '^alice ')" 0
check "drill: the title says whose" "$(tm capture-pane -p -t tf | head -1 | grep -c 'of user bob (Esc: back)')" 1
key Escape
check "Esc: back to the users" "$(rows 0)" "USER     CONNS   SENT   RECV   PKTS ACTIVE"
key u # back to connections

# one line per direction: bob's ping is two, sent and received
key t
check "t: a line per direction" "$(screen | grep -E '^bob .* 192\.0\.2\.200 ' | awk '{print $2, $5, $6}' | sort | tr '\n' ',')" "recv 0 336,sent 336 0,"
key t
# by interface: totals since start
key i
check "interfaces view" "$(rows 1)" "$(cat <<'EOF'
IFACE    CONNS   SENT   RECV   PKTS ACTIVE
tun0       309 186636    636    734 0s
EOF
)"
key i
# by destination, most bytes first
key d
check "destinations view" "$(rows 1)" "$(cat <<'EOF'
DESTINATION                         CONNS   SENT   RECV   PKTS DUR
198.51.100.7                            5   104k      0    100 0s
EOF
)"
key d

# the rate sort: a burst now comes first, whatever the totals
sleep 2
send "v=4,proto=udp,src=192.0.2.11,dst=203.0.113.81,sport=999,dport=53,payload=30,count=40"
key 1; sleep 0.5
check "by 2 s rate: the burst first" "$(rows 1 | tail -1)" \
	"alice  192.0.2.11:999     203.0.113.81:53                     2.3k      0"

# pause: the screen stays, counting goes on
key P
before=$(rows 18)
send "v=4,proto=udp,src=192.0.2.12,dst=203.0.113.82,sport=998,dport=53,payload=30,count=50"
sleep 1
check "paused: the same rows" "$(rows 18)" "$before"
check "paused: said in the footer" "$(screen | grep -c PAUSED)" 1
key P
sleep 0.5
check "unpaused: the burst counted meanwhile" "$(rows 1 | tail -1)" \
	"alice  192.0.2.12:998     203.0.113.82:53                     2.9k      0"

# resize to 200x50: wider columns, exact addresses, all three rates
tm resize-window -t tf -x 200 -y 50
sleep 0.6
check "200x50: the header" "$(tm capture-pane -p -t tf | sed -n 2p | sed 's/ *$//')" \
	"USER   IFACE PROTO LOCAL              REMOTE                                      SENT   RECV   PKTS DUR        2s    10s    40s"
check "200x50: the IPv6 address whole" \
	"$(tm capture-pane -p -t tf | grep -c '\[2001:db8:ffff:1234:5678:9abc:def0:1\]:443')" 2
check "200x50: 45 rows of connections" "$(tm capture-pane -p -t tf | grep -cE '^(alice|bob) ')" 45
check "the scrollback did not grow" "$(tm display -p -t tf '#{history_size}')" 0

# q: exit 0, the terminal given back
key q
for _ in $(seq 50); do [ -s "$TMP/rc" ] && break; sleep 0.1; done
check "q: exit status" "$(cat "$TMP/rc" 2>/dev/null)" 0
check "q: alternate screen left" "$(tm display -p -t tf '#{alternate_on}')" 0
check "q: nothing written on the normal screen" \
	"$(tm capture-pane -p -t tf | grep -v '^Pane is dead' | grep .)" ""

# per-user totals stay exact once every flow is forgotten (--forget 1)
start 200 50 --forget 1
send "v=4,proto=udp,src=192.0.2.10,dst=203.0.113.80,sport=10000,dport=5201,payload=100,count=600,flows=300" \
	"v=4,proto=tcp,src=192.0.2.200,dst=198.51.100.7,sport=2000,dport=443,payload=1000,count=100,flows=5"
key u
sleep 2.5
check "users after every flow was forgotten" "$(rows 2)" "$(cat <<'EOF'
USER     CONNS   SENT   RECV   PKTS ACTIVE
bob          0 104000      0    100 0s
alice        0  76800      0    600 0s
EOF
)"
# --records on a terminal: the records view, not raw JSON
start 80 24 --records --idle-timeout 0.5
send "v=4,proto=tcp,src=192.0.2.200,dst=198.51.100.7,sport=2000,dport=443,payload=1000,count=100,flows=5"
wait_for "5 records" || fail "records" "$(screen | head -4)"
check "records view: ended idle, bob's, initiator first" "$(rows 1 | tail -1)" \
	"bob    tun0  tcp   idle timeout 192.0.2.200:2000 198.51.100.7:443    21k      0"
# SIGTERM: exit 0, the terminal given back
kill -TERM "$(pgrep -P "$(tm display -p -t tf '#{pane_pid}')")"
for _ in $(seq 50); do [ -s "$TMP/rc" ] && break; sleep 0.1; done
check "SIGTERM: exit status" "$(cat "$TMP/rc" 2>/dev/null)" 0
check "SIGTERM: alternate screen left" "$(tm display -p -t tf '#{alternate_on}')" 0

# a warning stays on screen: an interface pattern nothing matches
tm kill-server
SOCK=tftui$$-${#SOCKS[@]}
SOCKS+=("$SOCK")
tm -f /dev/null new-session -d -s tf -x 80 -y 24 \
	"ip netns exec $NS $TUNFLOW vpsn0 2>$TMP/err; echo \$? >$TMP/rc"
rm -f "$TMP/rc"
tm set-option -t tf remain-on-exit on
wait_for "no interface matches 'vpsn0' yet" || fail "warning in the footer" "$(screen)"
ok "the waiting warning in the footer"
key q
for _ in $(seq 50); do [ -s "$TMP/rc" ] && break; sleep 0.1; done
check "the warning said again on stderr after the screen" \
	"$(grep -c "^tunflow: no interface matches 'vpsn0' yet" "$TMP/err")" 1
# --group-by user (JSON): the same totals since start, after every flow was forgotten
tf_start "$NS" "$TMP/grp.json" "$TMP/grp.err" -o json -t 0.2 --forget 0.5 --group-by user \
	--user-map "$MAP" tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.10,dst=203.0.113.80,sport=10000,dport=5201,payload=100,count=600,flows=300" \
	"v=4,proto=tcp,src=192.0.2.200,dst=198.51.100.7,sport=2000,dport=443,payload=1000,count=100,flows=5"
sleep 1.5
tf_stop
check "--group-by user: totals since start once the flows are forgotten" \
	"$(jq -s -c 'map(select(.type == "user")) | last(.[]) as $l | map(select(.time == $l.time)) | map([.user, .flows, .bytes_in, .packets_in])' "$TMP/grp.json")" \
	'[["bob",0,104000,100],["alice",0,76800,600]]'
finish

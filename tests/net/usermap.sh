#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The generic mapping file (--user-map): addresses and prefixes (longest wins) and
# interface names map to users; SIGHUP re-reads it; a bad file on SIGHUP keeps the old
# mapping and says why; the table gains a USER column.
SUITE=usermap
. "$(dirname "$0")/lib.sh"
need jq

tun_ns map
MAP=$TMP/users
cat >"$MAP" <<'MAPEOF'
# address or prefix, or interface name, then the user
192.0.2.0/24     erin    # the whole pool
192.0.2.9        frank   # one address: longer than the pool's prefix
2001:db8::/64    gina
MAPEOF
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --user-map "$MAP" tun0 || exit 1
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$1" 2>/dev/null; }
send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=2"
send "v=4,proto=udp,src=192.0.2.10,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=3"
send "v=6,proto=udp,src=2001:db8::9,dst=2001:db8::1,sport=1000,dport=7,payload=10,count=4"
sleep 0.3
printf 'tun0 hugo\n' >"$MAP"
kill -HUP "$TF"
sleep 0.3
send "v=4,proto=udp,src=192.0.2.11,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=5"
sleep 0.3
printf 'tun0 ivan extra\n' >"$MAP"
kill -HUP "$TF"
sleep 0.3
send "v=4,proto=udp,src=192.0.2.12,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=6"
sleep 0.3
tf_stop
out=$TMP/out.json
user_of() { jq -s -r "map(select(.type == \"flow\" and .dir == \"ingress\" and .src == \"$1\") | .user) | unique | join(\",\")" "$out"; }
check "longest prefix: the one address" "$(user_of 192.0.2.9)" frank
check "the pool's prefix" "$(user_of 192.0.2.10)" erin
check "IPv6 prefix" "$(user_of 2001:db8::9)" gina
check "egress (reply side): the destination is the user's" \
	"$(jq -s -r 'map(select(.type == "flow" and .dir == "egress" and .dst == "192.0.2.10") | .user) | unique | join(",")' "$out")" erin
check "after SIGHUP: the interface entry" "$(user_of 192.0.2.11)" hugo
check "a bad file on SIGHUP keeps the last good mapping" "$(user_of 192.0.2.12)" hugo
check "SIGHUP re-read reported" "$(grep -c "^tunflow: re-read $MAP$" "$TMP/err")" 1
check "bad file reported in one line" "$(grep -c "^tunflow: $MAP:1: wants 'INTERFACE-OR-ADDRESS USER', not 'tun0 ivan extra'$" "$TMP/err")" 1
# the table: a USER column, still within 80 columns
printf '192.0.2.0/24 erin\n' >"$MAP"
# (--duration counts from "ready": the packets go after the attach, however long it took)
tf_start "$NS" "$TMP/table" "$TMP/table.err" -o table --duration 0.5 --user-map "$MAP" tun0 ||
	exit 1
send "v=4,proto=udp,src=192.0.2.10,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=3"
wait "$TF"
check "table: USER column" "$(grep -c '^IFACE  DIR PROTO USER    SOURCE' "$TMP/table" | grep -c '^[1-9]')" 1
check "table: the user on the flow's row" \
	"$(grep -E '^tun0 +in +udp +erin +192\.0\.2\.10:1000' "$TMP/table" | tail -1 | awk '{print $7}')" 3
check "table: under 80 columns" "$(awk '{ if (length($0) > m) m = length($0) } END { print (m < 80) }' "$TMP/table")" 1
finish

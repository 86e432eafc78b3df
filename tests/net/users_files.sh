#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The files that decide attribution (--user-map, --openvpn-status, --sessions): a FIFO
# never blocks tunflow, a huge unterminated line is read once (not at every harvest), a
# missing sessions file is said once, and a map that is a link, not a regular file,
# writable by others, or has a bad line is refused with one short line.
SUITE=users_files
. "$(dirname "$0")/lib.sh"
need jq

tun_ns files
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$1" 2>/dev/null; }
NETNS=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)

# --- a FIFO in place of the status file: tunflow keeps reporting and exits on SIGINT
cat >"$TMP/status" <<'ST'
HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address
CLIENT_LIST,carol,198.51.100.2:1194,192.0.2.2,
END
ST
tf_start "$NS" "$TMP/fifo.json" "$TMP/fifo.err" -o json -t 0.1 --openvpn-status "$TMP/status" \
	--sessions "$TMP/no-sessions" tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=2"
sleep 0.3
rm "$TMP/status"
mkfifo "$TMP/status"
sleep 0.3
send "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.1,sport=1001,dport=7,payload=10,count=3"
sleep 0.4
kill -INT "$TF"
for _ in $(seq 30); do kill -0 "$TF" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$TF" 2>/dev/null; then
	fail "FIFO: exits on SIGINT" "still running 3 s after SIGINT"
	kill -KILL "$TF"
else
	ok "FIFO: exits on SIGINT"
fi
wait "$TF"
check "FIFO: exit status" "$?" 0
check "FIFO: flows after the swap, still under the last good user" \
	"$(jq -s -r 'map(select(.type == "flow" and .sport == 1001 and .dir == "ingress")) | map("\(.user) \(.packets)") | join(",")' "$TMP/fifo.json")" "carol 3"
check "FIFO: said once" "$(grep -c "^tunflow: the OpenVPN status file: $TMP/status is not a regular file: name a file; keeping the last good state$" "$TMP/fifo.err")" 1

# --- a 20 MB line with no end in the sessions file: read once, not at every harvest
S=$TMP/big-sessions
printf 'connect\tid=1\tuser=yan\tifindex=\taddr=192.0.2.4\tnetns=%s\n' "$NETNS" >"$S"
head -c 20000000 /dev/zero | tr '\0' x >>"$S"
tf_start "$NS" "$TMP/big.json" "$TMP/big.err" -o json -t 0.05 --sessions "$S" tun0 || exit 1
sleep 3 # 60 harvests
rchar=$(awk '/^rchar:/ { print $2 }' "/proc/$TF/io")
check "20 MB line: read once in 60 harvests (rchar < 30 MB)" "$((rchar < 30000000))" 1
printf '\nconnect\tid=2\tuser=zed\tifindex=\taddr=192.0.2.5\tnetns=%s\n' "$NETNS" >>"$S"
sleep 0.3
send "v=4,proto=udp,src=192.0.2.4,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=1"
send "v=4,proto=udp,src=192.0.2.5,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=1"
sleep 0.3
tf_stop
user_of() { jq -s -r "map(select(.type == \"flow\" and .dir == \"ingress\" and .src == \"$2\") | .user) | unique | join(\",\")" "$1"; }
check "20 MB line: the line before it" "$(user_of "$TMP/big.json" 192.0.2.4)" yan
check "20 MB line: the line after it" "$(user_of "$TMP/big.json" 192.0.2.5)" zed
check "20 MB line: said once" "$(grep -c "^tunflow: $S: a line longer than 4096 bytes at byte [0-9]*, skipped (said once; later ones are only counted)$" "$TMP/big.err")" 1

# --- a missing sessions file is said once; a link in its place is refused, said once
tf_start "$NS" "$TMP/miss.json" "$TMP/miss.err" -o json -t 0.05 --sessions "$TMP/later" tun0 || exit 1
sleep 0.5
ln -s "$S" "$TMP/later"
sleep 0.5
tf_stop
check "missing sessions file: said once" "$(grep -c "^tunflow: $TMP/later: no session events yet (tunflow-session-hook creates it at the first connect)$" "$TMP/miss.err")" 1
check "sessions file a link: refused once" "$(grep -c "^tunflow: the sessions file: $TMP/later is a symbolic link: name the file itself; not read until that changes$" "$TMP/miss.err")" 1
check "sessions file a link: not read" "$(user_of "$TMP/miss.json" 192.0.2.4)" ""

# --- user maps tunflow refuses at start: exit 1, one line, naming the file and the fix
M=$TMP/map
refused() { # NAME WANT-LINE ARGS...: tunflow exits 1 with exactly that one line
	local name=$1 want=$2 rc
	shift 2
	ip netns exec "$NS" "$TUNFLOW" -o json --duration 0.1 "$@" tun0 >/dev/null 2>"$TMP/refused.err"
	rc=$?
	check "$name: exit status" "$rc" 1
	check "$name: one line" "$(cat "$TMP/refused.err")" "$want"
}
printf '192.0.2.0/24 erin\n' >"$M"
chmod 664 "$M"
refused "group-writable map" "tunflow: the user map: $M is writable by group 0 (mode 0664): chmod g-w $M, or name its writer with --trusted-writer USER" --user-map "$M"
chmod 644 "$M"
chown nobody "$M"
refused "map owned by another user" "tunflow: the user map: $M is owned by uid $(id -u nobody), not root: chown root $M, or name its writer with --trusted-writer USER" --user-map "$M"
ip netns exec "$NS" "$TUNFLOW" -o json --duration 0.1 --user-map "$M" --trusted-writer nobody tun0 >/dev/null 2>"$TMP/tw.err"
check "map owned by the --trusted-writer: accepted" "$?:$(grep -c '^tunflow: ready' "$TMP/tw.err")" "0:1"
chown root "$M"
mkdir -m 777 "$TMP/d"
printf 'tun0 x\n' >"$TMP/d/map"
refused "map in a directory anyone can write" "tunflow: the user map: $TMP/d is writable by anyone (mode 0777): chmod o-w $TMP/d" --user-map "$TMP/d/map"
ln -s "$M" "$TMP/link"
refused "map a link" "tunflow: the user map: $TMP/link is a symbolic link: name the file itself" --user-map "$TMP/link"
refused "map a directory" "tunflow: the user map: $TMP is not a regular file: name a file" --user-map "$TMP"
refused "map /proc/self/mem" "tunflow: the user map: /proc/self/mem is not a regular file: name a file" --user-map /proc/self/mem
printf '192.0.2.77/-5 x\n' >"$M"
refused "map: a negative prefix" "tunflow: $M:1: '192.0.2.77/-5' is neither an address/prefix nor an interface name" --user-map "$M"
printf '# ok\ntun0 a\0b\n' >"$M"
refused "map: a NUL in a line" "tunflow: $M:2: a NUL byte in the line: 'tun0 a\\x00b'" --user-map "$M"
{ printf 'tun0 '; head -c 10000000 /dev/zero | tr '\0' y; echo; } >"$M"
refused "map: a 10 MB line, quoted short" "tunflow: $M:1: a line longer than 4096 bytes: 'tun0 $(printf 'y%.0s' $(seq 56))...'" --user-map "$M"
finish

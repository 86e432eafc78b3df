#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The hook compacts the sessions file (the connect lines of the open sessions, renamed
# over it under the lock every append takes): two writers append 2000 connect and
# disconnect events between them while compaction runs over and over, and the file ends
# holding exactly the sessions the writers left open, with its mode, bounded; a tunflow
# reading it all along still names an open session's flows, and not a closed one's.
SUITE=compact
. "$(dirname "$0")/lib.sh"
need jq
need flock
HOOK=$TOP/scripts/tunflow-session-hook

tun_ns a; A=$NS
install -d -m 0700 "$TMP/run"
S=$TMP/run/sessions
hook() { # EVENT ID USER ADDR
	ip netns exec "$A" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" REASON="$1" ID="$2" \
		USERNAME="$3" IP_REMOTE="$4" sh "$HOOK"
}
hook connect keep keeper 192.0.2.9
hook connect gone gone 192.0.2.10
hook disconnect gone gone 192.0.2.10
chmod 640 "$S"
INODE=$(stat -c %i "$S")
tf_start "$A" "$TMP/a.json" "$TMP/a.err" -o json -t 0.1 --sessions "$S" tun0 || exit 1

# writer P: 600 connects, 400 of them disconnected at once: 1000 events, 200 left open
cat >"$TMP/writer" <<'SH'
p=$1
for i in $(seq 600); do
	REASON=connect ID=w$p-$i USERNAME=u$p-$i IP_REMOTE=203.0.113.$((i % 250 + 1)) sh "$HOOK"
	echo "connect w$p-$i" >>"$LOG"
	if [ $((i % 3)) != 0 ]; then
		REASON=disconnect ID=w$p-$i USERNAME=u$p-$i sh "$HOOK"
		echo "disconnect w$p-$i" >>"$LOG"
	fi
done
SH
for p in 1 2; do
	bg ip netns exec "$A" env -i PATH="$PATH" HOOK="$HOOK" LOG="$TMP/log$p" \
		TUNFLOW_SESSIONS="$S" TUNFLOW_SESSIONS_COMPACT=8192 bash "$TMP/writer" "$p"
	W[p]=$BG
done
# and compaction on demand, over and over, while they write
runs=0 max=0
while kill -0 "${W[1]}" 2>/dev/null || kill -0 "${W[2]}" 2>/dev/null; do
	TUNFLOW_SESSIONS=$S sh "$HOOK" --compact || fail "--compact" "exit $?"
	runs=$((runs + 1))
	size=$(stat -c %s "$S")
	[ "$size" -gt "$max" ] && max=$size
	sleep 0.05
done
wait "${W[1]}" "${W[2]}"
TUNFLOW_SESSIONS=$S sh "$HOOK" --compact
sleep 0.5

ids() { awk -F'\t' '{ for (i = 2; i <= NF; i++) if ($i ~ /^id=/) print substr($i, 4) }' "$S" | sort; }
want=$( { echo "connect ocserv:keep"; sed 's/ / ocserv:/' "$TMP/log1" "$TMP/log2"; } |
	awk '$1 == "connect" { open[$2] = 1 } $1 == "disconnect" { delete open[$2] }
	END { for (k in open) print k }' | sort)
check "the writers' logs: 2000 events" "$(cat "$TMP/log1" "$TMP/log2" | wc -l)" 2000
check "compacted: exactly the open sessions" "$(ids | cmp - <(echo "$want") && echo same)" same
check "compacted: 401 of them, each once" "$(ids | uniq | wc -l):$(wc -l <"$S")" "401:401"
check "compacted: connect lines only" "$(grep -vc '^connect' "$S")" 0
check "compacted: the mode kept" "$(stat -c %a:%U "$S")" 640:root
check "compacted: no temporary file left" "$(find "$TMP/run" -name '.tunflow-sessions.*' | wc -l)" 0
check "compaction ran while they wrote" "$([ "$runs" -ge 10 ] && [ "$(stat -c %i "$S")" != "$INODE" ] && echo yes)" yes
# 2003 lines appended would be about 230 KB; open sessions alone about 45 KB
check "the file stayed bounded (max $max bytes)" "$([ "$max" -lt 120000 ] && echo yes)" yes

send() { ip netns exec "$A" "$TUNPKT" tun0 "$1" 2>/dev/null; }
send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=5"
send "v=4,proto=udp,src=192.0.2.10,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=3"
sleep 0.3
tf_stop
byuser() { jq -s -r "map(select(.type == \"flow\" and .dir == \"ingress\" and .src == \"$1\")) |
	group_by(.user) | map(\"\(.[0].user // \"-\")=\(map(.packets) | add)\") | join(\",\")" "$TMP/a.json"; }
check "tunflow after compaction: the open session's flows, exact" "$(byuser 192.0.2.9)" keeper=5
check "tunflow after compaction: a closed session names nothing" "$(byuser 192.0.2.10)" -=3
check "tunflow: no malformed line read" "$(grep malformed "$TMP/a.err")" ""
finish

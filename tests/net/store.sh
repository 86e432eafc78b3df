#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The embedded store (--store) and `tunflow report`, with real traffic through tuns:
# exact per-user, per-day totals for two users by address and one by interface (user
# map), records ended by every end reason (idle, active, TCP end, interface gone,
# evicted, tunflow exit) stored with them; reports as JSON (usage, top, who, sessions)
# compared to what was sent, run as an unprivileged user; retention at start deleting
# exactly the old days; kill -9 during heavy writes (integrity_check ok, every record of
# the committed batches there); a full tmpfs and a read-only one counting
# store_failures while tunflow runs on; an unknown schema version refused.
SUITE=store
. "$(dirname "$0")/lib.sh"
need jq
need sqlite3
need setpriv
need curl

MOUNTS=()
cleanup() {
	local m
	for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null; done
	teardown
}
trap cleanup EXIT

tun_ns store
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
ip -n "$NS" tuntap add mode tun name tun1
ip -n "$NS" addr add 198.51.100.1/24 dev tun1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun1.disable_ipv6=1
ip -n "$NS" link set tun1 up
send() { ip netns exec "$NS" "$TUNPKT" "$@" 2>/dev/null; }
# reports run as nobody: no root, no capability, only the store's files to read
report() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$TUNFLOW" report "$@"; }
sq() { sqlite3 -batch -noheader "$@"; }

# --- traffic of known size, every end reason, two users by address, one by interface
DB=$TMP/db/flows.db
mkdir -p "$TMP/db"
chown nobody:nogroup "$TMP/db"
chmod 755 "$TMP"
cat >"$TMP/map" <<'EOF'
192.0.2.9   alice
192.0.2.10  bob
tun1        carol
EOF
chmod 644 "$TMP/map"
tf_start "$NS" "$TMP/r.json" "$TMP/r.err" --records -t 0.1 --idle-timeout 0.5 \
	--active-timeout 1 --tcp-linger 0.1 --max-table-flows 8 --user-map "$TMP/map" \
	--gateway-id gw-test --store "$DB" --user nobody tun0 tun1 || exit 1
# alice: 3 echo requests to the tun's address, answered (84 bytes each way each): idle
send tun0 "v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=3"
# alice: a TCP SYN to 203.0.113.5:80, answered by RST|ACK (40 bytes each way): tcp end
send tun0 "v=4,proto=tcp,src=192.0.2.9,dst=192.0.2.1,sport=4000,dport=81,flags=2,payload=0"
# alice, bob: UDP to 203.0.113.5 (38 bytes: 20 + 8 + 10), 2 and 4 packets: idle
send tun0 "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.5,sport=1000,dport=7,payload=10,count=2"
send tun0 "v=4,proto=udp,src=192.0.2.10,dst=203.0.113.5,sport=1000,dport=7,payload=10,count=4"
sleep 1
# bob: one flow of 8 packets over 1.6 s: active timeout, then idle
send tun0 --pps 5 "v=4,proto=udp,src=192.0.2.10,dst=203.0.113.6,sport=1001,dport=7,payload=10,count=8"
sleep 1
# bob: 12 flows at once past --max-table-flows 8: 4 evicted
send tun0 "v=4,proto=udp,src=192.0.2.10,dst=203.0.113.7,sport=2000,dport=7,payload=10,count=12,flows=12"
sleep 1
# carol on tun1 (48 bytes: payload 20), then tun1 goes: interface gone
send tun1 "v=4,proto=udp,src=198.51.100.9,dst=203.0.113.5,sport=1000,dport=7,payload=20,count=2"
sleep 0.3
ip -n "$NS" link del tun1
sleep 0.5
# alice: open at exit
send tun0 "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.8,sport=1000,dport=7,payload=10,count=1"
sleep 0.3
tf_stop
check "tunflow: exit status" "$TF_RC" 0
recs() { jq -c -s "map(select(.type == \"record\" and ($1)) | $2)" "$TMP/r.json"; }
check "records: every end reason" \
	"$(recs true .end_reason | jq -c 'unique')" \
	'["active timeout","evicted","idle timeout","interface gone","tcp end","tunflow exit"]'
check "final counters: every record and session stored, none lost, none waiting" \
	"$(jq -c -s 'map(select(.type == "counters" and .final)) | last | [.stored, .store_failures, .store_backlog]' "$TMP/r.json")" \
	"[$(jq -s 'map(select(.type == "record" or .type == "iface_gone" or .type == "session")) | length' "$TMP/r.json"),0,0]"
check "store: every end reason (enum end_reason 1..6)" \
	"$(sq "$DB" 'SELECT group_concat(r) FROM (SELECT DISTINCT end_reason r FROM records ORDER BY 1)')" \
	"1,2,3,4,5,6"
check "store: record ids, gateway and sequence 1..N" \
	"$(sq "$DB" "SELECT n.name, count(*), min(seq), max(seq), count(DISTINCT run) FROM records r JOIN names n ON n.id = r.gateway")" \
	"gw-test|$(recs true 1 | jq length)|1|$(recs true 1 | jq length)|1"
today=$(date -u +%F)
# alice in: 3 x 84 + 40 + 2 x 38 + 38 = 406 bytes, 7 packets; out: 3 x 84 + 40 = 292, 4
# bob in: 4 x 38 + 8 x 38 + 12 x 38 = 912 bytes, 24 packets; carol in: 2 x 48 = 96, 2
check "usage --per day: exact per-user, per-day totals (JSON, as nobody)" \
	"$(report usage --per day --store "$DB" -o json | jq -c '[.day, .user, .bytes_in, .bytes_out, .packets_in, .packets_out]')" \
	"$(printf '["%s","alice",406,292,7,4]\n["%s","bob",912,0,24,0]\n["%s","carol",96,0,2,0]' "$today" "$today" "$today")"
check "usage: the same as the records tunflow printed" \
	"$(report usage --store "$DB" -o json | jq -c -s 'map([.user, .bytes_in + .bytes_out])')" \
	"$(recs true '[.user, .bytes + .rev_bytes]' | jq -c 'group_by(.[0]) | map([.[0][0], (map(.[1]) | add)])')"
check "usage --by iface --since 1h: totals per interface" \
	"$(report usage --by iface --since 1h --store "$DB" -o json | jq -c '[.iface, .bytes_in, .bytes_out, .flows]')" \
	"$(printf '["tun0",1318,292,%s]\n["tun1",96,0,1]' "$(recs '.iface == "tun0"' 1 | jq length)")"
check "usage --until 1h: nothing that old" "$(report usage --until 1h --store "$DB" -o json)" ""
check "top --user bob: destinations by bytes (JSON numbers)" \
	"$(report top --user bob --store "$DB" -o json | jq -c '[.address, .bytes_in, .flows]')" \
	"$(printf '["203.0.113.7",456,12]\n["203.0.113.6",304,%s]\n["203.0.113.5",152,1]' \
		"$(recs '.dst == "203.0.113.6"' 1 | jq length)")"
check "who 203.0.113.5: alice, bob and carol, how much" \
	"$(report who 203.0.113.5 --store "$DB" -o json | jq -c '[.user, .bytes_in, .flows]')" \
	"$(printf '["bob",152,1]\n["carol",96,1]\n["alice",76,1]')"
check "who 203.0.113.4/30 --user-less prefix: the same users and .6, .7 for bob" \
	"$(report who 203.0.113.4/30 --store "$DB" -o json | jq -c '[.user, .addresses, .bytes_in]')" \
	"$(printf '["bob",3,912]\n["carol",1,96]\n["alice",1,76]')"
check "sessions: carol's interface, connect to disconnect as tunflow saw it, bytes" \
	"$(report sessions --user carol --store "$DB" -o json | jq -c '[.user, .iface, .connect, .disconnect, .bytes_in, .packets_in, .bytes_out, .end, .gateway]')" \
	"$(jq -c -s 'map(select(.type == "iface_gone"))[] | [.user, .iface, .first_seen, .gone, .bytes_in, .packets_in, .bytes_out, "interface gone", "gw-test"]' "$TMP/r.json")"
check "csv: a header and a row per user" \
	"$(report usage --store "$DB" -o csv | cut -d, -f1-3)" \
	"$(printf 'user,bytes_in,bytes_out\nalice,406,292\nbob,912,0\ncarol,96,0')"
check "table: a header and a row per user" \
	"$(report usage --store "$DB" | awk '{print $1}' | paste -sd' ')" "user alice bob carol"
check "report: a time that is none, usage error" \
	"$(report usage --since yesterday --store "$DB" 2>&1; echo "rc=$?")" \
	"tunflow: report: 'yesterday' is not a time: want 2026-11-27, 2026-11-27T14:00 (UTC) or an age such as 2h or 1d (see tunflow report --help)
rc=2"

# --- retention at start: exactly the days older than --store-retention go
RDB=$TMP/ret.db
cp "$DB" "$RDB"
rm -f "$DB-wal" "$DB-shm"
midnight=$(($(date -u -d "$today" +%s) * 1000))
day=86400000
# end times: 5 days ago, 3 days ago at 23:59:59.999 (both older than 2 days: go);
# 2 days ago at 00:00 and yesterday (stay)
for e in $((midnight - 5 * day)) $((midnight - 2 * day - 1)) $((midnight - 2 * day)) $((midnight - day + 5)); do
	sq "$RDB" "INSERT INTO records SELECT $e - 1000, $e, gateway, 7, $e, user, iface, peer, dir, proto, laddr, lport, raddr, rport, 100, 1, 0, 0, 0, 0, 2, NULL, 0, 0, 0, NULL, NULL FROM records WHERE user = (SELECT id FROM names WHERE name = 'alice') LIMIT 1;
		INSERT INTO usage_hour SELECT $e - $e % 3600000, gateway, user, iface, 100, 1, 0, 0, 1 FROM records WHERE end_ms = $e;
		INSERT INTO usage_day SELECT $e - $e % $day, gateway, user, iface, 100, 1, 0, 0, 1 FROM records WHERE end_ms = $e;
		INSERT INTO sessions VALUES ($e - 1000, $e, 1, NULL, NULL, NULL, 'old', 0, 0, 0, 0);"
done
before=$(sq "$RDB" 'SELECT count(*) FROM records')
tf_start "$NS" "$TMP/ret.json" "$TMP/ret.err" -t 0.1 --store "$RDB" --store-retention 2 tun0 || exit 1
sleep 0.5
tf_stop
check "retention: the records of the days older than 2 went, the rest stayed" \
	"$(sq "$RDB" "SELECT count(*), sum(end_ms < $midnight - 2 * $day) FROM records")" "$((before - 2))|0"
check "retention: usage hours, days and sessions of those days too" \
	"$(sq "$RDB" "SELECT (SELECT count(*) FROM usage_hour WHERE hour_ms < $midnight - 2 * $day), (SELECT count(*) FROM usage_day WHERE day_ms < $midnight - 2 * $day), (SELECT count(*) FROM sessions WHERE end = 'old')")" "0|0|2"
check "retention: the day 2 days ago and yesterday in the report" \
	"$(report usage --per day --user alice --store "$RDB" -o json | jq -c '[.day, .flows]' | head -2)" \
	"$(printf '["%s",1]\n["%s",1]' "$(date -u -d "$today - 2 days" +%F)" "$(date -u -d "$today - 1 day" +%F)")"

# --- kill -9 during heavy writes
KDB=$TMP/kill.db
tf_start "$NS" "$TMP/k.json" "$TMP/k.err" -o none -t 0.1 --idle-timeout 0.1 --store "$KDB" tun0 || exit 1
# new flows all the time, in the background, while the writer commits batch after batch
heavy() {
	for i in $(seq 0 29); do
		ip netns exec "$NS" "$TUNPKT" tun0 "v=4,proto=udp,src=192.0.2.$((20 + i)),dst=203.0.113.9,sport=1000,dport=7,payload=10,count=3000,flows=3000" 2>/dev/null
		sleep 0.1
	done
}
bg heavy
HEAVY=$BG
while [ "$(sq "$KDB" 'SELECT count(*) FROM records' 2>/dev/null || echo 0)" -lt 5000 ]; do sleep 0.05; done
check "kill -9: killed while records still come" "$(kill -0 "$HEAVY" 2>/dev/null && echo yes)" yes
kill -KILL "$TF"
wait "$TF" 2>/dev/null
wait "$HEAVY" 2>/dev/null
check "kill -9: integrity_check" "$(sq "$KDB" 'PRAGMA integrity_check')" ok
check "kill -9: the committed records are the sequence 1..N, none missing" \
	"$(sq "$KDB" 'SELECT count(*) = max(seq) AND min(seq) = 1 AND count(*) >= 5000 FROM records')" 1
check "kill -9: the rollup agrees with the records" \
	"$(sq "$KDB" 'SELECT (SELECT sum(bytes_in) FROM records) = (SELECT sum(bytes_in) FROM usage_hour)')" 1
tf_start "$NS" "$TMP/k2.json" "$TMP/k2.err" -t 0.1 --records --store "$KDB" tun0 || exit 1
send tun0 "v=4,proto=udp,src=192.0.2.9,dst=203.0.113.9,sport=1000,dport=7,payload=10,count=1"
sleep 0.2
tf_stop
check "kill -9: the store is written on by the next run" \
	"$(sq "$KDB" 'SELECT count(DISTINCT run), max(seq) FROM records WHERE run = (SELECT max(run) FROM records)')" "1|1"

# --- a full file system: failures counted, tunflow goes on, every record accounted for
mkdir -p "$TMP/full" "$TMP/ro"
mount -t tmpfs -o size=160k tmpfs "$TMP/full" && MOUNTS+=("$TMP/full")
tf_start "$NS" "$TMP/f.json" "$TMP/f.err" --records -t 0.1 --idle-timeout 0.1 --store "$TMP/full/f.db" tun0 || exit 1
send tun0 "v=4,proto=udp,src=192.0.2.30,dst=203.0.113.9,sport=1000,dport=7,payload=10,count=3000,flows=3000"
sleep 1
alive=$(kill -0 "$TF" 2>/dev/null && echo yes)
send tun0 "v=4,proto=udp,src=192.0.2.31,dst=203.0.113.9,sport=1000,dport=7,payload=10,count=5"
sleep 0.5
tf_stop
check "full: tunflow runs on, exit status 0" "$alive $TF_RC" "yes 0"
nrec=$(jq -s 'map(select(.type == "record" or .type == "iface_gone" or .type == "session")) | length' "$TMP/f.json")
check "full: stored + store_failures = every record; some failed" \
	"$(jq -c -s 'map(select(.type == "counters" and .final)) | last | [.stored + .store_failures, .store_failures > 0, .store_backlog]' "$TMP/f.json")" \
	"[$nrec,true,0]"
check "full: said on stderr, naming the store" \
	"$(grep -c "^tunflow: store $TMP/full/f.db: .*full.*store_failures" "$TMP/f.err" | grep -c '^[1-9]')" 1
check "full: what was committed is intact" "$(sq "$TMP/full/f.db" 'PRAGMA integrity_check')" ok

# --- a read-only file system: the store cannot be created; counted, tunflow goes on
mount -t tmpfs -o ro,size=64k tmpfs "$TMP/ro" && MOUNTS+=("$TMP/ro")
tf_start "$NS" "$TMP/ro.json" "$TMP/ro.err" --records -t 0.1 --idle-timeout 0.1 --store "$TMP/ro/f.db" tun0 || exit 1
send tun0 "v=4,proto=udp,src=192.0.2.32,dst=203.0.113.9,sport=1000,dport=7,payload=10,count=6,flows=3"
sleep 0.6
tf_stop
check "read-only: exit status 0, all 3 records counted as store_failures" \
	"$TF_RC $(jq -c -s 'map(select(.type == "counters" and .final)) | last | [.stored, .store_failures]' "$TMP/ro.json")" \
	"0 [0,3]"
check "read-only: said once at start" "$(grep -c "^tunflow: store $TMP/ro/f.db: .*counted as store_failures until it can be written" "$TMP/ro.err")" 1
tf_start "$NS" "$TMP/ro.table" "$TMP/ro.terr" -o table -t 0.1 --idle-timeout 0.1 --store "$TMP/ro/f.db" \
	--metrics 127.0.0.1:9917 tun0 || exit 1
send tun0 "v=4,proto=udp,src=192.0.2.33,dst=203.0.113.9,sport=1,dport=7,payload=1,count=1"
sleep 0.5
check "read-only: /metrics counts it" \
	"$(ip netns exec "$NS" curl -s http://127.0.0.1:9917/metrics | grep -E '^tunflow_(store|stored)' | paste -sd' ')" \
	"tunflow_stored_records_total 0 tunflow_store_failures_total 1 tunflow_store_backlog_records 0"
tf_stop
check "read-only: the table's footer says it" \
	"$(grep -c 'store_failures 1 store_backlog 0' "$TMP/ro.table" | grep -c '^[1-9]')" 1

# --- an unknown schema version: refused, at start and by report
VDB=$TMP/v.db
cp "$KDB" "$VDB"
sq "$VDB" 'PRAGMA user_version = 99'
"$TUNFLOW" --store "$VDB" -o none --duration 0.1 lo >"$TMP/v.out" 2>"$TMP/v.err"
check "unknown version: tunflow refuses to start (exit 1), one line" \
	"$? $(wc -l <"$TMP/v.err") $(grep -c "schema version 99, this tunflow knows 1" "$TMP/v.err")" "1 1 1"
check "unknown version: report refuses it" \
	"$("$TUNFLOW" report usage --store "$VDB" 2>&1; echo "rc=$?")" \
	"tunflow: store $VDB: schema version 99, this tunflow knows 1: written by a newer tunflow; use that one, or another file
rc=1"
finish

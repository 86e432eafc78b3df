#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --clickhouse against Debian's clickhouse-server (18.16), started on the loopback of the
# test's own namespace with a config this test writes and its data under $TMP: records
# of known traffic through a tun (two users from a user map) arrive with exact totals
# (clickhouse-client, and tunflow report --clickhouse: every report the same as the
# store's); an interface that goes is a session there too; the server stopped mid-run and
# started again: every record there once after the collapse (FINAL), none lost, backlog
# and failure counters as expected; a batch whose answer was lost (a proxy drops it) is
# sent again and collapses; a full backlog counts exactly what it dropped; a wrong
# password, an unknown database, an operator's table without a row's columns or types
# and a certificate nobody vouches for are one-line errors at start; https works with
# --clickhouse-ca or --clickhouse-insecure.
SUITE=clickhouse
. "$(dirname "$0")/lib.sh"
need jq
need clickhouse-client
need curl
. "$(dirname "$0")/clickhouse_lib.sh"
[ -x "$CH_SERVER" ] || { fail prerequisite "clickhouse-server is not installed (run 'make deps')"; exit 1; }

tun_ns ch
CH=$TMP/ch
ch_config "$CH" '<tf><password>s3cret</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></tf>' 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$CH/key.pem" -out "$CH/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
printf 's3cret\n' >"$TMP/pw"
printf 'wrong\n' >"$TMP/badpw"
URL=http://127.0.0.1:8123

# ch_start: the server in the namespace, until it answers; its PID in $CH_PID
ch_start() {
	local t0 t1
	t0=$(date +%s%N)
	bg ip netns exec "$NS" "$CH_SERVER" --config-file="$CH/config.xml" >>"$CH/console" 2>&1
	CH_PID=$BG
	ch_wait "$NS"
	t1=$(date +%s%N)
	CH_START_MS=$(((t1 - t0) / 1000000))
}
# ch_stop: SIGTERM, wait for it to be gone
ch_stop() {
	kill -TERM "$CH_PID"
	wait "$CH_PID" 2>/dev/null
}
chq() { ip netns exec "$NS" clickhouse-client --port 9000 --user tf --password s3cret -q "$1"; }

ch_start
version=$(chq "SELECT version()")
echo "# clickhouse-server $version started in $CH_START_MS ms"
check "the server answers" "$version" 18.16.1
chq "CREATE DATABASE tfdb"

MAP=$TMP/users
printf '192.0.2.9 alice\n192.0.2.10 bob\ntun1 carol\n' >"$MAP"
CHOPTS=(--clickhouse "$URL" --clickhouse-user tf --clickhouse-password-file "$TMP/pw"
	--clickhouse-database tfdb --gateway-id gw-test)
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$@" 2>/dev/null; }

# -- refused at start: one line naming the server and the cause, exit status 1
ip netns exec "$NS" "$TUNFLOW" -o none "${CHOPTS[@]}" --clickhouse-password-file "$TMP/badpw" \
	tun0 >/dev/null 2>"$TMP/err.pw"
check "wrong password: exit status" $? 1
check "wrong password: one line" "$(cat "$TMP/err.pw")" \
	"tunflow: ClickHouse $URL/: Wrong password for user tf (HTTP 401)"
ip netns exec "$NS" "$TUNFLOW" -o none "${CHOPTS[@]}" --clickhouse-database nodb \
	tun0 >/dev/null 2>"$TMP/err.db"
check "unknown database: exit status" $? 1
check "unknown database: one line" "$(cat "$TMP/err.db")" \
	"tunflow: ClickHouse $URL/: Database nodb doesn't exist (HTTP 404)"
# an operator's table without some of the columns: said at start, not at every insert
chq "CREATE TABLE tfdb.mine (gateway String, run UInt64, seq UInt64, start DateTime) ENGINE = MergeTree ORDER BY (gateway, run, seq)"
ip netns exec "$NS" "$TUNFLOW" -o none "${CHOPTS[@]}" --clickhouse-table mine \
	tun0 >/dev/null 2>"$TMP/err.cols"
check "an operator's table that lacks columns: one line" "$(cat "$TMP/err.cols")" \
	"tunflow: ClickHouse $URL/: table tfdb.mine has no column end, start_ms, end_ms, user, iface, peer, endpoint, dir, ip_version, proto, src, dst, sport, dport, packets, bytes, rev_packets, rev_bytes, tcp_flags, rev_tcp_flags, end_reason, dest_name, name_src, ech, asn, as_name, country (see docs/clickhouse.md)"

# -- known traffic: alice 3 flows (2+3+4 packets), bob 2 flows (5+6), carol 1 (3) on tun1,
# which then goes (a session); UDP with 10 bytes of payload: 38 bytes a packet
ip -n "$NS" tuntap add mode tun name tun1
ip -n "$NS" link set tun1 up
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json --records -t 0.1 -d ingress \
	--user-map "$MAP" --store "$TMP/flows.db" --clickhouse-ttl 30 "${CHOPTS[@]}" tun0 tun1 || exit 1
for i in 2 3 4; do send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=100$i,dport=7,payload=10,count=$i"; done
for i in 5 6; do send "v=4,proto=udp,src=192.0.2.10,dst=192.0.2.1,sport=100$i,dport=7,payload=10,count=$i"; done
ip netns exec "$NS" "$TUNPKT" tun1 "v=4,proto=udp,src=198.51.100.9,dst=192.0.2.1,sport=1007,dport=7,payload=10,count=3" 2>/dev/null
sleep 0.3
ip -n "$NS" link del tun1
sleep 0.3
tf_stop
check "tunflow exit status" "$TF_RC" 0
check "table made" "$(chq "EXISTS TABLE tfdb.tunflow_flows")" 1
check "the server's version said, and that 18.16 has no TTL" \
	"$(grep -c "^tunflow: ClickHouse $URL/: server 18.16, table tfdb.tunflow_flows (a new table gets no TTL before ClickHouse 19.6)$" "$TMP/err")" 1
check "no TTL in the table on 18.16" "$(chq "SHOW CREATE TABLE tfdb.tunflow_flows" | grep -c TTL)" 0
check "a partition per day" \
	"$(chq "SELECT groupUniqArray(partition) FROM system.parts WHERE database = 'tfdb' AND table = 'tunflow_flows' AND active")" \
	"$(chq "SELECT [toString(today())]")"
check "per-user totals (clickhouse-client)" \
	"$(chq "SELECT user, count(), sum(packets), sum(bytes) FROM tfdb.tunflow_flows FINAL GROUP BY user ORDER BY user FORMAT CSV")" \
	"$(printf '"alice",3,9,342\n"bob",2,11,418\n"carol",1,3,114')"
check "the records tunflow printed, there too" \
	"$(jq -s -r '[map(select(.type == "record")) | length, (map(select(.type == "record") | .bytes) | add)] | @tsv' "$TMP/out.json")" \
	"$(chq "SELECT count(), sum(bytes) FROM tfdb.tunflow_flows FINAL FORMAT TSV")"
check "fields of a row" \
	"$(chq "SELECT gateway, iface, dir, ip_version, proto, src, dst, sport, dport, end_reason FROM tfdb.tunflow_flows WHERE user = 'bob' AND sport = 1005 FORMAT TSV")" \
	"$(printf 'gw-test\ttun0\tingress\t4\t17\t192.0.2.10\t192.0.2.1\t1005\t7\ttunflow exit')"
check "record ids: one run, sequences 1 to 5" \
	"$(chq "SELECT uniqExact(run), min(seq), max(seq), uniqExact(seq) FROM tfdb.tunflow_flows FORMAT CSV")" "1,1,6,6"
check "counters: sent, no failure, no backlog" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.clickhouse_sent, .clickhouse_failures, .clickhouse_backlog]' "$TMP/out.json")" \
	"[6,0,0]"

# -- an operator's table: the columns in another order and one more of its own: taken;
# one column of another type: said at start (rows are RowBinary, typed)
cols=$(chq "SELECT arrayStringConcat(groupArray(concat(name, ' ', type)), ', ') FROM (SELECT name, type FROM system.columns WHERE database = 'tfdb' AND table = 'tunflow_flows' ORDER BY name DESC)")
chq "CREATE TABLE tfdb.mine2 (note String DEFAULT 'operator', $cols) ENGINE = MergeTree ORDER BY (gateway, run, seq)"
tf_start "$NS" /dev/null "$TMP/err.mine2" -o none -t 0.1 -d ingress --user-map "$MAP" \
	"${CHOPTS[@]}" --clickhouse-table mine2 tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=1099,dport=7,payload=10,count=2"
sleep 0.3
tf_stop
check "an operator's table, columns in another order and one more" \
	"$(chq "SELECT user, sum(packets), sum(bytes), any(note), any(end_reason) FROM tfdb.mine2 GROUP BY user FORMAT CSV")" \
	'"alice",2,76,"operator","tunflow exit"'
chq "CREATE TABLE tfdb.mine3 AS tfdb.tunflow_flows"
chq "ALTER TABLE tfdb.mine3 MODIFY COLUMN bytes UInt32"
ip netns exec "$NS" "$TUNFLOW" -o none "${CHOPTS[@]}" --clickhouse-table mine3 \
	tun0 >/dev/null 2>"$TMP/err.type"
check "an operator's table with a column of another type: one line" "$(cat "$TMP/err.type")" \
	"tunflow: ClickHouse $URL/: table tfdb.mine3 has bytes UInt32 (not UInt64) (see docs/clickhouse.md)"

# -- tunflow report --clickhouse: the numbers above, and the same rows as the store's
RCH=(--clickhouse "$URL" --clickhouse-user tf --clickhouse-password-file "$TMP/pw"
	--clickhouse-database tfdb)
report() { ip netns exec "$NS" "$TUNFLOW" report "$@"; }
check "report usage --clickhouse" "$(report usage "${RCH[@]}" -o json)" \
	"$(printf '%s\n' '{"user":"alice","bytes_in":342,"bytes_out":0,"packets_in":9,"packets_out":0,"flows":3}' \
		'{"user":"bob","bytes_in":418,"bytes_out":0,"packets_in":11,"packets_out":0,"flows":2}' \
		'{"user":"carol","bytes_in":114,"bytes_out":0,"packets_in":3,"packets_out":0,"flows":1}')"
check "report top --user bob --clickhouse" "$(report top --user bob "${RCH[@]}" -o json | jq -c '[.user, .address, .bytes_in, .flows]')" \
	'["bob","192.0.2.1",418,2]'
check "report who 192.0.2.1 --clickhouse" "$(report who 192.0.2.1 "${RCH[@]}" -o json | jq -c '[.user, .addresses, .bytes_in, .flows]' | tr '\n' ' ')" \
	'["bob",1,418,2] ["alice",1,342,3] ["carol",1,114,1] '
check "report who 198.51.100.0/24 --clickhouse: nobody" "$(report who 198.51.100.0/24 "${RCH[@]}" -o json)" ""
check "report sessions --clickhouse: tun1's, gone" \
	"$(report sessions "${RCH[@]}" -o json | jq -c '[.iface, .end, .gateway, .packets_in, .bytes_in]')" \
	'["tun1","interface gone","gw-test",3,114]'
for r in "sessions" "usage" "usage --per day" "usage --per hour --by iface" "top" "top --user alice -n 1" \
	"who 192.0.2.0/24" "who 192.0.2.1" "usage --since 1h" "usage --until 2020-01-01"; do
	for o in json table csv; do
		# shellcheck disable=SC2086 # $r is words
		check "report $r -o $o: the same as the store's" "$(report $r "${RCH[@]}" -o $o 2>&1)" \
			"$(report $r --store "$TMP/flows.db" -o $o 2>&1)"
	done
done
# over https: the test's own CA, or no check at all; the system's CAs do not know it
HTTPS=(--clickhouse https://127.0.0.1:8443 --clickhouse-user tf --clickhouse-password-file
	"$TMP/pw" --clickhouse-database tfdb)
check "report over https (--clickhouse-ca)" \
	"$(report usage "${HTTPS[@]}" --clickhouse-ca "$CH/cert.pem" -o csv 2>&1)" "$(report usage "${RCH[@]}" -o csv)"
check "report over https (--clickhouse-insecure)" \
	"$(report usage "${HTTPS[@]}" --clickhouse-insecure -o csv 2>&1)" "$(report usage "${RCH[@]}" -o csv)"
check "report over https, a certificate nobody vouches for: one line" \
	"$(report usage "${HTTPS[@]}" 2>&1 | sed 's/: SSL certificate problem.*\|: server certificate verification failed.*/: CERT/'; echo "status ${PIPESTATUS[0]}")" \
	"$(printf 'tunflow: ClickHouse https://127.0.0.1:8443/: CERT\nstatus 1')"
ip netns exec "$NS" "$TUNFLOW" -o none "${HTTPS[@]}" tun0 >/dev/null 2>"$TMP/err.tls"
rc=$?
check "tunflow over https, a certificate nobody vouches for: an error at start" \
	"$(sed 's/: SSL certificate problem.*\|: server certificate verification failed.*/: CERT/' "$TMP/err.tls"; echo "status $rc")" \
	"$(printf 'tunflow: ClickHouse https://127.0.0.1:8443/: CERT\nstatus 1')"
check "report with a wrong password: one line" \
	"$(report usage "${RCH[@]}" --clickhouse-password-file "$TMP/badpw" 2>&1; echo "status $?")" \
	"$(printf 'tunflow: ClickHouse %s/: Wrong password for user tf (HTTP 401)\nstatus 1' "$URL")"

# -- the server goes away mid-run and comes back: records wait and arrive, each once
chq "DROP TABLE tfdb.tunflow_flows"
tf_start "$NS" "$TMP/out2.json" "$TMP/err2" -o json --records -t 0.1 -d ingress \
	--idle-timeout 0.3 --metrics 127.0.0.1:9101 --user-map "$MAP" "${CHOPTS[@]}" tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=2001,dport=7,payload=10,count=7"
for _ in $(seq 50); do
	[ "$(chq "SELECT count() FROM tfdb.tunflow_flows" 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
check "before the outage: the first record arrived" "$(chq "SELECT count() FROM tfdb.tunflow_flows")" 1
ch_stop
for i in 1 2 3 4 5 6; do
	send "v=4,proto=udp,src=192.0.2.10,dst=192.0.2.1,sport=300$i,dport=7,payload=10,count=$i"
	sleep 0.15
done
sleep 0.8 # the last record's idle timeout and a harvest
# (the JSON counters object is written when a failure count changes; /metrics always)
check "during the outage: six records wait, none failed (/metrics)" \
	"$(ip netns exec "$NS" curl -s http://127.0.0.1:9101/metrics | grep '^tunflow_clickhouse_' | tr '\n' ' ')" \
	"tunflow_clickhouse_records_total 1 tunflow_clickhouse_failures_total 0 tunflow_clickhouse_backlog_records 6 "
check "the outage said once" "$(grep -c "ClickHouse $URL/: .*records wait for it" "$TMP/err2")" 1
ch_start
echo "# clickhouse-server restarted in $CH_START_MS ms"
for _ in $(seq 150); do
	ip netns exec "$NS" curl -s http://127.0.0.1:9101/metrics |
		grep -q '^tunflow_clickhouse_backlog_records 0$' && break
	sleep 0.1
done
tf_stop
check "after the outage: delivering again, said" "$(grep -c "ClickHouse $URL/: delivering again" "$TMP/err2")" 1
check "after the outage: counters" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.clickhouse_sent, .clickhouse_failures, .clickhouse_backlog]' "$TMP/out2.json")" \
	"[7,0,0]"
# a batch sent twice (as after a lost answer) collapses: the same rows inserted again
chq "INSERT INTO tfdb.tunflow_flows SELECT * FROM tfdb.tunflow_flows WHERE user = 'bob'"
check "a re-sent batch is there twice before the collapse" "$(chq "SELECT count() FROM tfdb.tunflow_flows")" 13
check "every record once after the collapse (FINAL)" \
	"$(chq "SELECT user, count(), sum(packets), sum(bytes) FROM tfdb.tunflow_flows FINAL GROUP BY user ORDER BY user FORMAT CSV")" \
	"$(printf '"alice",1,7,266\n"bob",6,21,798')"
chq "OPTIMIZE TABLE tfdb.tunflow_flows FINAL"
check "every record once after OPTIMIZE ... FINAL" "$(chq "SELECT count() FROM tfdb.tunflow_flows")" 7
check "no record lost: ids 1 to 7" \
	"$(chq "SELECT min(seq), max(seq), uniqExact(seq) FROM tfdb.tunflow_flows FORMAT CSV")" "1,7,7"

# -- an answer lost: a proxy passes the first INSERT to the server and closes the
# connection instead of answering; tunflow sends the batch again; the copies collapse
cat >"$TMP/loser.py" <<'PYEOF'
import socket, sys
lst = socket.socket()
lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lst.bind(("127.0.0.1", int(sys.argv[1])))
lst.listen(8)
lost = 0
while True:
    c, _ = lst.accept()
    while True:
        req = b""
        while b"\r\n\r\n" not in req:
            d = c.recv(65536)
            if not d:
                break
            req += d
        if not req:
            break
        head, _, body = req.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                n = int(line.split(b":")[1])
        while len(body) < n:
            body += c.recv(65536)
        s = socket.create_connection(("127.0.0.1", int(sys.argv[2])))
        s.sendall(head + b"\r\nConnection: close\r\n\r\n" + body)
        ans = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            ans += d
        s.close()
        if b"INSERT" in head and b"RowBinary" in head and lost == 0:
            lost = 1
            print("lost the answer to an insert", flush=True)
            break
        c.sendall(ans)
    c.close()
PYEOF
chq "TRUNCATE TABLE tfdb.tunflow_flows" 2>/dev/null || chq "DROP TABLE tfdb.tunflow_flows"
bg ip netns exec "$NS" python3 "$TMP/loser.py" 8124 8123 >"$TMP/loser.out" 2>&1
for _ in $(seq 100); do ip netns exec "$NS" curl -s http://127.0.0.1:8124/ping >/dev/null 2>&1 && break; sleep 0.05; done
tf_start "$NS" "$TMP/out4.json" "$TMP/err4" -o json --records -t 0.1 -d ingress --user-map "$MAP" \
	--clickhouse http://127.0.0.1:8124 --clickhouse-user tf --clickhouse-password-file "$TMP/pw" \
	--clickhouse-database tfdb --gateway-id gw-test tun0 || exit 1
p="v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,dport=7,payload=10,count=2"
send "$p,sport=5001" "$p,sport=5002" "$p,sport=5003"
sleep 0.3
tf_stop
check "the proxy lost an answer" "$(cat "$TMP/loser.out")" "lost the answer to an insert"
check "lost answer: said, and the retry" \
	"$(grep -c "^tunflow: ClickHouse http://127.0.0.1:8124/: .*; records wait for it\|^tunflow: ClickHouse http://127.0.0.1:8124/: delivering again$" "$TMP/err4")" 2
check "lost answer: the batch is there twice" "$(chq "SELECT count(), uniqExact(run, seq) FROM tfdb.tunflow_flows FORMAT CSV")" "6,3"
check "lost answer: once after the collapse (FINAL)" \
	"$(chq "SELECT count(), sum(packets), sum(bytes) FROM tfdb.tunflow_flows FINAL FORMAT CSV")" "3,6,228"
check "lost answer: counted as sent once, no failure" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.clickhouse_sent, .clickhouse_failures, .clickhouse_backlog]' "$TMP/out4.json")" \
	"[3,0,0]"

# -- a full backlog: the batch that does not fit is counted, exactly (the server killed)
kill -KILL "$CH_PID"
wait "$CH_PID" 2>/dev/null
tf_start "$NS" "$TMP/out3.json" "$TMP/err3" -o json --records -t 0.2 -d ingress \
	--idle-timeout 0.3 --clickhouse-backlog 4 --user-map "$MAP" "${CHOPTS[@]}" tun0 || exit 1
p="v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,dport=7,payload=10,count=1"
send "$p,sport=4001" "$p,sport=4002" "$p,sport=4003" "$p,sport=4004"
sleep 1
send "$p,sport=4005" "$p,sport=4006"
sleep 1
check "full backlog: four wait, the two that did not fit failed" \
	"$(jq -s -c 'map(select(.type == "counters")) | last | [.clickhouse_sent, .clickhouse_failures, .clickhouse_backlog]' "$TMP/out3.json")" \
	"[0,2,4]"
tf_stop
check "full backlog: at exit the four waiting are failures too" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.clickhouse_sent, .clickhouse_failures, .clickhouse_backlog]' "$TMP/out3.json")" \
	"[0,6,0]"
finish

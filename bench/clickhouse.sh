#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Records per second into ClickHouse: Debian's clickhouse-server on the loopback of a
# namespace of its own (data under a temporary directory), pinned to the last CPU;
# build/chbench (the ClickHouse sink as the pipeline drives it: encoding on the harvest
# thread, the sender thread posting) pinned to CPU 0. Then the formats: the same rows as
# JSONEachRow and as RowBinary, inserted with curl, to see what the server's parsing costs
# each. Prints a Markdown section for docs/BENCHMARKS.md.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/net/clickhouse_lib.sh
[ -x "$CH_SERVER" ] || { echo "bench: clickhouse-server is not installed (make deps)" >&2; exit 1; }
[ -x build/chbench ] || { echo "bench: build/chbench is missing (make all)" >&2; exit 1; }
TMPD=$(mktemp -d /tmp/tunflow-chbench.XXXXXX)
NS=tfchb$$
PID=
cleanup() {
	[ -n "$PID" ] && { kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMPD"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
LAST=$(($(nproc) - 1))
ip netns add "$NS"
ip -n "$NS" link set lo up
ch_config "$TMPD"
t0=$(date +%s%N)
ip netns exec "$NS" taskset -c "$LAST" "$CH_SERVER" --config-file="$TMPD/config.xml" >"$TMPD/console" 2>&1 &
PID=$!
URL=http://127.0.0.1:8123
inns() { ip netns exec "$NS" "$@"; }
ch_wait "$NS"
t1=$(date +%s%N)
q() { inns curl -sS --data-binary "$1" "$URL/"; }
version=$(q "SELECT version()")
[ -n "$version" ] || { echo "bench: clickhouse-server did not start: $(cat "$TMPD/console")" >&2; exit 1; }

echo
echo "## ClickHouse (--clickhouse)"
echo
echo "Debian's clickhouse-server $version on loopback in a namespace, pinned to CPU $LAST (started in $(((t1 - t0) / 1000000)) ms, an empty data directory); tunflow's ClickHouse sink (build/chbench: N biflow records of 1,000 users, a batch every 10,000 records as after a harvest; RowBinary encoding on the calling thread, a sender thread posting \`INSERT ... FORMAT RowBinary\` over HTTP with libcurl) pinned to CPU 0, so encoding and sending share one core. Delivered: until the server accepted the last batch (HTTP 200). Shared machine: other work may have run at the same time."
echo
echo "| records | harvest thread CPU ns/record | all delivered after s | records/s delivered | request bytes/record | failures |"
echo "|---|---|---|---|---|---|"
for n in 100000 1000000; do
	q "DROP TABLE IF EXISTS default.bench_$n"
	inns taskset -c 0 build/chbench "$URL" default "bench_$n" "$n" 2>/dev/null || exit 1
done
rows=$(q "SELECT count() FROM default.bench_1000000")
echo
echo "Rows in the server afterwards: $rows of 1000000."
echo
# the formats: the same million rows, parsed by the server from each
for f in JSONEachRow RowBinary; do
	q "SELECT * FROM default.bench_1000000 FORMAT $f" >"$TMPD/rows.$f"
done
q "CREATE TABLE default.bench_fmt AS default.bench_1000000"
echo "The same 1,000,000 rows posted with curl in each format (the server's parsing and writing; median of 3):"
echo
echo "| format | request bytes/record | s | records/s |"
echo "|---|---|---|---|"
for f in JSONEachRow RowBinary; do
	times=()
	for _ in 1 2 3; do
		q "TRUNCATE TABLE default.bench_fmt" 2>/dev/null || {
			q "DROP TABLE default.bench_fmt"
			q "CREATE TABLE default.bench_fmt AS default.bench_1000000"
		}
		s0=$(date +%s%N)
		inns curl -sS -H 'Expect:' --data-binary "@$TMPD/rows.$f" \
			"$URL/?query=INSERT%20INTO%20default.bench_fmt%20FORMAT%20$f" || exit 1
		s1=$(date +%s%N)
		times+=($(((s1 - s0) / 1000000)))
	done
	ms=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
	size=$(stat -c %s "$TMPD/rows.$f")
	echo "| $f | $((size / 1000000)) | $(awk "BEGIN {printf \"%.2f\", $ms / 1000}") | $(awk "BEGIN {printf \"%.0f\", 1000000 / ($ms / 1000)}") |"
done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Offline replay speed (part of make bench; prints Markdown): packets per second of
# `tunflow -r` on one core, beside `softflowd -r` and `tshark -q -z conv,ip -r`, on the
# same large capture (bench/replay_gen.py: N Ethernet frames over F flows, in /tmp,
# removed at exit). Each tool is pinned to one CPU; ROUNDS interleaved rounds, the median
# kept. Rates are by wall time (start-up included: tunflow loads and verifies its
# programs) and by CPU time (user + system), which a shared machine disturbs less.
# The floor under tunflow, in the same rounds (build/replayfloor): libpcap reading the
# capture alone, and an empty tc program run once per packet with BPF_PROG_TEST_RUN on
# the bytes tunflow passes and no context, as tunflow (and with a context); tunflow's
# start-up alone, on a capture of one packet.
set -u
cd "$(dirname "$0")/.."
N=${N:-2000000}
F=${F:-10000}
ROUNDS=${ROUNDS:-3}
CPU=${CPU:-1}
W=$(mktemp -d /tmp/tunflow-replay-bench.XXXXXX)
CAP=$W/cap.pcap
ONE=$W/one.pcap
# softflowd 1.1.0 waits forever on a control socket whose path is over 12 bytes
CTL=$(mktemp -u /tmp/sfXXXX)
NS=tfrb$$
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$W" "$CTL"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ -x build/replayfloor ] || { echo "bench: build/replayfloor is missing (make all)" >&2; exit 1; }
for t in softflowd tshark taskset python3; do
	command -v $t >/dev/null || { echo "bench: $t is not installed (make deps)" >&2; exit 1; }
done
ip netns add "$NS"
python3 bench/replay_gen.py "$CAP" "$N" "$F" || exit 1
python3 bench/replay_gen.py "$ONE" 1 1 || exit 1

# run NAME CMD...: one timed run pinned to $CPU; "wall cpu" seconds appended to $W/NAME
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$W/t" timeout 900 taskset -c "$CPU" "$@" >"$W/$name.out" 2>"$W/$name.err" ||
		{ echo "bench: $name failed: $(tail -2 "$W/$name.err")" >&2; exit 1; }
	awk '{print $1, $2 + $3}' "$W/t" >>"$W/$name"
}
for _ in $(seq "$ROUNDS"); do
	run tunflow ip netns exec "$NS" build/tunflow -r "$CAP" -o none -t 10 --max-flows 65536
	run tunflow-names-off ip netns exec "$NS" build/tunflow -r "$CAP" -o none -t 10 \
		--max-flows 65536 --names off
	run softflowd softflowd -r "$CAP" -d -6 -m 65536 -n 127.0.0.1:9 -c "$CTL" -p "$W/pid"
	run tshark tshark -q -z conv,ip -r "$CAP"
	run libpcap-read build/replayfloor read "$CAP"
	run empty-program ip netns exec "$NS" build/replayfloor empty "$CAP" 0
	run empty-program-192 ip netns exec "$NS" build/replayfloor empty "$CAP" 192
	run empty-program-with-context ip netns exec "$NS" build/replayfloor ctx "$CAP" 192
	run start ip netns exec "$NS" build/tunflow -r "$ONE" -o none -t 10 --max-flows 65536
	run start-names-off ip netns exec "$NS" build/tunflow -r "$ONE" -o none -t 10 \
		--max-flows 65536 --names off
done
for t in libpcap-read empty-program empty-program-192 empty-program-with-context; do
	grep -q "^$N packets" "$W/$t.out" ||
		{ echo "bench: replayfloor $t counted otherwise: $(cat "$W/$t.out")" >&2; exit 1; }
done
grep -q "final: $N packets" "$W/tunflow.err" ||
	{ echo "bench: tunflow counted otherwise: $(cat "$W/tunflow.err")" >&2; exit 1; }
grep -q "Expired flow reasons" "$W/softflowd.out" "$W/softflowd.err" ||
	{ echo "bench: softflowd did not finish: $(tail -2 "$W/softflowd.err")" >&2; exit 1; }
# median COLUMN FILE
median() { cut -d' ' -f"$1" "$2" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p"; }
echo
echo "## Offline replay (\`tunflow -r\`)"
echo
echo "One capture of $N Ethernet frames over $F flows (IPv4 and IPv6, TCP and UDP, 64 to 1400 bytes; bench/replay_gen.py), read by each tool pinned to one CPU; median of $ROUNDS interleaved rounds. tunflow runs every packet through its BPF program with BPF_PROG_TEST_RUN (one system call each) and reports in capture time (\`-o none\`), with destination names (the default: whole packets go to the program, the capture ring is read) and with \`--names off\` (each packet's first 192 bytes); softflowd tracks flows in user space (\`-r\`, NetFlow to a closed port); tshark builds its IP conversation table (\`-q -z conv,ip\`). Wall time includes start-up (tunflow loads and verifies its programs: a few tenths of a second). The floor under tunflow (bench/replayfloor.c, same rounds): \`libpcap-read\` reads the capture and nothing else; \`empty-program\` also runs every packet through an empty tc program (\`TC_ACT_UNSPEC\`) with one BPF_PROG_TEST_RUN and no context, as tunflow does (its programs read capture time and wire length from globals it writes before each run), the whole packet as with names: what the kernel takes for a test run at the least; \`empty-program-192\` its first 192 bytes, as with \`--names off\`; \`empty-program-with-context\` those bytes with a context holding capture time and wire length (what tunflow passed before: the kernel's price for a context). One test run per packet costs at least what \`empty-program\` costs: a tool that makes one is no faster than that. tunflow's start-up alone (a capture of one packet; included above): $(median 1 "$W/start") s wall, $(median 2 "$W/start") s CPU with names, $(median 2 "$W/start-names-off") s CPU with \`--names off\`."
echo
echo "| tool | wall s | packets/s (wall) | CPU s | packets/s (CPU) | CPU µs/packet |"
echo "|---|---|---|---|---|---|"
for t in tunflow tunflow-names-off softflowd tshark libpcap-read empty-program empty-program-192 \
	empty-program-with-context; do
	wall=$(median 1 "$W/$t")
	cpu=$(median 2 "$W/$t")
	awk -v t="$t" -v w="$wall" -v c="$cpu" -v n="$N" \
		'BEGIN { printf "| %s | %.2f | %.0f | %.2f | %.0f | %.3f |\n", t, w, n / w, c, n / c, c * 1e6 / n }'
done

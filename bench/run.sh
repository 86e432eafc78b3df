#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: measure tunflow and write docs/BENCHMARKS.md (QUICK=1: datapath only, into
# build/BENCHMARKS-quick.md).
# Runs only in network namespaces it creates; removes them on exit.
set -u
cd "$(dirname "$0")/.."
QUICK=${QUICK:-0}
OUT=docs/BENCHMARKS.md
# the quick mode measures only the datapath: it must not replace the full record
[ "$QUICK" = 1 ] && OUT=build/BENCHMARKS-quick.md
NSES=()
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for n in "${NSES[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root: run 'sudo make bench'" >&2; exit 1; }

T=$(mktemp)
exec 3>&1
exec > >(tee "$T")
TEE=$!
{
	echo "# tunflow benchmarks"
	echo
	echo "Measured $(date -u +%Y-%m-%d) with \`make bench$([ "$QUICK" = 1 ] && echo ' QUICK=1')\` at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(free -g | awk '/Mem:/ {print $2}') GiB, Linux $(uname -r), mitigations: $(cat /sys/devices/system/cpu/vulnerabilities/spectre_v2 2>/dev/null | cut -c1-60)."
	echo
	echo "## 1. Datapath cost (BPF_PROG_TEST_RUN)"
	echo
	echo "Median of 7 interleaved trials of $([ "$QUICK" = 1 ] && echo 200,000 || echo 1,000,000) runs each, pinned to one CPU; the floor is an empty tc program (\`return TC_ACT_UNSPEC\`) measured in the same trials. One hot flow (the packet repeats). L3 is the tun layout (the packet starts at the IP header)."
	echo
	build/bench datapath $([ "$QUICK" = 1 ] && echo --quick) || exit 1
}

if [ "$QUICK" != 1 ]; then
	{
		echo
		echo "The many-flows rows run each of 65,536 distinct IPv4 UDP flows (port 443, not DNS) once per pass (one BPF_PROG_TEST_RUN each, so every row carries the same timer overhead, which cancels in the differences): the first pass inserts every flow, the second finds them all. Each flow's four runs (floor, tunflow, tunflow with names on, reference) start with a different program in turn, so none pays for another's cache misses by its place; medians of 5 rounds, each from fresh maps. The reference is a plain per-CPU hash counter doing one lookup and one update per packet on a key read at fixed offsets (bench/plain.bpf.c), for the packet's family: on IPv4 rows the 44-byte struct flow_key with the IPv4 addresses (read at the L3 offsets: behind an Ethernet header the key is nonsense, the cost the same), on IPv6 rows the same key with the IPv6 addresses and the 4 bytes after the fixed header as ports (it walks no extension header: on the extension-header rows its key is wrong, and it does not do the walk tunflow does); the IPv6 rows also show it stepping over extension headers to the ports, as an IPv6 flow counter must (bench/plain.bpf.c's plain6x: hop-by-hop, routing, fragment, AH, destination options, up to 8, with only the checks the verifier demands: no length field, no later fragment, no error counted). The IPv4 rows also show it with a 20-byte key, the length of tunflow's own IPv4 key (struct flow_key4: tunflow keeps IPv4 flows in maps of their own)."
		echo
		echo "## 4. Harvest cost"
		echo
		echo "The active kernel map is filled with N flows, then one harvest runs: map swap (an RCU grace period), batched lookup-and-delete, per-CPU merge, user-space flow table. Kernel drain alone is timed separately into a callback that does nothing. User-space bytes per flow are the heap growth of that harvest; kernel bytes are the kernel's own accounting (bytes_memlock) for both flow maps."
		echo
		build/bench harvest || exit 1
		echo
		echo "## 5. Start-up"
		echo
		echo "Time from exec to 'tunflow: ready' (programs loaded, both directions of every interface attached), and from SIGINT to exit (final harvest, every hook detached); median of 3, tun interfaces in a namespace."
		echo
		echo "| interfaces | attach | start-up ms | exit ms |"
		echo "|---|---|---|---|"
		for n in 1 1000; do
			ns=tfbench$$-$n
			ip netns add "$ns"; NSES+=("$ns")
			for i in $(seq 0 $((n - 1))); do echo "tuntap add mode tun name tb$i"; done | ip -n "$ns" -batch -
			for i in $(seq 0 $((n - 1))); do echo "link set tb$i up"; done | ip -n "$ns" -batch -
			for mode in tcx tc auto; do
				starts=(); stops=()
				for trial in 1 2 3; do
					err=$(mktemp)
					t0=$(date +%s%N)
					ip netns exec "$ns" build/tunflow --attach $mode -o json 'tb*' >/dev/null 2>"$err" &
					pid=$!
					until grep -q "tunflow: ready" "$err"; do
						kill -0 $pid 2>/dev/null || { echo "bench: tunflow failed: $(cat "$err")" >&2; exit 1; }
						sleep 0.005
					done
					t1=$(date +%s%N)
					kill -INT $pid; wait $pid
					t2=$(date +%s%N)
					rm -f "$err"
					starts+=($(( (t1 - t0) / 1000000 )))
					stops+=($(( (t2 - t1) / 1000000 )))
				done
				echo "| $n | $mode | $(printf '%s\n' "${starts[@]}" | sort -n | sed -n 2p) | $(printf '%s\n' "${stops[@]}" | sort -n | sed -n 2p) |"
			done
			ip netns del "$ns"
		done
		echo
		echo "## 6. IPFIX export"
		echo
		echo "N biflow records (IPv4 TCP, with interface name and user) go through the exporter to a TCP collector on loopback that reads and counts (bench export). The harvest thread's part is encoding (libfixbuf) and queueing, flushed every 10,000 records as after a harvest; delivery is the sender thread until the last byte is written. Wire bytes per record include the message and set headers."
		echo
		build/bench export || exit 1
	}
	bench/throughput.sh || exit 1
	bench/geo.sh || exit 1
	bench/tui.sh || exit 1
	bench/store.sh || exit 1
	bench/names.sh || exit 1
	bench/names_replay.sh || exit 1
	bench/clickhouse.sh || exit 1
	bench/harvest_change.sh || exit 1
	bench/ablate.sh || exit 1
	bench/replay.sh || exit 1
fi
exec >&3
wait $TEE
mv "$T" "$OUT"
chmod 644 "$OUT"
echo "bench: wrote $OUT"

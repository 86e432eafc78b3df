#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Throughput overhead and accuracy on real links (part of make bench; prints Markdown).
# iperf3 TCP over (a) a veth pair with GSO, (b) a veth pair at 1500 bytes with every
# offload off, (c) two tun devices joined by a relay (the shape of a VPN). Each link runs
# with no monitor, with tunflow on both directions, and with softflowd (libpcap) on the
# same interface; configurations are interleaved, ROUNDS rounds of DUR seconds.
set -u
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-5}
P=tfbt$$
NSES=()
PIDS=()
W=$(mktemp -d)
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	for n in "${NSES[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for t in iperf3 softflowd ethtool jq; do
	command -v $t >/dev/null || { echo "bench: $t is not installed (make deps)" >&2; exit 1; }
done

mkns() {
	ip netns add "$1"; NSES+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}
# veth link: NAME, with or without offloads
mkveth() {
	local c=${P}$1c s=${P}$1s
	mkns "$c"; mkns "$s"
	ip -n "$c" link add x0 type veth peer name x1 netns "$s"
	ip -n "$c" addr add 198.51.100.1/24 dev x0
	ip -n "$s" addr add 198.51.100.2/24 dev x1
	ip -n "$c" link set x0 up; ip -n "$s" link set x1 up
	ip -n "$c" neigh add 198.51.100.2 lladdr "$(ip -n "$s" -j link show x1 | jq -r '.[0].address')" dev x0 nud permanent
	ip -n "$s" neigh add 198.51.100.1 lladdr "$(ip -n "$c" -j link show x0 | jq -r '.[0].address')" dev x1 nud permanent
	if [ "$2" = nooffload ]; then
		for e in "$c x0" "$s x1"; do
			set -- $e
			ip netns exec "$1" ethtool -K "$2" tso off gso off gro off gso off tx off rx off sg off >/dev/null 2>&1
		done
	fi
}
mkveth a gso
mkveth b nooffload
# tun link: tun0 in the client namespace, tun1 in the server's, joined by tunrelay
mkns ${P}cc; mkns ${P}cs
ip -n ${P}cc tuntap add mode tun name x0; ip -n ${P}cs tuntap add mode tun name x1
ip -n ${P}cc addr add 198.51.100.1/24 dev x0; ip -n ${P}cs addr add 198.51.100.2/24 dev x1
ip -n ${P}cc link set x0 up txqueuelen 10000; ip -n ${P}cs link set x1 up txqueuelen 10000
build/tunrelay ${P}cc x0 ${P}cs x1 &
PIDS+=($!)
for l in a b c; do
	ip netns exec ${P}${l}s iperf3 -s -p 5201 >/dev/null 2>&1 &
	PIDS+=($!)
done
sleep 0.5

busy() { awk '/^cpu / {print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# packets that reached the interface either way (tx_dropped: queued for it and dropped
# there, after tc saw them), bytes counted by the interface, and those drops
ifstat() { ip -n "$1" -s -j link show x0 | jq -r '.[0].stats64 | "\(.rx.packets + .tx.packets + .tx.dropped) \(.rx.bytes + .tx.bytes) \(.tx.dropped)"'; }
# TCP segments in and out, retransmissions included (Linux leaves them out of OutSegs)
tcpsegs() { ip netns exec "$1" awk '/^Tcp:/ {n++; if (n == 2) print $11 + $12 + $13}' /proc/net/snmp; }

# one LINK CONFIG ROUND: run iperf3, print "gbps machine_cpu_pct monitor_cpu_pct"
one() {
	local link=$1 cfg=$2 r=$3 c=${P}$1c mon=0 json=$W/$1-$2-$3.json
	case $cfg in
	tunflow)
		ip netns exec "$c" build/tunflow -o json -t 1 x0 >"$json" 2>"$W/err" &
		mon=$!
		until grep -q "tunflow: ready" "$W/err"; do kill -0 $mon 2>/dev/null || return 1; sleep 0.02; done
		;;
	softflowd)
		ip netns exec "$c" softflowd -i x0 -d -n 127.0.0.1:9995 -p "$W/sf.pid" -c "$W/sf.ctl" >/dev/null 2>&1 &
		mon=$!
		sleep 0.5
		;;
	esac
	local s0 s1 b0 b1 t0 t1 seg0 seg1
	s0=$(ifstat "$c"); seg0=$(tcpsegs "$c"); b0=$(busy); t0=$([ $mon -gt 0 ] && proc_ticks $mon || echo 0)
	local gbps
	gbps=$(ip netns exec "$c" iperf3 -c 198.51.100.2 -p 5201 -t "$DUR" -J 2>/dev/null | jq '.end.sum_received.bits_per_second / 1e9')
	sleep 0.3
	b1=$(busy); t1=$([ $mon -gt 0 ] && proc_ticks $mon || echo 0); s1=$(ifstat "$c"); seg1=$(tcpsegs "$c")
	if [ "$cfg" = tunflow ]; then
		kill -INT $mon; wait $mon        # final harvest
	elif [ $mon -gt 0 ]; then
		kill -KILL $mon; wait $mon 2>/dev/null # softflowd waits for its next expiry on SIGTERM
	fi
	local cpu moncpu
	cpu=$(echo "$b0 $b1" | awk '{printf "%.0f", 100 * ($3 - $1) / ($4 - $2) * 2}')
	moncpu=$(echo "$t0 $t1 $DUR $(getconf CLK_TCK)" | awk '{printf "%.1f", 100 * ($2 - $1) / $4 / $3}')
	echo "$gbps $cpu $moncpu" >"$W/r-$link-$cfg-$r"
	if [ "$cfg" = tunflow ]; then
		local tp tb
		tp=$(jq -s 'map(select(.type == "flow") | .packets) | add' "$json")
		tb=$(jq -s 'map(select(.type == "flow") | .bytes) | add' "$json")
		echo "$s0 $s1 $seg0 $seg1 $tp $tb" >"$W/acc-$link-$r"
	fi
}

for r in $(seq 1 "$ROUNDS"); do
	for link in a b c; do
		for cfg in none tunflow softflowd; do
			one $link $cfg $r || { echo "bench: $link $cfg failed" >&2; exit 1; }
		done
	done
done

name() { case $1 in a) echo "veth, GSO";; b) echo "veth, 1500 B, no offloads";; c) echo "tun + relay (VPN shape)";; esac; }
echo
echo "## 2. Throughput overhead on real links"
echo
echo "iperf3 TCP for ${DUR} s per run, ${ROUNDS} rounds, configurations interleaved within each round. Machine CPU is the busy share of both CPUs during the run (200% = both busy); monitor CPU is the monitor process's own user+system time (tunflow's kernel work runs in softirq and shows in machine CPU)."
echo
echo "| link | monitor | median Gbit/s | min..max | % of no monitor | machine CPU % | monitor process CPU % |"
echo "|---|---|---|---|---|---|---|"
for link in a b c; do
	base=$(cat "$W"/r-$link-none-* | awk '{print $1}' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
	for cfg in none tunflow softflowd; do
		cat "$W"/r-$link-$cfg-* | sort -g | awk -v b="$base" -v l="$(name $link)" -v c="$cfg" '
			{g[NR]=$1; cpu[NR]=$2; m[NR]=$3; if (NR == 1 || $1 < lo) lo = $1; if ($1 > hi) hi = $1}
			END {i = int((NR+1)/2); printf "| %s | %s | %.2f | %.2f..%.2f | %.1f%% | %d | %.1f |\n", l, c, g[i], lo, hi, 100 * g[i] / b, cpu[i], m[i]}'
	done
done
echo
echo "## 3. Accuracy at speed"
echo
echo "Packets and bytes tunflow reported (both directions, all rounds) against a reference counted over the same window. On the tun and on the veth without offloads the reference is the interface's own counters, with tx_dropped added to the packets: those reached the device and were dropped there, after tc saw them (their bytes are not counted anywhere, so bytes are compared only where nothing was dropped; on veth, bytes less 14 per packet of Ethernet header). On the GSO veth the interface counts GSO/GRO skbs, not wire packets, so the reference is the client's TCP segment counters (InSegs + OutSegs + RetransSegs), which count wire segments; bytes have no wire-level reference there."
echo
echo "| link | reference | reference packets | tunflow packets | dropped by the device | reference bytes | tunflow bytes | exact |"
echo "|---|---|---|---|---|---|---|---|"
for link in a b c; do
	cat "$W"/acc-$link-* | awk -v l="$(name $link)" -v k=$link '
		{rp += $4 - $1; rb += $5 - $2; dr += $6 - $3; sg += $8 - $7; tp += $9; tb += $10}
		END {
			if (k == "a") { printf "| %s | TCP segments | %d | %d | %d | - | %.0f | %s |\n", l, sg, tp, dr, tb, (sg == tp) ? "yes (packets)" : "NO" }
			else {
				if (k == "b") rb -= 14 * (rp - dr)
				ok = rp == tp && (dr > 0 || rb == tb)
				printf "| %s | interface counters | %d | %d | %d | %s | %.0f | %s |\n", l, rp, tp, dr, dr ? "- (drops)" : sprintf("%.0f", rb), tb, ok ? (dr ? "yes (packets)" : "yes") : "NO"
			}
		}'
done

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make demo: a throwaway network namespace with a tun interface standing in for a VPN
# tunnel, traffic through it both ways, and tunflow's live table for a few seconds.
# Everything it creates is removed on exit, whatever happens.
set -u
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${DEMO_SECONDS:-6}
NS=tunflow-demo-$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root for network namespaces and BPF: run 'sudo make demo'" >&2
	exit 1
fi

# The "VPN client": tun0 with an inner address, routes to the documentation networks
# behind the "VPN server".
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add mode tun name tun0
ip -n "$NS" addr add 192.0.2.1/24 dev tun0
ip -n "$NS" addr add 2001:db8::1/64 dev tun0 nodad
ip -n "$NS" link set tun0 up
ip -n "$NS" route add 198.51.100.0/24 dev tun0
ip -n "$NS" route add 203.0.113.0/24 dev tun0
ip -n "$NS" -6 route add 2001:db8:100::/48 dev tun0

# Decrypted traffic from the tunnel (what a VPN daemon writes into tun0), 50 packets a
# second: pings and TCP connection attempts that this host answers, a UDP stream.
ip netns exec "$NS" build/tunpkt tun0 --pps 50 --hold 2 \
	"v=4,proto=icmp,sport=8,src=198.51.100.10,dst=192.0.2.1,payload=56,count=60" \
	"v=4,proto=tcp,flags=2,src=198.51.100.20,dst=192.0.2.1,sport=50000,dport=443,count=40,flows=4" \
	"v=6,proto=udp,src=2001:db8:100::30,dst=2001:db8::1,sport=5353,dport=5353,payload=300,count=80" \
	"v=6,proto=icmp6,sport=128,src=2001:db8:100::31,dst=2001:db8::1,payload=56,count=60" \
	2>/dev/null &
PIDS+=($!)
# Local applications sending into the tunnel.
ip netns exec "$NS" ping -q -i 0.2 -s 1000 203.0.113.5 >/dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$NS" bash -c 'exec 3>/dev/udp/198.51.100.53/53; while printf "%60s" q >&3; do sleep 0.1; done' 2>/dev/null &
PIDS+=($!)

echo "demo: tunflow on tun0 in namespace $NS for $SECONDS_TO_RUN seconds"
ip netns exec "$NS" build/tunflow -o table --duration "$SECONDS_TO_RUN" tun0

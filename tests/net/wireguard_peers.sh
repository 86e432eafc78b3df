#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# WireGuard peers from a real wireguard-go: a server (wg0) with two peers, alice (named in
# a config file's "# Name =" line) and bob (not named: his short key), and a client (wg1)
# that is alice, in two namespaces joined by a veth. tunflow's reading of the UAPI
# socket is compared field by field with `wg show wg0 dump`, before and after a real
# handshake; tunflow on wg0 (found by its socket: no --wireguard) names the flows by
# peer, follows a change of allowed IPs and a removed peer; a missing socket for
# --wireguard and a malformed answer are said in one line each.
# wireguard-go and wg put their sockets in /var/run/wireguard: the test runs in a private
# mount namespace with its own /run (the host's /run/netns bound into it), so the host's
# /var/run/wireguard is never touched.
SUITE=wireguard_peers
if [ -z "${TF_WG_UNSHARED:-}" ]; then
	exec unshare -m --propagation private env TF_WG_UNSHARED=1 bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need jq
need wireguard-go
need wg
RUN=$(mktemp -d /tmp/tunflow-wgrun.XXXXXX)
mount -t tmpfs tmpfs "$RUN"
mkdir "$RUN/netns" "$RUN/wireguard"
mount --rbind /run/netns "$RUN/netns"
mount --rbind "$RUN" /run
wg_teardown() {
	teardown
	umount -l /run 2>/dev/null
	umount -l "$RUN" 2>/dev/null
	rmdir "$RUN" 2>/dev/null
}
trap wg_teardown EXIT
SOCK=/var/run/wireguard

ns_new s
S=$NS
ns_new c
C=$NS
ip link add "tfwg$$s" netns "$S" type veth peer name "tfwg$$c" netns "$C"
ip -n "$S" addr add 198.51.100.1/24 dev "tfwg$$s"
ip -n "$C" addr add 198.51.100.2/24 dev "tfwg$$c"
ip -n "$S" link set "tfwg$$s" up
ip -n "$C" link set "tfwg$$c" up

# wgo NS IFACE: wireguard-go in the foreground (in the background), until its socket is up
wgo() {
	bg env WG_PROCESS_FOREGROUND=1 ip netns exec "$1" wireguard-go -f "$2" >"$TMP/$2.log" 2>&1
	for _ in $(seq 100); do
		[ -S "$SOCK/$2.sock" ] && return 0
		sleep 0.05
	done
	echo "wireguard-go $2 did not start: $(cat "$TMP/$2.log")" >&2
	exit 1
}
wgo "$S" wg0
wgo "$C" wg1
umask 077
wg genkey >"$TMP/s.key"
wg genkey >"$TMP/a.key"
wg genkey >"$TMP/b.key"
SPUB=$(wg pubkey <"$TMP/s.key")
APUB=$(wg pubkey <"$TMP/a.key")
BPUB=$(wg pubkey <"$TMP/b.key")
ip netns exec "$S" wg set wg0 private-key "$TMP/s.key" listen-port 51820 \
	peer "$APUB" allowed-ips 192.0.2.10/32,2001:db8::10/128 \
	peer "$BPUB" allowed-ips 192.0.2.20/32
ip -n "$S" addr add 192.0.2.1/24 dev wg0
ip -n "$S" link set wg0 up
ip netns exec "$C" wg set wg1 private-key "$TMP/a.key" listen-port 51821 \
	peer "$SPUB" endpoint 198.51.100.1:51820 allowed-ips 192.0.2.0/24
ip -n "$C" addr add 192.0.2.10/24 dev wg1
ip -n "$C" link set wg1 up
cat >"$TMP/wg0.conf" <<EOF
[Interface]
ListenPort = 51820

# Name = alice
[Peer]
PublicKey = $APUB
AllowedIPs = 192.0.2.10/32
EOF
chmod 600 "$TMP/wg0.conf"

# tunflow's reading of the socket, as `wg show wg0 dump` prints it (columns: key,
# endpoint, allowed IPs, latest handshake, rx, tx)
# (sorted: wireguard-go answers in its map's order, which changes from one read to the next)
ours() { "$TOP/build/test_wireguard" dump "$SOCK" wg0 | sort; }
theirs() { ip netns exec "$S" wg show wg0 dump | tail -n +2 | cut -f1,3,4,5,6,7 | sort; }
check "UAPI read: as wg shows it, before a handshake" "$(ours)" "$(theirs)"
check "UAPI read: two peers" "$(ours | cut -f1,2,3 | tr '\t\n' ' ;')" \
	"$(printf '%s (none) 192.0.2.10/32,2001:db8::10/128\n%s (none) 192.0.2.20/32\n' "$APUB" "$BPUB" |
		sort | tr '\n' ';')"

tf_start "$S" "$TMP/out.json" "$TMP/err" -o json -t 0.2 --wireguard-names "$TMP/wg0.conf" \
	--wireguard wg9 wg0 || exit 1
# alice, from her client through the tunnel: a real handshake, then 3 pings
ip netns exec "$C" ping -c 3 -i 0.2 -W 2 192.0.2.1 >/dev/null
check "handshake made" "$(ip netns exec "$S" wg show wg0 latest-handshakes | grep -c "^$APUB	[1-9]")" 1
# the server to bob (no endpoint: tunflow sees the packet leave, WireGuard drops it)
ip netns exec "$S" bash -c 'echo x >/dev/udp/192.0.2.20/1001' 2>/dev/null
sleep 0.5
ip netns exec "$S" ping -c 1 -W 1 192.0.2.10 >/dev/null
sleep 0.3
# after a handshake: endpoint, handshake time and counters the same as wg's
check "UAPI read: as wg shows it, after a handshake" "$(ours)" "$(theirs)"
check "UAPI read: alice's endpoint" "$(ours | grep "^$APUB" | cut -f2)" "198.51.100.2:51821"
# bob's allowed IPs change; alice is removed
ip netns exec "$S" wg set wg0 peer "$BPUB" allowed-ips 192.0.2.30/32
ip netns exec "$S" wg set wg0 peer "$APUB" remove
sleep 1.5
ip netns exec "$S" bash -c 'echo x >/dev/udp/192.0.2.30/1002' 2>/dev/null
ip netns exec "$S" bash -c 'echo x >/dev/udp/192.0.2.20/1003' 2>/dev/null
ip netns exec "$S" bash -c 'echo x >/dev/udp/192.0.2.10/1004' 2>/dev/null
sleep 0.5
tf_stop
check "exit status" "$TF_RC" 0
# users COND: "USER PACKETS" per user of the flow lines matching COND
users() {
	jq -s -r "map(select(.type == \"flow\" and $1)) | group_by(.user)
		| map(\"\(.[0].user) \(map(.packets) | add)\") | join(\",\")" "$TMP/out.json"
}
check "alice's pings in: named from the config file, to the packet" \
	"$(users '.dir == "ingress" and .proto == 1 and .src == "192.0.2.10" and .icmp_type == 8')" "alice 3"
check "alice's pings out" "$(users '.dir == "egress" and .proto == 1 and .dst == "192.0.2.10" and .icmp_type == 0')" "alice 3"
check "the server's ping to alice (egress: her allowed IP is the destination)" \
	"$(users '.dir == "egress" and .proto == 1 and .dst == "192.0.2.10" and .icmp_type == 8')" "alice 1"
check "bob: his short key" "$(users '.dport == 1001')" "${BPUB:0:8} 1"
check "bob's new allowed IP" "$(users '.dport == 1002')" "${BPUB:0:8} 1"
check "bob's old allowed IP: nobody" "$(users '.dport == 1003')" "null 1"
check "alice removed: nobody" "$(users '.dport == 1004')" "null 1"
check "--wireguard without a socket: said once" \
	"$(grep -c "^tunflow: wireguard wg9: UAPI socket /var/run/wireguard/wg9.sock: No such file or directory: is wireguard-go running for it?$" "$TMP/err")" 1
check "wg0 found by its socket" \
	"$(grep -c "^tunflow: wireguard wg0: peers from its UAPI socket in /var/run/wireguard$" "$TMP/err")" 1

# a malformed answer: a fake wg7 socket that answers nonsense, said once, then counted
cat >"$TMP/fake.py" <<'EOF'
import socket, sys, os
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(64); c.sendall(b"listen_port=1\nbogus\nerrno=0\n\n"); c.close()
EOF
if command -v python3 >/dev/null; then
	bg python3 "$TMP/fake.py" "$SOCK/wg7.sock"
	for _ in $(seq 50); do [ -S "$SOCK/wg7.sock" ] && break; sleep 0.05; done
	tf_start "$S" "$TMP/out2.json" "$TMP/err2" -o json -t 0.2 --wireguard wg7 wg0 || exit 1
	sleep 2.5
	tf_stop
	check "malformed answer: said once" \
		"$(grep -c "^tunflow: wireguard wg7: UAPI socket /var/run/wireguard/wg7.sock: malformed answer (line 2: not key=value): its peers as read before are kept$" "$TMP/err2")" 1
	check "malformed answer: nothing else said about wg7" "$(grep -c wg7 "$TMP/err2")" 1
else
	fail "prerequisite" "python3 for the fake UAPI socket"
fi
finish

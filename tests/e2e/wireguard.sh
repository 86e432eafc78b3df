#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real WireGuard (Debian's wireguard-go and wireguard-tools): a server with wg0 and two
# clients, alice and bob, each with its own wireguard-go and keys made here by
# `wg genkey`, a web server behind the server. Each wireguard-go runs in a mount
# namespace of its own whose /run/wireguard is a directory under $TMP (the host's
# /run/wireguard is never touched); tunflow reads the server's UAPI socket there
# (TUNFLOW_WG_SOCKDIR). Asserts: on the server's wg0 every flow carries the right user,
# peer and endpoint, ICMP and UDP to the packet, TCP flow by flow; records and CSV carry
# them too; WireGuard's own (outer) counters against tunflow's (inner) ones on echo
# packets of known size; bob removed with `wg set wg0 peer KEY remove`: his session ends
# with his totals, and traffic to his address has no peer; alice's allowed IPs grow to
# bob's old address: its flows follow to her; she goes quiet and her session ends 180 s
# after her handshake (so this test takes over 3 minutes); a new handshake starts a new
# one, which ends at exit; every packet on wg0 counted.
SUITE=wireguard
. "$(dirname "$0")/../net/lib.sh"
. "$(dirname "$0")/lib.sh"
need wireguard-go
need wg
need nsenter
need unshare
need busybox
need nc
need jq

D=$TMP/wg
HOST_RUN_WG=$(ls -la /run/wireguard 2>&1)
mkdir -p "$D/www"
head -c 20000 /dev/zero | tr '\0' x >"$D/www/f"
declare -A WGPID

# wg_up NS NAME: wireguard-go making wg0 in NS, in a mount namespace of its own whose
# /run/wireguard is $D/NAME (its UAPI socket: $D/NAME/wg0.sock); its PID in WGPID[NAME]
# (it is that process: ip, unshare and sh each exec the next), killed by teardown.
wg_up() {
	mkdir -p "$D/$2"
	bg ip netns exec "$1" unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /run && mkdir /run/wireguard &&
		mount --bind "$0" /run/wireguard && WG_PROCESS_FOREGROUND=1 exec wireguard-go wg0' \
		"$D/$2" >"$D/$2.log" 2>&1
	WGPID[$2]=$BG
	for _ in $(seq 100); do
		[ -S "$D/$2/wg0.sock" ] && return 0
		sleep 0.05
	done
	fail "wireguard-go $2 starts" "$(cat "$D/$2.log")"
	finish
}
# wgc NAME ARGS...: wg, in the namespaces of NAME's wireguard-go
wgc() {
	local n=$1
	shift
	nsenter -t "${WGPID[$n]}" -m -n wg "$@"
}

# outer network: server 198.51.100.1 (.17 towards bob), alice 198.51.100.2, bob
# 198.51.100.18; the web server 203.0.113.80 behind the server; IPv6 off
vpn_topology alice bob
declare -A USER_OF=([1]=alice [2]=bob) ADDR_OF=([1]=192.0.2.10 [2]=192.0.2.20)
declare -A PORT_OF=([1]=51001 [2]=51002) OUTER_OF=([1]=198.51.100.2 [2]=198.51.100.18)
(
	umask 077
	for n in srv alice bob; do
		wg genkey >"$D/$n.key" && wg pubkey <"$D/$n.key" >"$D/$n.pub"
	done
) || { fail "keys" "wg genkey failed"; exit 1; }
SPUB=$(cat "$D/srv.pub")
PUB[1]=$(cat "$D/alice.pub")
PUB[2]=$(cat "$D/bob.pub")
check "keys: three distinct public keys" \
	"$(printf '%s\n' "$SPUB" "${PUB[1]}" "${PUB[2]}" | sort -u | grep -c '^[A-Za-z0-9+/]\{43\}=$')" 3

wg_up "$SRV" srv
wgc srv set wg0 private-key "$D/srv.key" listen-port 51820 \
	peer "${PUB[1]}" allowed-ips 192.0.2.10/32 peer "${PUB[2]}" allowed-ips 192.0.2.20/32
ip -n "$SRV" addr add 192.0.2.1/24 dev wg0
ip -n "$SRV" link set wg0 up
for i in 1 2; do
	u=${USER_OF[$i]}
	wg_up "${C[$i]}" "$u"
	wgc "$u" set wg0 private-key "$D/$u.key" listen-port "${PORT_OF[$i]}" \
		peer "$SPUB" endpoint 198.51.100.1:51820 allowed-ips 192.0.2.0/24,203.0.113.0/24
	ip -n "${C[$i]}" addr add "${ADDR_OF[$i]}/32" dev wg0
	ip -n "${C[$i]}" link set wg0 up
	ip -n "${C[$i]}" route add 192.0.2.0/24 dev wg0
	ip -n "${C[$i]}" route add 203.0.113.0/24 dev wg0
done
# the names, as WireGuard configuration tools write them
printf '[Interface]\nListenPort = 51820\n\n# Name = alice\n[Peer]\nPublicKey = %s\nAllowedIPs = 192.0.2.10/32\n\n# Name = bob\n[Peer]\nPublicKey = %s\nAllowedIPs = 192.0.2.20/32\n' \
	"${PUB[1]}" "${PUB[2]}" >"$D/names.conf"

bg ip netns exec "$WEB" busybox httpd -f -p 203.0.113.80:80 -h "$D/www"
bg ip netns exec "$WEB" sh -c 'exec nc -d -u -l 5001 >/dev/null'
bg ip netns exec "$WEB" sh -c 'exec nc -d -u -l 5002 >/dev/null'

export TUNFLOW_WG_SOCKDIR=$D/srv
# named from the config file, flows; unnamed (short keys), records; CSV
tf_start "$SRV" "$TMP/srv.json" "$TMP/srv.err" -o json -t 0.2 --wireguard wg0 \
	--wireguard-names "$D/names.conf" wg0 || exit 1
TFS=$TF
tf_start "$SRV" "$TMP/rec.json" "$TMP/rec.err" -o json --records -t 0.2 wg0 || exit 1
TFR=$TF
tf_start "$SRV" "$TMP/srv.csv" "$TMP/csv.err" -o csv -t 0.2 --wireguard wg0 \
	--wireguard-names "$D/names.conf" wg0 || exit 1
TFC=$TF

# handshakes without a packet on the tunnels: a persistent keepalive (WireGuard sends
# one at once when it is set), then off again
for i in 1 2; do
	wgc "${USER_OF[$i]}" set wg0 peer "$SPUB" persistent-keepalive 25
	wgc "${USER_OF[$i]}" set wg0 peer "$SPUB" persistent-keepalive 0
done
for _ in $(seq 100); do
	[ "$(wgc srv show wg0 latest-handshakes | awk '$2 > 0' | wc -l)" -eq 2 ] && break
	sleep 0.05
done
check "server: both peers made a handshake, from their endpoints" \
	"$(wgc srv show wg0 endpoints | sort | tr '\t\n' '= ')" \
	"$(printf '%s=%s\n' "${PUB[1]}" 198.51.100.2:51001 "${PUB[2]}" 198.51.100.18:51002 | sort | tr '\n' ' ')"
for i in 1 2; do HS[$i]=$(wgc srv show wg0 latest-handshakes | awk -v k="${PUB[$i]}" '$1 == k { print $2 }'); done
sleep 1.5 # tunflow reads WireGuard at most once a second

# WireGuard's counters against tunflow's on echo packets of one size: 5 echo requests
# of 228 bytes from alice to the server itself, answered
transfer() { wgc srv show wg0 transfer | awk -v k="$1" '$1 == k { print $2 " " $3 }'; }
read -r RX0 TX0 <<<"$(transfer "${PUB[1]}")"
ip netns exec "${C[1]}" ping -q -c 5 -i 0.05 -s 200 192.0.2.1 >/dev/null
read -r RX1 TX1 <<<"$(transfer "${PUB[1]}")"

# traffic: alice 4 pings of 128 bytes, 3 UDP datagrams of 78 bytes, a 20000-byte page;
# bob 6 pings of 328 bytes, 2 UDP datagrams of 128 bytes, the page
ip netns exec "${C[1]}" ping -q -c 4 -i 0.05 -s 100 203.0.113.80 >/dev/null
ip netns exec "${C[2]}" ping -q -c 6 -i 0.05 -s 300 203.0.113.80 >/dev/null
ip netns exec "${C[1]}" bash -c 'exec 3>/dev/udp/203.0.113.80/5001; for i in 1 2 3; do printf "%050d" 0 >&3; done'
ip netns exec "${C[2]}" bash -c 'exec 3>/dev/udp/203.0.113.80/5002; for i in 1 2; do printf "%0100d" 0 >&3; done'
for i in 1 2; do
	got=$(ip netns exec "${C[$i]}" busybox wget -q -O - http://203.0.113.80/f | wc -c)
	check "${USER_OF[$i]} fetched the page through the tunnel" "$got" 20000
done
sleep 0.6

out=$TMP/srv.json
who() { echo ".user == \"${USER_OF[$1]}\" and .peer == \"${PUB[$1]}\" and .endpoint == \"${OUTER_OF[$1]}:${PORT_OF[$1]}\""; }
icmp='.iface == "wg0" and .proto == 1 and ((.dir == "ingress" and .dst == "203.0.113.80") or (.dir == "egress" and .src == "203.0.113.80"))'
flow_is "$out" "server: alice's echo requests, her peer and endpoint" \
	"$(who 1) and .dir == \"ingress\" and .src == \"192.0.2.10\" and $icmp" 4 512
flow_is "$out" "server: alice's echo replies" \
	"$(who 1) and .dir == \"egress\" and .dst == \"192.0.2.10\" and $icmp" 4 512
flow_is "$out" "server: bob's echo requests, his peer and endpoint" \
	"$(who 2) and .dir == \"ingress\" and .src == \"192.0.2.20\" and $icmp" 6 1968
flow_is "$out" "server: bob's echo replies" \
	"$(who 2) and .dir == \"egress\" and .dst == \"192.0.2.20\" and $icmp" 6 1968
flow_is "$out" "server: alice's UDP datagrams" \
	"$(who 1) and .proto == 17 and .dport == 5001 and .src == \"192.0.2.10\"" 3 234
flow_is "$out" "server: bob's UDP datagrams" \
	"$(who 2) and .proto == 17 and .dport == 5002 and .src == \"192.0.2.20\"" 2 256
flow_is "$out" "server: alice's echo to the server itself" \
	"$(who 1) and .proto == 1 and .dir == \"ingress\" and .dst == \"192.0.2.1\"" 5 1140
for i in 1 2; do
	check "server: ${USER_OF[$i]}'s web flows both ways, each under her/his peer alone" \
		"$(jq -s -r "map(select(.type == \"flow\" and .proto == 6 and (.src == \"${ADDR_OF[$i]}\" or .dst == \"${ADDR_OF[$i]}\")) | [.dir, .user, .peer, .endpoint] | join(\" \")) | unique | join(\",\")" "$out")" \
		"egress ${USER_OF[$i]} ${PUB[$i]} ${OUTER_OF[$i]}:${PORT_OF[$i]},ingress ${USER_OF[$i]} ${PUB[$i]} ${OUTER_OF[$i]}:${PORT_OF[$i]}"
	check "server: ${USER_OF[$i]}'s page came back whole" \
		"$(jq -s "map(select(.type == \"flow\" and .sport == 80 and .dst == \"${ADDR_OF[$i]}\") | .bytes) | add > 20000" "$out")" true
done
check "server: no flow on wg0 without a peer so far" \
	"$(jq -s 'map(select(.type == "flow" and (.peer == null or .user == null))) | length' "$out")" 0
# WireGuard counts outer bytes: each data packet padded to 16 bytes, plus 32 of header
# and tag (no handshake or keepalive in this window). 228 bytes pad to 240.
P=$(flow_sum "$out" packets "$(who 1) and .dir == \"ingress\" and .dst == \"192.0.2.1\" and .proto == 1")
B=$(flow_sum "$out" bytes "$(who 1) and .dir == \"ingress\" and .dst == \"192.0.2.1\" and .proto == 1")
check "WireGuard's rx for alice over the echo burst = tunflow's packets x (padded size + 32)" \
	"$((RX1 - RX0))" "$((P * ((B / P + 15) / 16 * 16 + 32)))"
P=$(flow_sum "$out" packets "$(who 1) and .dir == \"egress\" and .src == \"192.0.2.1\" and .proto == 1")
B=$(flow_sum "$out" bytes "$(who 1) and .dir == \"egress\" and .src == \"192.0.2.1\" and .proto == 1")
check "WireGuard's tx to alice over the echo burst = tunflow's packets x (padded size + 32)" \
	"$((TX1 - TX0))" "$((P * ((B / P + 15) / 16 * 16 + 32)))"
# bob is removed: his session ends with what tunflow counted for him
BOB_IN="$(flow_sum "$out" packets "$(who 2) and .dir == \"ingress\""),$(flow_sum "$out" bytes "$(who 2) and .dir == \"ingress\"")"
BOB_OUT="$(flow_sum "$out" packets "$(who 2) and .dir == \"egress\""),$(flow_sum "$out" bytes "$(who 2) and .dir == \"egress\"")"
wgc srv set wg0 peer "${PUB[2]}" remove
T_REMOVED=$(date +%s)
for _ in $(seq 50); do
	[ "$(jq -s 'map(select(.type == "session")) | length' "$out")" -ge 1 ] && break
	sleep 0.1
done
check "bob's session ended: removed, from his first handshake, with his flows' totals" \
	"$(jq -s -c 'map(select(.type == "session")) | map([.iface, .user, .peer, .endpoint, .end_reason, (.start | sub("\\.[0-9]+Z$"; "Z") | fromdate), "\(.packets_in),\(.bytes_in)", "\(.packets_out),\(.bytes_out)"])' "$out")" \
	"[[\"wg0\",\"bob\",\"${PUB[2]}\",\"198.51.100.18:51002\",\"peer removed\",${HS[2]},\"$BOB_IN\",\"$BOB_OUT\"]]"
check "bob's session ended when it was removed (within 3 s)" \
	"$(jq -s "map(select(.type == \"session\")) | .[0].end | sub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdate | . >= $T_REMOVED - 1 and . <= $T_REMOVED + 3" "$out")" true
# traffic to bob's address now has no peer (wireguard-go drops it: no peer holds it)
ip netns exec "$SRV" ping -q -c 3 -i 0.05 -W 1 192.0.2.20 >/dev/null
sleep 0.6
flow_is "$out" "server: echo to bob's old address, no user and no peer" \
	'.dir == "egress" and .dst == "192.0.2.20" and .src == "192.0.2.1" and .proto == 1 and .user == null and .peer == null and .endpoint == null' 3 252

# alice's allowed IPs grow to bob's old address: its flows follow to her
wgc srv set wg0 peer "${PUB[1]}" allowed-ips 192.0.2.10/32,192.0.2.20/32
ip -n "${C[1]}" addr add 192.0.2.20/32 dev wg0
sleep 1.5
ip netns exec "${C[1]}" ping -q -c 3 -i 0.05 -s 300 -I 192.0.2.20 203.0.113.80 >/dev/null
sleep 0.6
flow_is "$out" "server: echo from 192.0.2.20 after the change: alice's" \
	"$(who 1) and .dir == \"ingress\" and .src == \"192.0.2.20\" and $icmp" 3 984
flow_is "$out" "server: bob's echo requests unchanged (the same flow did not go to him)" \
	"$(who 2) and .dir == \"ingress\" and .src == \"192.0.2.20\" and $icmp" 6 1968

# alice goes quiet: her session ends when her handshake is 180 s old (WireGuard's
# reject-after time; nothing was sent for a rekey, which comes after 120 s of sending)
ALICE_IN="$(flow_sum "$out" packets "$(who 1) and .dir == \"ingress\""),$(flow_sum "$out" bytes "$(who 1) and .dir == \"ingress\"")"
ALICE_OUT="$(flow_sum "$out" packets "$(who 1) and .dir == \"egress\""),$(flow_sum "$out" bytes "$(who 1) and .dir == \"egress\"")"
while [ "$(date +%s)" -lt $((HS[1] + 185)) ] &&
	[ "$(jq -s 'map(select(.type == "session" and .user == "alice")) | length' "$out")" -eq 0 ]; do
	sleep 0.5
done
check "alice's session ended 180 s after her handshake, with her flows' totals" \
	"$(jq -s -c 'map(select(.type == "session" and .user == "alice")) | map([.peer, .endpoint, .end_reason, (.start | sub("\\.[0-9]+Z$"; "Z") | fromdate), (.end | sub("\\.[0-9]+Z$"; "Z") | fromdate), "\(.packets_in),\(.bytes_in)", "\(.packets_out),\(.bytes_out)"])' "$out")" \
	"[[\"${PUB[1]}\",\"198.51.100.2:51001\",\"handshake expired\",${HS[1]},$((HS[1] + 180)),\"$ALICE_IN\",\"$ALICE_OUT\"]]"
# a new handshake, a new session: 2 echo requests of 128 bytes, answered
wgc alice set wg0 peer "$SPUB" persistent-keepalive 25
wgc alice set wg0 peer "$SPUB" persistent-keepalive 0
for _ in $(seq 100); do
	HS2=$(wgc srv show wg0 latest-handshakes | awk -v k="${PUB[1]}" '$1 == k { print $2 }')
	[ "$HS2" -gt "${HS[1]}" ] && break
	sleep 0.05
done
sleep 1.5
ip netns exec "${C[1]}" ping -q -c 2 -i 0.05 -s 100 203.0.113.80 >/dev/null
sleep 0.6

# every packet on wg0 counted: the tun's own counters
CNT=$(ip -n "$SRV" -s -j link show wg0 | jq -c '.[0].stats64 | [.rx.packets, .rx.bytes, .tx.packets + .tx.dropped]')
TF=$TFC; tf_stop
check "csv: exit status" "$TF_RC" 0
TF=$TFR; tf_stop
check "records: exit status" "$TF_RC" 0
TF=$TFS; tf_stop
check "server: exit status" "$TF_RC" 0
check "server: wg0's counters (rx packets, rx bytes, tx packets) equal the flows' sums" \
	"[$(flow_sum "$out" packets '.dir == "ingress"'),$(flow_sum "$out" bytes '.dir == "ingress"'),$(flow_sum "$out" packets '.dir == "egress"')]" \
	"$CNT"
check "alice's second session ended at exit, from her new handshake, with its 2 echoes" \
	"$(jq -s -c 'map(select(.type == "session" and .user == "alice")) | .[1:] | map([.peer, .end_reason, (.start | sub("\\.[0-9]+Z$"; "Z") | fromdate), "\(.packets_in),\(.bytes_in)", "\(.packets_out),\(.bytes_out)"])' "$out")" \
	"[[\"${PUB[1]}\",\"tunflow exit\",$HS2,\"2,256\",\"2,256\"]]"
check "three sessions in all" "$(jq -s 'map(select(.type == "session")) | length' "$out")" 3
check "server: no loss, wg0 watched to the end" "$(final_health "$out")" "[1,0,0,0]"

rec=$TMP/rec.json
check "records: alice's echo to the web server, a biflow per burst (idle timeout between) under her short key" \
	"$(jq -s -c "map(select(.type == \"record\" and .proto == 1 and .dst == \"203.0.113.80\" and .src == \"192.0.2.10\")) | map([.user, .peer, .endpoint, .packets, .bytes, .rev_packets, .rev_bytes])" "$rec")" \
	"[[\"${PUB[1]:0:8}\",\"${PUB[1]}\",\"198.51.100.2:51001\",4,512,4,512],[\"${PUB[1]:0:8}\",\"${PUB[1]}\",\"198.51.100.2:51001\",2,256,2,256]]"
check "records: bob's UDP, under his short key" \
	"$(jq -s -c "map(select(.type == \"record\" and .proto == 17 and .dport == 5002)) | map([.user, .peer, .endpoint, .packets, .bytes])" "$rec")" \
	"[[\"${PUB[2]:0:8}\",\"${PUB[2]}\",\"198.51.100.18:51002\",2,256]]"
check "csv: header ends with peer,endpoint, then the destination's" "$(head -1 "$TMP/srv.csv" | cut -d, -f21-)" \
	"tcp_flags,rev_tcp_flags,peer,endpoint,name,name_source,ech,asn,as_name,country"
check "csv: alice's UDP row: user, then peer and endpoint, then the destination's" \
	"$(grep ',udp,' "$TMP/srv.csv" | grep ',5001,' | cut -d, -f5-)" \
	"wg0,alice,ingress,4,17,udp,192.0.2.10,203.0.113.80,$(grep ',5001,' "$TMP/srv.csv" | cut -d, -f13),5001,,,3,234,0,0,0,0,${PUB[1]},198.51.100.2:51001,,,,,,"
check "the host's /run/wireguard untouched" "$(ls -la /run/wireguard 2>&1)" "$HOST_RUN_WG"
finish

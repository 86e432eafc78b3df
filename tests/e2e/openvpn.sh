#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real OpenVPN: one server, two clients (carol and dave, named by their certificates)
# sharing the server's one tun, a web server behind it. Users are told apart by their
# inner addresses, read two ways by two tunflows on the server's tun0: from OpenVPN's
# status file (CLIENT_LIST, --openvpn-status) and from tunflow's session hook as
# client-connect/client-disconnect script (--sessions). Asserts each user's flows to the
# web server with exact packets and bytes under the right user, in both, and on the
# clients' own tun0.
SUITE=openvpn
. "$(dirname "$0")/../net/lib.sh"
. "$(dirname "$0")/lib.sh"
need openvpn
need certtool
need jq

D=$TMP/ovpn
mkdir -p "$D"
chmod 755 "$TMP" "$D" # OpenVPN drops to nobody after start
{
	pki_ca "$D" &&
	pki_cert "$D" srv server tls_www_server &&
	pki_cert "$D" carol carol tls_www_client &&
	pki_cert "$D" dave dave tls_www_client
} || { fail "certificates" "certtool failed"; exit 1; }

cat >"$D/server.conf" <<EOF
dev tun0
proto udp
local 198.51.100.1
port 1194
topology subnet
server 192.0.2.0 255.255.255.0
push "route 203.0.113.0 255.255.255.0"
ca $D/ca.pem
cert $D/srv.pem
key $D/srv.key
dh none
disable-dco
keepalive 10 60
status $D/status 1
status-version 2
script-security 2
setenv TUNFLOW_SESSIONS $D/sessions
client-connect $TOP/scripts/tunflow-session-hook
client-disconnect $TOP/scripts/tunflow-session-hook
verb 3
EOF

vpn_topology carol dave
declare -A USER_OF=([1]=carol [2]=dave)
for i in 1 2; do
	u=${USER_OF[$i]}
	cat >"$D/$u.conf" <<EOF
client
dev tun0
proto udp
remote 198.51.100.1 1194
nobind
ca $D/ca.pem
cert $D/$u.pem
key $D/$u.key
remote-cert-tls server
disable-dco
explicit-exit-notify 1
verb 3
EOF
done

bg ip netns exec "$SRV" openvpn --config "$D/server.conf" --log "$D/server.log"
for _ in $(seq 100); do
	ip -n "$SRV" link show tun0 >/dev/null 2>&1 && break
	sleep 0.05
done
tf_start "$SRV" "$TMP/status.json" "$TMP/status.err" -o json -t 0.2 \
	--openvpn-status "$D/status" --sessions "$TMP/no-sessions" tun0 || exit 1
TFS=$TF
tf_start "$SRV" "$TMP/hook.json" "$TMP/hook.err" -o json -t 0.2 --sessions "$D/sessions" tun0 ||
	exit 1
TFH=$TF
for i in 1 2; do
	tf_start "${C[$i]}" "$TMP/c$i.json" "$TMP/c$i.err" -o json -t 0.2 tun0 || exit 1
	TFC[$i]=$TF
	bg ip netns exec "${C[$i]}" openvpn --config "$D/${USER_OF[$i]}.conf" \
		--log "$D/${USER_OF[$i]}.log"
	OV[$i]=$BG
done
# connected: both routes pushed, and both clients in the status file (rewritten every
# second; attribution by the status file can only start once it lists the client)
for _ in $(seq 150); do
	n=0
	for i in 1 2; do
		ip -n "${C[$i]}" route show 203.0.113.0/24 2>/dev/null | grep -q tun0 && n=$((n + 1))
	done
	[ $n -eq 2 ] && [ "$(grep -c '^CLIENT_LIST' "$D/status" 2>/dev/null)" -eq 2 ] && break
	sleep 0.1
done
for i in 1 2; do
	if ! ip -n "${C[$i]}" route show 203.0.113.0/24 | grep -q tun0; then
		fail "${USER_OF[$i]} connects" "$(tail -3 "$D/${USER_OF[$i]}.log")"
		finish
	fi
	VPN_ADDR[$i]=$(ip -n "${C[$i]}" -4 -o addr show dev tun0 | awk '{print $4}' | cut -d/ -f1)
done
check "status file lists carol and dave with their addresses" \
	"$(awk -F, '$1 == "CLIENT_LIST" { print $2 "=" $4 }' "$D/status" | sort | tr '\n' ' ')" \
	"carol=${VPN_ADDR[1]} dave=${VPN_ADDR[2]} "

# carol: 4 pings of 128 bytes; dave: 6 of 328 bytes
ip netns exec "${C[1]}" ping -q -c 4 -i 0.05 -s 100 203.0.113.80 >/dev/null
ip netns exec "${C[2]}" ping -q -c 6 -i 0.05 -s 300 203.0.113.80 >/dev/null
sleep 0.5

icmp='.proto == 1 and .iface == "tun0"'
for src in status hook; do
	out=$TMP/$src.json
	flow_is "$out" "$src: carol's echo requests" \
		".user == \"carol\" and .dir == \"ingress\" and .src == \"${VPN_ADDR[1]}\" and .dst == \"203.0.113.80\" and $icmp" 4 512
	flow_is "$out" "$src: carol's echo replies" \
		".user == \"carol\" and .dir == \"egress\" and .dst == \"${VPN_ADDR[1]}\" and .src == \"203.0.113.80\" and $icmp" 4 512
	flow_is "$out" "$src: dave's echo requests" \
		".user == \"dave\" and .dir == \"ingress\" and .src == \"${VPN_ADDR[2]}\" and $icmp" 6 1968
	flow_is "$out" "$src: dave's echo replies" \
		".user == \"dave\" and .dir == \"egress\" and .dst == \"${VPN_ADDR[2]}\" and $icmp" 6 1968
	check "$src: every echo flow attributed" \
		"$(jq -s "map(select(.type == \"flow\" and $icmp and .user == null)) | length" "$out")" 0
done
flow_is "$TMP/c1.json" "client carol: echo requests out of tun0" \
	'.dir == "egress" and .dst == "203.0.113.80" and .proto == 1' 4 512
flow_is "$TMP/c2.json" "client dave: echo replies into tun0" \
	'.dir == "ingress" and .src == "203.0.113.80" and .proto == 1' 6 1968

# dave leaves: the hook says so; the shared tun stays, and so does the watch
kill -TERM "${OV[2]}"
wait "${OV[2]}"
for _ in $(seq 50); do
	grep -q '^disconnect.*user=dave' "$D/sessions" 2>/dev/null && break
	sleep 0.1
done
check "hook: dave's disconnect recorded with OpenVPN's byte counts" \
	"$(grep -c $'^disconnect\tsource=openvpn\tid=openvpn:198.51.100.18:[0-9]*\tuser=dave\t.*bytes_in=[0-9][0-9]*\tbytes_out=[0-9]' "$D/sessions")" 1
TF=$TFH; tf_stop
check "hook: exit status" "$TF_RC" 0
TF=$TFS; tf_stop
check "status: exit status" "$TF_RC" 0
check "status: no loss, tun0 still watched at the end" \
	"$(final_health "$TMP/status.json")" \
	"[1,0,0,0]"
finish

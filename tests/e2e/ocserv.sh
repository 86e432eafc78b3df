#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Real OpenConnect VPN: an ocserv server (its connect/disconnect-script is tunflow's
# session hook) and two openconnect clients, alice and bob, each in a namespace of its
# own, with a web server behind the VPN server. tunflow watches 'vpns*' on the server
# and tun0 on each client. Asserts: each user's flows to the web server under the right
# user with exact packets and bytes, the same flows on the client side, per-interface
# totals equal to the interface counters, --group-by user totals, each user's flows to
# the web server named by what that user resolved through the VPN (a dnsmasq next to the
# web server gives the one address two names), and, after the users disconnect, their
# interfaces gone with their final records and nothing left attached.
SUITE=ocserv
. "$(dirname "$0")/../net/lib.sh"
. "$(dirname "$0")/lib.sh"
need ocserv
need ocpasswd
need openconnect
need certtool
need busybox
need jq
need dnsmasq
need dig

D=$TMP/oc
mkdir -p "$D/www"
chmod 755 "$TMP" "$D" # ocserv's workers run as nobody and need its sockets
head -c 20000 /dev/zero | tr '\0' x >"$D/www/f"

# certificates and passwords, made here
pki_ca "$D" && pki_cert "$D" srv 198.51.100.1 tls_www_server 'ip_address = "198.51.100.1"' ||
	{ fail "certificates" "certtool failed"; exit 1; }
PIN=$(certtool --pubkey-info --load-certificate "$D/srv.pem" 2>/dev/null |
	grep -o 'pin-sha256:[^ ]*' | head -1)
printf 'alice-pw\nalice-pw\n' | ocpasswd -c "$D/passwd" alice
printf 'bob-pw\nbob-pw\n' | ocpasswd -c "$D/passwd" bob

cat >"$D/ocserv.conf" <<EOF
auth = "plain[passwd=$D/passwd]"
listen-host = 198.51.100.1
tcp-port = 443
udp-port = 443
run-as-user = nobody
run-as-group = nogroup
socket-file = $D/ocserv.sock
occtl-socket-file = $D/occtl.sock
pid-file = $D/ocserv.pid
server-cert = $D/srv.pem
server-key = $D/srv.key
isolate-workers = false
max-clients = 16
max-same-clients = 2
keepalive = 300
dpd = 60
mobile-dpd = 300
try-mtu-discovery = false
auth-timeout = 240
min-reauth-time = 1
max-ban-score = 0
cookie-timeout = 300
rekey-time = 172800
rekey-method = ssl
use-occtl = true
log-level = 1
device = vpns
predictable-ips = true
ipv4-network = 192.0.2.0/25
route = 203.0.113.0/24
ping-leases = false
connect-script = $TOP/scripts/tunflow-session-hook
disconnect-script = $TOP/scripts/tunflow-session-hook
EOF
# the clients' own vpnc-script: address and routes in their namespace, nothing else
cat >"$D/client-script" <<'EOF'
#!/bin/sh
[ "$reason" = connect ] || exit 0
ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1400}"
ip addr add "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV"
i=0
while [ $i -lt "${CISCO_SPLIT_INC:-0}" ]; do
	eval a=\$CISCO_SPLIT_INC_${i}_ADDR m=\$CISCO_SPLIT_INC_${i}_MASKLEN
	ip route add "$a/$m" dev "$TUNDEV"
	i=$((i + 1))
done
EOF
chmod +x "$D/client-script"

# server, web server behind it, two clients; the VPN pool is 192.0.2.0/25
vpn_topology alice bob

bg ip netns exec "$WEB" busybox httpd -f -p 203.0.113.80:80 -h "$D/www"
# a DNS server behind the VPN: two names for the web server's address
cat >"$D/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=203.0.113.80
local-ttl=5
host-record=alpha.example,203.0.113.80
host-record=beta.example,203.0.113.80
EOF
bg ip netns exec "$WEB" dnsmasq -k -u root -C "$D/dnsmasq.conf" --pid-file="$D/dnsmasq.pid" \
	--log-facility=- 2>"$D/dnsmasq.log"
tf_start "$SRV" "$TMP/srv.json" "$TMP/srv.err" -o json -t 0.2 --sessions "$D/sessions" 'vpns*' ||
	exit 1
TFS=$TF
tf_start "$SRV" "$TMP/grp.json" "$TMP/grp.err" -o json -t 0.2 --sessions "$D/sessions" \
	--group-by user 'vpns*' || exit 1
TFG=$TF
bg ip netns exec "$SRV" env TUNFLOW_SESSIONS="$D/sessions" ocserv -f -c "$D/ocserv.conf" \
	>"$D/ocserv.log" 2>&1
for _ in $(seq 50); do
	ip netns exec "$SRV" ss -ltn | grep -q '198.51.100.1:443' && break
	sleep 0.1
done

declare -A USER_OF=([1]=alice [2]=bob) PW_OF=([1]=alice-pw [2]=bob-pw)
for i in 1 2; do
	tf_start "${C[$i]}" "$TMP/c$i.json" "$TMP/c$i.err" -o json -t 0.2 tun0 || exit 1
	TFC[$i]=$TF
	echo "${PW_OF[$i]}" >"$D/pw$i"
	# (a background job's stdin is /dev/null: the password file goes in inside)
	bg ip netns exec "${C[$i]}" sh -c 'exec openconnect "$@" <"$0" >"$0.log" 2>&1' \
		"$D/pw$i" --user="${USER_OF[$i]}" --passwd-on-stdin --servercert "$PIN" \
		--interface tun0 --script "$D/client-script" --no-dtls 198.51.100.1
	OC[$i]=$BG
done
for i in 1 2; do
	for _ in $(seq 100); do
		ip -n "${C[$i]}" route show 203.0.113.0/24 | grep -q tun0 && break
		sleep 0.1
	done
	if ! ip -n "${C[$i]}" route show 203.0.113.0/24 | grep -q tun0; then
		fail "${USER_OF[$i]} connects" "$(tail -3 "$D/pw$i.log")"
		finish
	fi
done
ok "alice and bob connected"
VPN_ADDR[1]=$(ip -n "${C[1]}" -4 -o addr show dev tun0 | awk '{print $4}' | cut -d/ -f1)
VPN_ADDR[2]=$(ip -n "${C[2]}" -4 -o addr show dev tun0 | awk '{print $4}' | cut -d/ -f1)

# names: alice resolves alpha.example, bob beta.example, both the web server
check "alice resolves alpha.example through the VPN" \
	"$(ip netns exec "${C[1]}" dig +short +tries=1 +time=2 @203.0.113.80 alpha.example)" 203.0.113.80
check "bob resolves beta.example through the VPN" \
	"$(ip netns exec "${C[2]}" dig +short +tries=1 +time=2 @203.0.113.80 beta.example)" 203.0.113.80
sleep 0.3
# traffic: alice 5 pings of 128 bytes and a 20000-byte page; bob 3 pings of 228 bytes
ip netns exec "${C[1]}" ping -q -c 5 -i 0.05 -s 100 203.0.113.80 >/dev/null
ip netns exec "${C[2]}" ping -q -c 3 -i 0.05 -s 200 203.0.113.80 >/dev/null
got=$(ip netns exec "${C[1]}" busybox wget -q -O - http://203.0.113.80/f | wc -c)
check "alice fetched the page through the VPN" "$got" 20000
sleep 0.5

# each user's vpns interface, as ocserv reported it to the hook
dev_of() { awk -F'\t' -v u="user=$1" '$1 == "connect" && $4 == u { for (i = 2; i <= NF; i++) if ($i ~ /^dev=/) d = substr($i, 5) } END { print d }' "$D/sessions"; }
DEV[1]=$(dev_of alice)
DEV[2]=$(dev_of bob)
check "two vpns interfaces, one per user" "$(echo "${DEV[1]} ${DEV[2]}" | grep -cE '^vpns[0-9]+ vpns[0-9]+$')" 1
# interface counters before the users leave (nothing else crosses the tunnels now)
for i in 1 2; do
	CNT[$i]=$(ip -n "$SRV" -s -j link show "${DEV[$i]}" |
		jq -c '.[0].stats64 | [.rx.packets, .rx.bytes, .tx.packets + .tx.dropped]')
done
sleep 0.5

# server side: exact echo flows under the right user
icmp='.proto == 1 and ((.dir == "ingress" and .dst == "203.0.113.80") or (.dir == "egress" and .src == "203.0.113.80"))'
flow_is "$TMP/srv.json" "server: alice's echo requests" \
	".user == \"alice\" and .iface == \"${DEV[1]}\" and .dir == \"ingress\" and .src == \"${VPN_ADDR[1]}\" and $icmp" 5 640
flow_is "$TMP/srv.json" "server: alice's echo replies" \
	".user == \"alice\" and .iface == \"${DEV[1]}\" and .dir == \"egress\" and .dst == \"${VPN_ADDR[1]}\" and $icmp" 5 640
flow_is "$TMP/srv.json" "server: bob's echo requests" \
	".user == \"bob\" and .iface == \"${DEV[2]}\" and .dir == \"ingress\" and $icmp" 3 684
flow_is "$TMP/srv.json" "server: bob's echo replies" \
	".user == \"bob\" and .iface == \"${DEV[2]}\" and .dir == \"egress\" and $icmp" 3 684
check "server: alice's page came back on her interface, to port 80 and from it" \
	"$(jq -s "map(select(.type == \"flow\" and .user == \"alice\" and .proto == 6 and (.dport == 80 or .sport == 80)) | .dir) | unique | join(\",\")" -r "$TMP/srv.json")" \
	"egress,ingress"
check "server: bytes from port 80 to alice cover the page" \
	"$(jq -s "map(select(.type == \"flow\" and .user == \"alice\" and .sport == 80) | .bytes) | add > 20000" "$TMP/srv.json")" true
check "server: no flow of bob's interface under another user" \
	"$(jq -s "map(select(.type == \"flow\" and .iface == \"${DEV[2]}\") | .user) | unique | join(\",\")" -r "$TMP/srv.json")" bob
# names: each user's flows to the web server carry the name that user resolved (the
# page was fetched by address: its Host header names nothing), the DNS flows their question
names_of() { jq -s -c "map(select(.type == \"flow\" and .user == \"$1\" and $2) | [.name, .name_source]) | unique" "$TMP/srv.json"; }
to_web='((.dir == "ingress" and .dst == "203.0.113.80") or (.dir == "egress" and .src == "203.0.113.80"))'
check "server: alice's echo and web flows, both ways, named by her answer" \
	"$(names_of alice "(.proto == 1 or .proto == 6) and $to_web")" '[["alpha.example","dns"]]'
check "server: bob's echo flows, both ways, named by his answer" \
	"$(names_of bob "(.proto == 1) and $to_web")" '[["beta.example","dns"]]'
check "server: the DNS flows carry their question" \
	"$(jq -s -c 'map(select(.type == "flow" and .proto == 17 and (.dport == 53 or .sport == 53)) | [.user, .name]) | unique' "$TMP/srv.json")" \
	'[["alice","alpha.example"],["bob","beta.example"]]'
# client side: the same flows on tun0
flow_is "$TMP/c1.json" "client alice: echo requests out of tun0" \
	".iface == \"tun0\" and .dir == \"egress\" and .dst == \"203.0.113.80\" and .proto == 1" 5 640
flow_is "$TMP/c1.json" "client alice: echo replies into tun0" \
	".iface == \"tun0\" and .dir == \"ingress\" and .src == \"203.0.113.80\" and .proto == 1" 5 640
flow_is "$TMP/c2.json" "client bob: echo requests out of tun0" \
	".iface == \"tun0\" and .dir == \"egress\" and .dst == \"203.0.113.80\" and .proto == 1" 3 684
# a client's tun0 carries its own VPN address: the far side is the web server, and the
# name comes from the answer the client received (--side auto, the man page's SIDES)
cnames_of() { jq -s -c "map(select(.type == \"flow\" and $2) | [.name, .name_source]) | unique" "$TMP/c$1.json"; }
c_to_web='((.dir == "egress" and .dst == "203.0.113.80") or (.dir == "ingress" and .src == "203.0.113.80"))'
check "client alice: echo and web flows, both ways, named by her answer" \
	"$(cnames_of 1 "(.proto == 1 or .proto == 6) and $c_to_web")" '[["alpha.example","dns"]]'
check "client bob: echo flows, both ways, named by his answer" \
	"$(cnames_of 2 "(.proto == 1) and $c_to_web")" '[["beta.example","dns"]]'
check "client and server count alice's web flow alike" \
	"$(flow_sum "$TMP/c1.json" bytes '.proto == 6'),$(flow_sum "$TMP/c1.json" packets '.proto == 6')" \
	"$(flow_sum "$TMP/srv.json" bytes '.user == "alice" and .proto == 6'),$(flow_sum "$TMP/srv.json" packets '.user == "alice" and .proto == 6')"

# the users leave
for i in 1 2; do kill -INT "${OC[$i]}"; done
for i in 1 2; do wait "${OC[$i]}"; done
for _ in $(seq 50); do
	[ "$(jq -s 'map(select(.type == "iface_gone")) | length' "$TMP/srv.json")" -ge 2 ] &&
		[ "$(grep -c '^disconnect' "$D/sessions" 2>/dev/null)" -ge 2 ] && break
	sleep 0.1
done
check "server: no vpns interface left" "$(ip -n "$SRV" -o link show | grep -c vpns)" 0
for i in 1 2; do
	u=${USER_OF[$i]}
	gone=$(jq -s -c "map(select(.type == \"iface_gone\" and .iface == \"${DEV[$i]}\")) | map([.user, .packets_in, .bytes_in, .packets_out])" "$TMP/srv.json")
	want=$(echo "${CNT[$i]}" | jq -c "[[\"$u\", .[0], .[1], .[2]]]")
	check "server: $u's interface gone, its totals equal its counters $want" "$gone" "$want"
	check "server: $u's final records end 'interface gone'" \
		"$(jq -s "map(select(.type == \"flow\" and .iface == \"${DEV[$i]}\" and .end == \"interface gone\")) | length > 0" "$TMP/srv.json")" true
	# ocserv's own count at disconnect: STATS_BYTES_IN is what its worker read from the
	# user's TLS channel and wrote to the tun, STATS_BYTES_OUT the reverse
	stats=$(awk -F'\t' -v u="user=$u" '$1 == "disconnect" && $4 == u { for (k = 2; k <= NF; k++) if ($k ~ /^bytes_(in|out)=/) { split($k, kv, "="); s = s kv[2] " " } } END { print s }' "$D/sessions")
	tf=$(jq -s -r "map(select(.type == \"iface_gone\" and .iface == \"${DEV[$i]}\")) | .[0] | \"\(.bytes_in) \(.bytes_out) \"" "$TMP/srv.json")
	check "server: $u's session bytes (in out) equal ocserv's STATS_BYTES_IN/OUT" "$tf" "$stats"
done
check "client: tun0 gone once, with the totals of alice's flow lines" \
	"$(jq -s -c 'map(select(.type == "iface_gone" and .iface == "tun0")) | map([.packets_in, .bytes_in, .packets_out, .bytes_out])' "$TMP/c1.json")" \
	"[[$(flow_sum "$TMP/c1.json" packets '.dir == "ingress"'),$(flow_sum "$TMP/c1.json" bytes '.dir == "ingress"'),$(flow_sum "$TMP/c1.json" packets '.dir == "egress"'),$(flow_sum "$TMP/c1.json" bytes '.dir == "egress"')]]"
# group-by user: per-user bytes each way equal the flows' sums; the web server on top
for i in 1 2; do
	u=${USER_OF[$i]}
	want="$(flow_sum "$TMP/srv.json" bytes ".user == \"$u\" and .dir == \"ingress\""),$(flow_sum "$TMP/srv.json" bytes ".user == \"$u\" and .dir == \"egress\""),203.0.113.80"
	# totals since start from the last line; top destinations are of the flows still in
	# the table (empty once they are forgotten): from the last line that has them
	got=$(jq -s -r "map(select(.type == \"user\" and .user == \"$u\")) | \"\(last.bytes_in),\(last.bytes_out),\(map(select(.top | length > 0)) | last | .top[0].addr)\"" "$TMP/grp.json")
	check "group-by user: $u's bytes in, out and top destination" "$got" "$want"
done
TF=$TFG; tf_stop
TF=$TFS; tf_stop
check "server: exit status" "$TF_RC" 0
check "server: nothing left watched, no loss" \
	"$(final_health "$TMP/srv.json")" \
	"[0,0,0,0]"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tunflow on a VPN *client*: tun0 carries this host's own address and the user is this
# host, so what tun0 receives comes from the remote site. With --side auto the far side
# is the remote everywhere: JSON names from DNS (dig and ping by name through the tun to
# a dnsmasq on the other side), /metrics top destinations, --group-by user (SENT is what
# the host sent), filter's remote host/port, the TUI's LOCAL/REMOTE and SENT/RECV.
#
#   cl (the laptop): tun0 192.0.2.10/32 --tunrelay-- tunsrv  gw: dnsmasq 198.51.100.53,
#   tunflow watches tun0 in cl, as openconnect's tun0          httpd 198.51.100.80 (lo)
SUITE=client_side
. "$(dirname "$0")/lib.sh"
need jq
need dnsmasq
need dig
need curl
need busybox
need tmux
TUNRELAY=$TOP/build/tunrelay

SOCK=tfcs$$
tm() { tmux -L "$SOCK" "$@"; }
ETCNS=()
teardown_client() {
	local d
	tm kill-server 2>/dev/null
	for d in "${ETCNS[@]}"; do rm -rf "/etc/netns/$d"; done
	teardown
}
trap teardown_client EXIT

ns_new gw; G=$NS
for a in 198.51.100.53/32 198.51.100.80/32 198.51.100.81/32 198.51.100.82/32; do
	ip -n "$G" addr add "$a" dev lo
done
ip -n "$G" addr add 2001:db8:5::81/128 dev lo nodad
ns_new cl; CL=$NS
ip -n "$G" tuntap add mode tun name tunsrv
ip -n "$CL" tuntap add mode tun name tun0
ip -n "$CL" addr add 192.0.2.10/32 dev tun0
ip -n "$CL" addr add 2001:db8::10/128 dev tun0 nodad
ip netns exec "$CL" sysctl -qw net.ipv6.conf.tun0.router_solicitations=0
ip netns exec "$G" sysctl -qw net.ipv6.conf.tunsrv.router_solicitations=0
ip -n "$CL" link set tun0 up
ip -n "$G" link set tunsrv up
ip -n "$CL" route add default dev tun0
ip -n "$CL" -6 route add default dev tun0
ip -n "$G" route add 192.0.2.10/32 dev tunsrv
ip -n "$G" -6 route add 2001:db8::10/128 dev tunsrv
mkdir -p "/etc/netns/$CL"
ETCNS+=("$CL")
echo "nameserver 198.51.100.53" >"/etc/netns/$CL/resolv.conf"
bg "$TUNRELAY" "$G" tunsrv "$CL" tun0

cat >"$TMP/dnsmasq.conf" <<EOF2
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=198.51.100.53
local-ttl=30
host-record=shop.example,198.51.100.80
host-record=ping.example,198.51.100.81
host-record=ping6.example,2001:db8:5::81
EOF2
bg ip netns exec "$G" dnsmasq -k -u root -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid" \
	--log-facility=- 2>"$TMP/dnsmasq.log"
mkdir -p "$TMP/www"
head -c 20000 /dev/zero | tr '\0' x >"$TMP/www/index.html"
bg ip netns exec "$G" busybox httpd -f -p 198.51.100.80:80 -h "$TMP/www"
sleep 0.3

printf 'tun0 me\n' >"$TMP/users"
in_cl() { ip netns exec "$CL" "$@"; }

tf_start "$CL" "$TMP/out.json" "$TMP/err" -o json -t 0.2 --user-map "$TMP/users" \
	--metrics 9281 --store "$TMP/flows.db" tun0 || exit 1
TF_JSON=$TF
tf_start "$CL" "$TMP/grp.json" "$TMP/grp.err" -o json -t 0.2 --user-map "$TMP/users" \
	--group-by user tun0 || exit 1
TF_GRP=$TF
tf_start "$CL" "$TMP/filt.json" "$TMP/filt.err" -o json -t 0.2 \
	-f 'remote host 198.51.100.81 or remote port 9999' tun0 || exit 1
TF_FILT=$TF
tm -f /dev/null new-session -d -s tf -x 200 -y 50 \
	"ip netns exec $CL $TUNFLOW -t 0.2 --user-map $TMP/users tun0 2>$TMP/tui.err"
for _ in $(seq 50); do
	tm capture-pane -p -t tf | grep -q "1 interface" && break
	sleep 0.1
done

check "dig through the tunnel" "$(in_cl dig +short +tries=1 +time=2 shop.example)" "198.51.100.80"
sleep 0.3
# ping by name: the resolver asks dnsmasq through tun0, then 2 echoes of 84 bytes
in_cl ping -c 2 -i 0.2 -q ping.example >/dev/null
in_cl ping -6 -c 3 -i 0.2 -q ping6.example >/dev/null
check "curl by name through the tunnel" \
	"$(in_cl curl -s -o /dev/null -w '%{http_code} %{size_download}' http://shop.example/)" "200 20000"
# 10 bytes of UDP to a closed port: one 38-byte packet sent
in_cl bash -c 'printf 0123456789 >/dev/udp/198.51.100.82/9999'
sleep 1
ip netns exec "$CL" timeout 5 busybox wget -q -O - "http://127.0.0.1:9281/metrics" >"$TMP/m"
screen=$(tm capture-pane -p -t tf)
for t in $TF_JSON $TF_GRP $TF_FILT; do
	kill -INT "$t"
	wait "$t"
done

# JSON: the far side is the remote; a name from the DNS answer the client received
check "ping.example's flows: named from DNS, both ways" \
	"$(jq -s -c 'map(select(.type == "flow" and .proto == 1 and (.src == "198.51.100.81" or .dst == "198.51.100.81")) | [.dir, .src, .dst, .name, .name_source]) | unique' "$TMP/out.json")" \
	'[["egress","192.0.2.10","198.51.100.81","ping.example","dns"],["ingress","198.51.100.81","192.0.2.10","ping.example","dns"]]'
flow_is "$TMP/out.json" "the echoes" '.proto == 1 and .dst == "198.51.100.81"' 2 168
check "IPv6: ping6.example's flows: named from DNS, both ways" \
	"$(jq -s -c 'map(select(.type == "flow" and .proto == 58 and (.src == "2001:db8:5::81" or .dst == "2001:db8:5::81")) | [.dir, .src, .dst, .name, .name_source]) | unique' "$TMP/out.json")" \
	'[["egress","2001:db8::10","2001:db8:5::81","ping6.example","dns"],["ingress","2001:db8:5::81","2001:db8::10","ping6.example","dns"]]'
check "the HTTP flows: named shop.example" \
	"$(jq -s -c 'map(select(.type == "flow" and .proto == 6) | [.dir, .name, .name_source]) | unique' "$TMP/out.json")" \
	'[["egress","shop.example","http"],["ingress","shop.example","http"]]'
check "no flow named after the host's own address" \
	"$(jq -s -c 'map(select(.type == "flow" and .name != null and .proto == 17 and .dport == 9999)) | length' "$TMP/out.json")" 0

# /metrics: top destinations are the remote sites, never the host's own address
check "metrics: shop.example's address is a top destination" \
	"$(grep -c '^tunflow_top_destination_bytes{address="198.51.100.80",name="shop.example"}' "$TMP/m")" 1
check "metrics: ping.example's too" \
	"$(grep -c '^tunflow_top_destination_bytes{address="198.51.100.81",name="ping.example"} 336$' "$TMP/m")" 1
check "metrics: the host's own address is no destination" \
	"$(grep -c '^tunflow_top_destination_bytes{address="192.0.2.10"' "$TMP/m")" 0

# --group-by user: the remote sites on top; bytes_in is what the user (this host) sent
check "group-by user: the top destination" \
	"$(jq -s -c 'map(select(.type == "user" and .user == "me")) | last | .top[0].addr' "$TMP/grp.json")" \
	'"198.51.100.80"'
check "group-by user: the top three, remote sites all" \
	"$(jq -s -c 'map(select(.type == "user" and .user == "me")) | last | [(.top | length), (.top | map(.addr | select(startswith("198.51.100.") or startswith("2001:db8:5::"))) | length)]' "$TMP/grp.json")" \
	'[3,3]'
check "group-by user: sent less than received (a 20 kB download)" \
	"$(jq -s -c 'map(select(.type == "user" and .user == "me")) | last | .bytes_in < .bytes_out and .bytes_out > 20000' "$TMP/grp.json")" true

# filters: remote host and remote port are the remote's
check "filter remote host/port: the echoes both ways and the datagram" \
	"$(jq -s -c 'map(select(.type == "flow")) | group_by([.dir, .proto]) | map([.[0].dir, .[0].proto, (map(.packets) | add)])' "$TMP/filt.json")" \
	'[["egress",1,2],["egress",17,1],["ingress",1,2]]'

# the store: the destinations are the remote sites
"$TUNFLOW" report top --user me --store "$TMP/flows.db" -o json >"$TMP/top.json"
check "store: the user's top destination" "$(jq -c -s '.[0].address' "$TMP/top.json")" '"198.51.100.80"'
check "store: the user's destinations, remote sites all" "$(jq -c -s 'map(.address) | sort' "$TMP/top.json")" \
	'["198.51.100.53","198.51.100.80","198.51.100.81","198.51.100.82","2001:db8:5::81"]'
check "store: who reached ping.example's address" \
	"$("$TUNFLOW" report who 198.51.100.81 --store "$TMP/flows.db" -o json | jq -c '[.user, .flows]')" \
	'["me",1]'

# the full-screen view: LOCAL is this host, REMOTE the site; SENT what this host sent
check "tui: the header" "$(echo "$screen" | sed -n 2p | awk '{print $1, $2, $3, $4, $5, $6, $7}')" \
	"USER IFACE PROTO LOCAL REMOTE SENT RECV"
check "tui: the datagram's row: local, remote, sent, received" \
	"$(echo "$screen" | grep '198\.51\.100\.82:9999' | awk '{sub(/:[0-9]+$/, "", $4); print $1, $3, $4, $5, $6, $7}')" \
	"me udp 192.0.2.10 198.51.100.82:9999 38 0"
check "tui: the echoes' row" \
	"$(echo "$screen" | grep -E '^me +tun0 +icmp .*ping\.example' | awk '{print $1, $3, $4, $5, $6, $7}')" \
	"me icmp 192.0.2.10 ping.example 168 168"
check "tui: the port unreachable this host received" \
	"$(echo "$screen" | grep -E '^me +tun0 +icmp .*198\.51\.100\.82' | awk '{print $1, $3, $4, $5, $6, $7}')" \
	"me icmp 192.0.2.10 198.51.100.82 0 66"
check "tui: the IPv6 echoes' row" \
	"$(echo "$screen" | grep -E '^me +tun0 +icmp6 .*ping6\.example' | awk '{print $1, $3, $4, $5, $6, $7}')" \
	"me icmp6 2001:db8::10 ping6.example 312 312"
finish

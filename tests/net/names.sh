#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Destination names end to end, with real software through tun devices: dnsmasq serves
# a test zone, dig and curl resolve through it, curl (OpenSSL) and gnutls-cli reach
# openssl s_server and gnutls-serv by name over IPv4 and IPv6, busybox httpd is fetched
# by name, ngtcp2's client reaches its server over QUIC. Two users (a user map by tunnel)
# resolve different names to one address and each gets their own. --names off: none.
#
#   c1 (alice) tunc --tunrelay-- tuns1 \
#                                        srv: dnsmasq 198.51.100.53, servers on lo
#   c2 (bob)   tunc --tunrelay-- tuns2 /     (203.0.113.0/24, 2001:db8:5::/64)
#   tunflow watches tuns1 and tuns2 in srv, as on a VPN server.
SUITE=names
. "$(dirname "$0")/lib.sh"
need jq
need dnsmasq
need dig
need curl
need openssl
need gnutls-cli
need gnutls-serv
need busybox
need tshark
need gtlsserver
need gtlsclient
TUNRELAY=$TOP/build/tunrelay

ns_new srv; S=$NS
for a in 198.51.100.53/32 203.0.113.10/32 203.0.113.20/32 203.0.113.30/32 203.0.113.40/32; do
	ip -n "$S" addr add "$a" dev lo
done
ip -n "$S" addr add 2001:db8:5::10/128 dev lo nodad

# /etc/netns/NS/resolv.conf is what 'ip netns exec NS' shows a client as /etc/resolv.conf
ETCNS=()
teardown_names() {
	local d
	for d in "${ETCNS[@]}"; do rm -rf "/etc/netns/$d"; done
	teardown
}
trap teardown_names EXIT

C=()
for i in 1 2; do
	ns_new "c$i"; C[$i]=$NS
	ip -n "$S" tuntap add mode tun name "tuns$i"
	ip -n "$NS" tuntap add mode tun name tunc
	ip -n "$NS" addr add "192.0.2.1$i/32" dev tunc
	ip -n "$NS" addr add "2001:db8::1$i/128" dev tunc nodad
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.tunc.router_solicitations=0
	ip netns exec "$S" sysctl -qw "net.ipv6.conf.tuns$i.router_solicitations=0"
	ip -n "$NS" link set tunc up
	ip -n "$S" link set "tuns$i" up
	ip -n "$NS" route add default dev tunc
	ip -n "$NS" -6 route add default dev tunc
	ip -n "$S" route add "192.0.2.1$i/32" dev "tuns$i"
	ip -n "$S" -6 route add "2001:db8::1$i/128" dev "tuns$i"
	mkdir -p "/etc/netns/$NS"
	ETCNS+=("$NS")
	echo "nameserver 198.51.100.53" >"/etc/netns/$NS/resolv.conf"
	bg "$TUNRELAY" "$S" "tuns$i" "$NS" tunc
done
# bob's server side advertises a small MSS: his ClientHellos span two TCP segments
ip -n "$S" route replace 192.0.2.12/32 dev tuns2 advmss 300

# the test zone: short TTLs, a CNAME chain, A and AAAA, two names for one address
cat >"$TMP/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
bind-interfaces
listen-address=198.51.100.53
local-ttl=5
host-record=shop.example,203.0.113.10,2001:db8:5::10
host-record=edge.cdn.example,203.0.113.20
cname=www.shop.example,shop.cdn.example
cname=shop.cdn.example,edge.cdn.example
host-record=alpha.example,203.0.113.30
host-record=beta.example,203.0.113.30
host-record=tcp.example,203.0.113.40
EOF
bg ip netns exec "$S" dnsmasq -k -u root -C "$TMP/dnsmasq.conf" --pid-file="$TMP/dnsmasq.pid" \
	--log-facility=- 2>"$TMP/dnsmasq.log"

# a test CA and a certificate for shop.example
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
	-keyout "$TMP/ca.key" -out "$TMP/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=shop.example \
	-keyout "$TMP/shop.key" -out "$TMP/shop.csr" 2>/dev/null
printf 'subjectAltName=DNS:shop.example,DNS:www.shop.example\n' >"$TMP/ext"
openssl x509 -req -in "$TMP/shop.csr" -CA "$TMP/ca.pem" -CAkey "$TMP/ca.key" -CAcreateserial \
	-days 2 -extfile "$TMP/ext" -out "$TMP/shop.pem" 2>/dev/null
mkdir -p "$TMP/www"
echo hello >"$TMP/www/index.html"
for a in 203.0.113.10:443 203.0.113.20:443 '[2001:db8:5::10]:443'; do
	bg ip netns exec "$S" openssl s_server -quiet -accept "$a" -cert "$TMP/shop.pem" \
		-key "$TMP/shop.key" -www >>"$TMP/s_server.log" 2>&1
done
bg ip netns exec "$S" gnutls-serv -q --http -p 4433 --x509certfile "$TMP/shop.pem" \
	--x509keyfile "$TMP/shop.key" >"$TMP/gnutls-serv.log" 2>&1
bg ip netns exec "$S" busybox httpd -f -p 80 -h "$TMP/www" >"$TMP/httpd.log" 2>&1
bg ip netns exec "$S" gtlsserver -q 203.0.113.10 4443 "$TMP/shop.key" "$TMP/shop.pem" \
	>"$TMP/gtlsserver.log" 2>&1
sleep 0.5

printf 'tuns1 alice\ntuns2 bob\n' >"$TMP/users"
in_c() { local i=$1; shift; ip netns exec "${C[$i]}" "$@"; }

# two tunflows at once: biflow records, and one record per direction
tf_start "$S" "$TMP/uni.json" "$TMP/uni.err" -o json -t 0.2 --records --uniflow \
	--idle-timeout 60 --user-map "$TMP/users" 'tuns*' || exit 1
TF_UNI=$TF
# (this one drops to nobody after start: naming needs no privilege)
tf_start "$S" "$TMP/table.txt" "$TMP/table.err" -o table -n 100 -t 0.2 --user-map "$TMP/users" \
	--user nobody 'tuns*' || exit 1
TF_TABLE=$TF
tf_start "$S" "$TMP/wide.txt" "$TMP/wide.err" -o table -w -n 100 -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_WIDE=$TF
tf_start "$S" "$TMP/out.json" "$TMP/err" -o json -t 0.2 --records --idle-timeout 60 \
	--user-map "$TMP/users" 'tuns*' || exit 1

# DNS: dig through the tunnel, each user a different name for 203.0.113.30
check "dig: alice's alpha.example" "$(in_c 1 dig +short +tries=1 +time=2 alpha.example)" "203.0.113.30"
check "dig: bob's beta.example" "$(in_c 2 dig +short +tries=1 +time=2 beta.example)" "203.0.113.30"
check "dig: the CNAME chain" "$(in_c 1 dig +short +tries=1 +time=2 www.shop.example | tr '\n' ' ')" \
	"shop.cdn.example. edge.cdn.example. 203.0.113.20 "
sleep 0.5
in_c 1 ping -c 2 -i 0.2 -q 203.0.113.30 >/dev/null
in_c 2 ping -c 2 -i 0.2 -q 203.0.113.30 >/dev/null
in_c 1 ping -c 1 -q 203.0.113.20 >/dev/null
in_c 2 ping -c 1 -q 198.51.100.53 >/dev/null # an address no answer named
check "dig over TCP" "$(in_c 1 dig +tcp +short +tries=1 +time=2 tcp.example)" "203.0.113.40"
check "dig: shop.example's AAAA" "$(in_c 1 dig +short +tries=1 +time=2 AAAA shop.example)" "2001:db8:5::10"
sleep 0.3
in_c 1 ping -6 -c 1 -q 2001:db8:5::10 >/dev/null
in_c 1 ping -c 1 -q 203.0.113.40 >/dev/null

# TLS: curl (OpenSSL) by name, IPv4 and IPv6; gnutls-cli to gnutls-serv on port 4433
check "curl https IPv4" "$(in_c 1 curl -4 -s -o /dev/null -w '%{http_code}' --cacert "$TMP/ca.pem" \
	https://shop.example/)" "200"
check "curl https IPv6" "$(in_c 1 curl -6 -s -o /dev/null -w '%{http_code}' --cacert "$TMP/ca.pem" \
	https://shop.example/)" "200"
in_c 1 gnutls-cli --x509cafile "$TMP/ca.pem" -p 4433 shop.example </dev/null >"$TMP/gnutls.out" 2>&1
check "gnutls-cli handshake" "$(grep -c 'Handshake was completed' "$TMP/gnutls.out")" "1"
# bob: a ClientHello over two segments (MSS 300), watched on the wire by tshark
bg ip netns exec "$S" tshark -q -i tuns2 -w "$TMP/split.pcap" -f 'tcp port 443' 2>"$TMP/tshark.err"
TSHARK=$BG
for _ in $(seq 100); do grep -q "Capturing on" "$TMP/tshark.err" && break; sleep 0.1; done
sleep 0.3
check "curl https with a small MSS" "$(in_c 2 curl -4 -s -o /dev/null -w '%{http_code}' \
	--cacert "$TMP/ca.pem" https://www.shop.example/ 2>"$TMP/curl-mss.err")" "200"
# HTTP: busybox httpd by name
check "curl http" "$(in_c 2 curl -4 -s http://shop.example/)" "hello"
# QUIC: ngtcp2's client (GnuTLS) to its server, by name
in_c 1 timeout 5 gtlsclient -q --exit-on-first-stream-close --timeout=3s shop.example 4443 \
	https://shop.example:4443/ >/dev/null 2>&1
sleep 0.6
kill -INT "$TSHARK"; wait "$TSHARK" 2>/dev/null
tf_stop
check "tunflow exit" "$TF_RC" "0"
for TF in $TF_UNI $TF_TABLE $TF_WIDE; do
	tf_stop
	check "the other tunflows exit" "$TF_RC" "0"
done

R=$TMP/out.json
# name and source of the records matching a condition, unique
rec() { jq -s -c "map(select(.type == \"record\" and ($1)) | [.user, .name, .name_source]) | unique" "$R"; }
# one record per direction: [dir, name, source], unique
uni() { jq -s -c "map(select(.type == \"record\" and ($1)) | [.dir, .name, .name_source]) | unique" "$TMP/uni.json"; }

check "DNS flows carry the name asked for (alice)" \
	"$(rec '.user == "alice" and .proto == 17 and .dport == 53')" \
	'[["alice","alpha.example","dns"],["alice","shop.example","dns"],["alice","www.shop.example","dns"]]'
check "DNS flows carry the name asked for (bob)" \
	"$(rec '.user == "bob" and .proto == 17 and .dport == 53')" \
	'[["bob","beta.example","dns"],["bob","shop.example","dns"],["bob","www.shop.example","dns"]]'
check "no name: an address no answer named" "$(rec '.proto == 1 and .dst == "198.51.100.53"')" \
	'[["bob",null,null]]'
check "one address, two users: each the name they resolved" \
	"$(rec '.proto == 1 and .dst == "203.0.113.30"')" \
	'[["alice","alpha.example","dns"],["bob","beta.example","dns"]]'
check "DNS over TCP: the flow carries its question" \
	"$(rec '.proto == 6 and .dport == 53')" '[["alice","tcp.example","dns"]]'
check "DNS over TCP: the answer names the flow to its address" \
	"$(rec '.proto == 1 and .dst == "203.0.113.40"')" '[["alice","tcp.example","dns"]]'
check "IPv6: an AAAA answer names the flow" "$(rec '.proto == 58 and .dst == "2001:db8:5::10"')" \
	'[["alice","shop.example","dns"]]'
check "CNAME chain: the name the client asked for" \
	"$(rec '.proto == 1 and .dst == "203.0.113.20"')" '[["alice","www.shop.example","dns"]]'
check "curl https IPv4: SNI" "$(rec '.dport == 443 and .dst == "203.0.113.10"')" \
	'[["alice","shop.example","tls"]]'
check "curl https IPv4: both directions carry it" \
	"$(uni '.user == "alice" and .proto == 6 and (.dport == 443 or .sport == 443) and (.src == "203.0.113.10" or .dst == "203.0.113.10")')" \
	'[["egress","shop.example","tls"],["ingress","shop.example","tls"]]'
check "curl https IPv6: SNI" "$(rec '.dport == 443 and .dst == "2001:db8:5::10"')" \
	'[["alice","shop.example","tls"]]'
check "gnutls-cli: SNI on port 4433" "$(rec '.dport == 4433')" '[["alice","shop.example","tls"]]'
check "the ClientHello spanned two segments" \
	"$(tshark -r "$TMP/split.pcap" -Y 'tcp.dstport == 443 and tcp.len > 0' -T fields -e tcp.len 2>/dev/null |
		head -2 | awk '$1 > 0 && $1 <= 300 {n++} END {print n + 0}')" "2"
check "a ClientHello over two segments: SNI" "$(rec '.user == "bob" and .dport == 443')" \
	'[["bob","www.shop.example","tls"]]'
check "busybox httpd: Host" "$(rec '.user == "bob" and .dport == 80')" \
	'[["bob","shop.example","http"]]'
check "ngtcp2 QUIC handshake: SNI" "$(rec '.proto == 17 and .dport == 4443')" \
	'[["alice","shop.example","quic"]]'
# the table: the far side by name where there is one, the address where not; -w both
check "table: alice's HTTPS to 203.0.113.10 by name" \
	"$(grep -c 'alice   192.0.2.11:[0-9]* shop.example:443 ' "$TMP/table.txt" | sed 's/^[1-9][0-9]*$/some/')" "some"
check "table: the address where no name" \
	"$(grep -c 'tuns2  in  icmp  bob     192.0.2.12       198.51.100.53 ' "$TMP/table.txt" | sed 's/^[1-9][0-9]*$/some/')" "some"
check "table -w: address and name" \
	"$(grep -c '192.0.2.11:[0-9]* *203.0.113.10:443 .* shop.example (tls)$' "$TMP/wide.txt" | sed 's/^[1-9][0-9]*$/some/')" "some"
check "no parse failures" \
	"$(jq -s -c 'map(select(.type == "counters")) | last | [.dns_malformed, .tls_malformed, .quic_malformed, .http_malformed, .name_drops]' "$R")" \
	"[0,0,0,0,0]"

# --names off: the same fetches, no names, no naming counters
tf_start "$S" "$TMP/off.json" "$TMP/off.err" -o json -t 0.2 --records --names off \
	--user-map "$TMP/users" 'tuns*' || exit 1
in_c 1 dig +short +tries=1 +time=2 alpha.example >/dev/null
in_c 1 curl -4 -s -o /dev/null --cacert "$TMP/ca.pem" https://shop.example/
in_c 2 curl -4 -s -o /dev/null http://shop.example/
sleep 0.5
tf_stop
check "--names off: flows and records, none named" \
	"$(jq -s -c '[(map(select(.type == "record")) | length > 3), (map(select(.name or .name_source)) | length)]' "$TMP/off.json")" \
	"[true,0]"
check "--names off: no naming counters" \
	"$(jq -s -c 'map(select(.type == "counters")) | last | has("dns_malformed")' "$TMP/off.json")" "false"
finish

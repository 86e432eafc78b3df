#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Destination names end to end, with real software through tun devices: dnsmasq serves
# a test zone, dig and curl resolve through it, curl (OpenSSL) and gnutls-cli reach
# openssl s_server and gnutls-serv by name over IPv4 and IPv6, busybox httpd is fetched
# by name, ngtcp2's client reaches its server over QUIC. Two users (a user map by tunnel)
# resolve different names to one address and each gets their own. The same flows in every
# output: the table (-n: addresses only), --group-by user (JSON and table), IPFIX decoded
# by ipfixDump --yaf and tshark record for record, and the store (sqlite3, tunflow
# report), with AS and country from a test location database. --names off: none.
#
#   c1 (alice) tunc --tunrelay-- tuns1 \
#                                        srv: dnsmasq 198.51.100.53, servers on lo
#   c2 (bob)   tunc --tunrelay-- tuns2 /     (203.0.113.0/24, 2001:db8:5::/64)
#   tunflow watches tuns1 and tuns2 in srv, as on a VPN server.
SUITE=names
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipfix_lib.sh"
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
need ipfixDump
need xxd
need nc.openbsd
need sqlite3
need clickhouse-client
. "$(dirname "$0")/clickhouse_lib.sh"
[ -x "$CH_SERVER" ] || { fail prerequisite "clickhouse-server is not installed (run 'make deps')"; exit 1; }
TUNRELAY=$TOP/build/tunrelay
GEODB=$TOP/build/geodb

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
tf_start "$S" "$TMP/table.txt" "$TMP/table.err" -o table --top 100 -t 0.2 --user-map "$TMP/users" \
	--user nobody 'tuns*' || exit 1
TF_TABLE=$TF
tf_start "$S" "$TMP/wide.txt" "$TMP/wide.err" -o table -w --top 100 -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_WIDE=$TF
# -n: addresses, never names, in the table (narrow and -w) and the users' destinations
tf_start "$S" "$TMP/num.txt" "$TMP/num.err" -o table -n --top 100 -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_NUM=$TF
tf_start "$S" "$TMP/numwide.txt" "$TMP/numwide.err" -o table -n -w --top 100 -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_NUMWIDE=$TF
tf_start "$S" "$TMP/gnum.txt" "$TMP/gnum.err" -o table -n --group-by user -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_GNUM=$TF
# --group-by user: each user's top destinations by name
tf_start "$S" "$TMP/gtable.txt" "$TMP/gtable.err" -o table --group-by user -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_GTABLE=$TF
tf_start "$S" "$TMP/gwide.txt" "$TMP/gwide.err" -o table -w --group-by user -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_GWIDE=$TF
tf_start "$S" "$TMP/group.json" "$TMP/group.err" -o json --group-by user -t 0.2 \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_GJSON=$TF
# IPFIX to a listener on the server's loopback, captured there, and the store; AS and
# country from a test location database
printf '%s\n' "as 64500 Example Transit" "as 64501 Example Six" "as 64510 Example Resolver" \
	"net 203.0.113.0/24 64500 DE" "net 2001:db8:5::/48 64501 NL" "net 198.51.100.0/24 64510 SE" |
	"$GEODB" "$TMP/geo.db" || fail "geodb" "cannot write the test database"
bg sh -c "exec ip netns exec '$S' nc.openbsd -d -u -l 127.0.0.1 4739 >/dev/null"
IPFIX_NC=$BG
bg sh -c "exec ip netns exec '$S' tshark -i lo -f 'udp port 4739' -w '$TMP/ipfix.pcap' 2>/dev/null"
IPFIX_CAP=$BG
for _ in $(seq 100); do [ -s "$TMP/ipfix.pcap" ] && break; sleep 0.1; done
# ClickHouse on the server's loopback, as tests/net/clickhouse.sh runs it
CH=$TMP/ch
ch_config "$CH"
bg ip netns exec "$S" "$CH_SERVER" --config-file="$CH/config.xml" >>"$CH/console" 2>&1
ch_wait "$S"
chq() { ip netns exec "$S" clickhouse-client --port 9000 -q "$1"; }
chq "CREATE DATABASE tfdb"
tf_start "$S" "$TMP/exp.json" "$TMP/exp.err" -o json -t 0.2 --records --idle-timeout 60 \
	--ipfix udp:127.0.0.1:4739 --store "$TMP/flows.db" --geo-db "$TMP/geo.db" \
	--clickhouse http://127.0.0.1:8123 --clickhouse-database tfdb \
	--user-map "$TMP/users" 'tuns*' || exit 1
TF_EXP=$TF
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
for TF in $TF_UNI $TF_TABLE $TF_WIDE $TF_NUM $TF_NUMWIDE $TF_GNUM $TF_GTABLE $TF_GWIDE $TF_GJSON \
	$TF_EXP; do
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
	"$(jq -s -c 'map(select(.type == "counters")) | last | [.dns_malformed, .tls_malformed, .quic_malformed, .http_malformed, .name_drops, .dns_evictions, .names_unstored, .names_unfollowed]' "$R")" \
	"[0,0,0,0,0,0,0,0]"

# ---- IPFIX, record for record: CERT's (6871) elements by ipfixDump --yaf, ntop's (35632)
# by tshark, as tests/net/ipfix_names.sh reads them; the records as tunflow's JSON says
sleep 0.5
kill -TERM "$IPFIX_CAP" "$IPFIX_NC" 2>/dev/null
wait "$IPFIX_CAP" "$IPFIX_NC" 2>/dev/null
tshark -r "$TMP/ipfix.pcap" -T fields -e udp.payload 2>/dev/null | tr -d '\n' | xxd -r -p >"$TMP/ipfix.bin"
# the same lines from the JSON records of the same tunflow (ipfixdump_lines' order)
json_lines() {
	jq -r 'select(.type == "record") | [.proto, .src, .dst,
		(if .proto == 1 then "-" else .sport end),
		(if .proto == 1 then .icmp_type * 256 + .icmp_code else .dport end),
		(if .name_source == "tls" or .name_source == "quic" then .name else "-" end),
		(if .name_source == "http" then .name else "-" end),
		(if .name_source == "dns" then .name else "-" end),
		(if .dir == "egress" then .asn // 0 else 0 end),
		(if .dir == "ingress" then .asn // 0 else 0 end)] | map(tostring) | join(" ")' "$1" | sort
}
check "IPFIX: every record exported, none failed" \
	"$(jq -s -c '(map(select(.type == "counters")) | last) as $c | [(map(select(.type == "record")) | length) == $c.exported, $c.export_failures]' "$TMP/exp.json")" \
	"[true,0]"
WANT_IPFIX=$(json_lines "$TMP/exp.json")
check "IPFIX: ipfixDump --yaf, record for record as the JSON records" \
	"$(ipfixdump_lines "$TMP/ipfix.bin")" "$WANT_IPFIX"
check "IPFIX: tshark, record for record as the JSON records" \
	"$(tshark_lines "$TMP/ipfix.pcap")" "$WANT_IPFIX"
# (ICMPv6 left out: the kernel's own neighbour and error messages vary from run to run)
check "IPFIX: the names and AS, exactly (source ports left out)" \
	"$(ipfixdump_lines "$TMP/ipfix.bin" | awk '$1 != 58 { if ($1 != 1) $4 = "*"; print }' | sort -u)" \
	"$(sort <<'EOF'
1 192.0.2.11 203.0.113.20 - 2048 - - www.shop.example 0 64500
1 192.0.2.11 203.0.113.30 - 2048 - - alpha.example 0 64500
1 192.0.2.11 203.0.113.40 - 2048 - - tcp.example 0 64500
1 192.0.2.12 198.51.100.53 - 2048 - - - 0 64510
1 192.0.2.12 203.0.113.30 - 2048 - - beta.example 0 64500
17 192.0.2.11 198.51.100.53 * 53 - - alpha.example 0 64510
17 192.0.2.11 198.51.100.53 * 53 - - shop.example 0 64510
17 192.0.2.11 198.51.100.53 * 53 - - www.shop.example 0 64510
17 192.0.2.12 198.51.100.53 * 53 - - beta.example 0 64510
17 192.0.2.12 198.51.100.53 * 53 - - shop.example 0 64510
17 192.0.2.12 198.51.100.53 * 53 - - www.shop.example 0 64510
17 2001:db8::11 2001:db8:5::10 * 4443 shop.example - - 0 64501
6 192.0.2.11 198.51.100.53 * 53 - - tcp.example 0 64510
6 192.0.2.11 203.0.113.10 * 443 shop.example - - 0 64500
6 192.0.2.12 203.0.113.10 * 80 - shop.example - 0 64500
6 192.0.2.12 203.0.113.20 * 443 www.shop.example - - 0 64500
6 2001:db8::11 2001:db8:5::10 * 443 shop.example - - 0 64501
6 2001:db8::11 2001:db8:5::10 * 4433 shop.example - - 0 64501
EOF
)"

# ---- the store: each record with its name, source, AS and country
check "store: every record stored" \
	"$(sqlite3 -batch -noheader "$TMP/flows.db" 'SELECT count(*) FROM records')" \
	"$(jq -s 'map(select(.type == "record")) | length' "$TMP/exp.json")"
check "store: name, name_src (1 dns, 2 http, 3 tls, 4 quic), asn, as_name, country" \
	"$(sqlite3 -batch -noheader "$TMP/flows.db" "SELECT r.proto, r.rport, n.name, r.name_src, r.asn, a.name,
		r.country FROM records r LEFT JOIN names n ON n.id = r.name
		LEFT JOIN names a ON a.id = r.as_name WHERE r.proto != 58" | sort -u)" "$(sort <<'EOF'
17|4443|shop.example|4|64501|Example Six|NL
17|53|alpha.example|1|64510|Example Resolver|SE
17|53|beta.example|1|64510|Example Resolver|SE
17|53|shop.example|1|64510|Example Resolver|SE
17|53|www.shop.example|1|64510|Example Resolver|SE
1|0|alpha.example|1|64500|Example Transit|DE
1|0|beta.example|1|64500|Example Transit|DE
1|0|tcp.example|1|64500|Example Transit|DE
1|0|www.shop.example|1|64500|Example Transit|DE
1|0||0|64510|Example Resolver|SE
6|4433|shop.example|3|64501|Example Six|NL
6|443|shop.example|3|64500|Example Transit|DE
6|443|shop.example|3|64501|Example Six|NL
6|443|www.shop.example|3|64500|Example Transit|DE
6|53|tcp.example|1|64510|Example Resolver|SE
6|80|shop.example|2|64500|Example Transit|DE
EOF
)"
check "ClickHouse: every record inserted" \
	"$(chq "SELECT count() FROM tfdb.tunflow_flows FINAL")" \
	"$(jq -s 'map(select(.type == "record")) | length' "$TMP/exp.json")"
check "ClickHouse: dest_name, name_src, asn, as_name, country" \
	"$(chq "SELECT proto, if(dir = 'ingress', dport, sport), dest_name, name_src, asn, as_name, country
		FROM tfdb.tunflow_flows FINAL WHERE proto != 58 FORMAT TSV" | tr '\t' '|' | sort -u)" \
	"$(sqlite3 -batch -noheader "$TMP/flows.db" "SELECT r.proto, r.rport, ifnull(n.name, ''),
		CASE r.name_src WHEN 1 THEN 'dns' WHEN 2 THEN 'http' WHEN 3 THEN 'tls' WHEN 4 THEN 'quic' ELSE '' END,
		r.asn, a.name, r.country FROM records r LEFT JOIN names n ON n.id = r.name
		LEFT JOIN names a ON a.id = r.as_name WHERE r.proto != 58" | sort -u)"
check "ClickHouse: report top --user bob --by name, the same as the store's" \
	"$(ip netns exec "$S" "$TUNFLOW" report top --user bob --by name --clickhouse http://127.0.0.1:8123 \
		--clickhouse-database tfdb -o json 2>&1)" \
	"$("$TUNFLOW" report top --user bob --by name --store "$TMP/flows.db" -o json 2>&1)"
check "store: tunflow report top --user bob --by name" \
	"$("$TUNFLOW" report top --user bob --by name --store "$TMP/flows.db" -o json | jq -c -s 'map([.name, .addresses, .flows])')" \
	'[["www.shop.example",2,2],["shop.example",2,2],["beta.example",2,2]]'

# ---- -n: addresses, never names
check "-n: alice's HTTPS by address" \
	"$(grep -c 'tuns1  in  tcp   alice   192.0.2.11:[0-9]* 203.0.113.10:443 ' "$TMP/num.txt" | sed 's/^[1-9][0-9]*$/some/')" "some"
check "-n: no name anywhere in the table" "$(grep -c 'example' "$TMP/num.txt")" "0"
check "-n -w: no NAME column, no name" \
	"$(grep -c ' NAME$\|example' "$TMP/numwide.txt"; grep -c ' 192.0.2.12:[0-9]* *203.0.113.20:443 ' "$TMP/numwide.txt" | sed 's/^[1-9][0-9]*$/some/')" "0
some"
# the users' rows of the final table: user, then the destinations
users_final() {
	awk '/\(final\)/ { f = 1; next } f && $1 ~ /^(alice|bob)$/ { $2 = $3 = $4 = $5 = ""; print }' "$1" | tr -s ' '
}
check "--group-by user -n: addresses" "$(users_final "$TMP/gnum.txt" | sed -E 's/^alice [^ ]+ /alice X /')" \
	"alice X 198.51.100.53
bob 203.0.113.20 203.0.113.10"
check "--group-by user -n: the header" "$(grep -c 'TOP REMOTE ADDRESSES$' "$TMP/gnum.txt" | sed 's/^[1-9][0-9]*$/some/')" "some"

# ---- --group-by user: each user's top destinations by name, with their source
# (alice's shop.example: its biggest flow's source, TLS or QUIC as the handshakes' sizes go)
check "--group-by user: the table, by name" "$(users_final "$TMP/gtable.txt")" \
	"alice shop.example tcp.example
bob www.shop.example shop.example"
check "--group-by user -w: the table, by name and source" \
	"$(users_final "$TMP/gwide.txt" | sed 's/^alice shop.example (quic)/alice shop.example (tls)/')" \
	"alice shop.example (tls) tcp.example (dns) alpha.example (dns)
bob www.shop.example (tls) shop.example (http) beta.example (dns)"
check "--group-by user: JSON, bob's top by name, source and address" \
	"$(jq -s -c 'map(select(.type == "user" and .user == "bob")) | last | .top | map([.name, .name_source, .addr])' "$TMP/group.json")" \
	'[["www.shop.example","tls","203.0.113.20"],["shop.example","http","203.0.113.10"],["beta.example","dns","203.0.113.30"]]'
check "--group-by user: JSON, alice's top by name and source" \
	"$(jq -s -c 'map(select(.type == "user" and .user == "alice")) | last | .top | map([.name, .name_source])' "$TMP/group.json" | sed 's/"quic"/"tls"/')" \
	'[["shop.example","tls"],["tcp.example","dns"],["alpha.example","dns"]]'
check "--group-by user: JSON, an address without a name: addr and bytes only" \
	"$(jq -s -c 'map(select(.type == "user" and .user == "bob") | .top[] | select(.name == null) | keys) | unique' "$TMP/group.json")" \
	'[["addr","bytes"]]'

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

# SPDX-License-Identifier: GPL-2.0-only
# Shared by the end-to-end tests: certificates made on the spot with GnuTLS's certtool,
# and the namespaces of a VPN server, a web server behind it and two users.
# pki_ca DIR: DIR/ca.key, DIR/ca.pem
pki_ca() {
	printf 'cn = "tunflow test CA"\nserial = 1\nexpiration_days = 2\nca\nsigning_key\ncert_signing_key\n' \
		>"$1/ca.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$1/ca.key" >/dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$1/ca.key" --template "$1/ca.tmpl" \
		--outfile "$1/ca.pem" >/dev/null 2>&1
}
# pki_cert DIR NAME CN USAGE [EXTRA]: DIR/NAME.key and DIR/NAME.pem signed by the CA;
# USAGE is tls_www_server or tls_www_client, EXTRA more template lines
pki_cert() {
	printf 'cn = "%s"\nserial = %d\nexpiration_days = 2\nsigning_key\nencryption_key\n%s\n%s\n' \
		"$3" "$RANDOM" "$4" "${5:-}" >"$1/$2.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$1/$2.key" >/dev/null 2>&1 &&
	certtool --generate-certificate --load-privkey "$1/$2.key" --load-ca-certificate \
		"$1/ca.pem" --load-ca-privkey "$1/ca.key" --template "$1/$2.tmpl" \
		--outfile "$1/$2.pem" >/dev/null 2>&1
}

# vpn_topology USER1 USER2: namespaces $SRV (the VPN server), $WEB (a web server behind
# it at 203.0.113.80) and ${C[1]}, ${C[2]} (the two users' machines, at 198.51.100.2 and
# .18, reaching the server at 198.51.100.1). Inside the VPN: 192.0.2.0/24. IPv6 is off:
# link-local chatter on the tunnels would be counted too.
vpn_topology() {
	ns_new srv; SRV=$NS
	ns_new web; WEB=$NS
	ns_new "$1"; C[1]=$NS
	ns_new "$2"; C[2]=$NS
	ip link add w0 netns "$SRV" type veth peer name w0 netns "$WEB"
	ip -n "$SRV" addr add 203.0.113.1/24 dev w0
	ip -n "$WEB" addr add 203.0.113.80/24 dev w0
	ip -n "$SRV" link set w0 up
	ip -n "$WEB" link set w0 up
	ip -n "$WEB" route add 192.0.2.0/24 via 203.0.113.1
	ip netns exec "$SRV" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$SRV" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	for i in 1 2; do
		ip link add "c$i" netns "$SRV" type veth peer name eth0 netns "${C[$i]}"
		ip -n "$SRV" addr add "198.51.100.$((16 * (i - 1) + 1))/28" dev "c$i"
		ip -n "${C[$i]}" addr add "198.51.100.$((16 * (i - 1) + 2))/28" dev eth0
		ip -n "$SRV" link set "c$i" up
		ip -n "${C[$i]}" link set eth0 up
		ip -n "${C[$i]}" route add 198.51.100.0/24 via "198.51.100.$((16 * (i - 1) + 1))"
		ip netns exec "${C[$i]}" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	done
}

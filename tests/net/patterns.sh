#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Interface patterns (issue 10, defect 12 and 6): an invalid glob and an over-long name
# are usage errors said in one line (exit 2); thousands of patterns with no match yet
# are said in one line; =NAME names an interface literally (vpn[1]); an interface name
# with control characters reaches neither the terminal nor the JSON raw.
SUITE=patterns
. "$(dirname "$0")/lib.sh"
need jq

tun_ns pat
# expect NAME STATUS STDERR ARGS...: exit status and whole stderr of a short tunflow run
expect() {
	local name=$1 status=$2 want=$3 out rc
	shift 3
	out=$(ip netns exec "$NS" "$TUNFLOW" "$@" 2>&1 >/dev/null); rc=$?
	check "$name: exit status" "$rc" "$status"
	check "$name: message" "$out" "$want"
}
expect "unterminated [" 2 "tunflow: interface 'vpn[' is not a valid glob: '[' without ']' (=NAME names an interface with '[' in it literally)" \
	-q --duration 0.1 'vpn['
expect "backwards range" 2 "tunflow: interface 'vpns[9-0]' is not a valid glob: a range runs backwards" \
	-q --duration 0.1 'vpns[9-0]'
expect "unknown class" 2 "tunflow: interface 'vpns[[:digits:]]' is not a valid glob: unknown character class" \
	-q --duration 0.1 'vpns[[:digits:]]'
expect "lone backslash" 2 "tunflow: --exclude pattern 'x\\' is not a valid glob: it ends in a lone backslash" \
	-q --duration 0.1 -x 'x\' tun0
expect "=NAME too long" 2 "tunflow: '=averyveryverylongname0' is too long for an interface name (max 15)" \
	-q --duration 0.1 =averyveryverylongname0
expect "= alone" 2 "tunflow: interface '=' names no interface" -q --duration 0.1 =
expect "valid classes and ranges" 0 "tunflow: no interface matches 'vpns[[:digit:]]*', 'vpns[0-9]' yet; waiting for them (see 'ip link')" \
	-q --duration 0.1 'vpns[[:digit:]]*' 'vpns[0-9]'
mapfile -t many < <(seq -f 'nomatch%g*' 5000)
expect "5000 unmatched globs, -q: one line" 0 "tunflow: no interface matches 'nomatch1*', 'nomatch2*', 'nomatch3*' or 4997 other patterns yet; waiting for them (see 'ip link')" \
	-q --duration 0.1 "${many[@]}"
out=$(ip netns exec "$NS" "$TUNFLOW" --duration 0.1 -o json "${many[@]}" 2>&1 >/dev/null)
check "5000 unmatched globs: one line about them" "$(printf '%s\n' "$out" | grep -c 'no interface matches')" 1

# vpn[1] and vpn1: the glob matches vpn1, =vpn[1] the other one alone
for n in 'vpn[1]' vpn1; do
	ip -n "$NS" tuntap add mode tun name "$n"
	ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$n.disable_ipv6=1"
	ip -n "$NS" link set "$n" up
done
tf_start "$NS" "$TMP/o1" "$TMP/e1" -o json -t 0.1 '=vpn[1]' || fail start "$(cat "$TMP/e1")"
for n in 'vpn[1]' vpn1; do
	ip netns exec "$NS" "$TUNPKT" "$n" "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,count=3" 2>/dev/null
done
sleep 0.3
tf_stop
check "=vpn[1] watches vpn[1] alone" "$(grep '^tunflow: watching' "$TMP/e1" | cut -d' ' -f3)" 'vpn[1]'
check "=vpn[1]: its packets, and no others" \
	"$(jq -s -c 'map(select(.type == "flow" and .dport == 2)) | [(map(.iface) | unique), (map(.packets) | add)]' "$TMP/o1")" \
	'[["vpn[1]"],3]'
tf_start "$NS" "$TMP/o2" "$TMP/e2" -o json -t 0.1 'vpn[1]' || fail start "$(cat "$TMP/e2")"
tf_stop
check "the glob vpn[1] watches vpn1" "$(grep '^tunflow: watching' "$TMP/e2" | cut -d' ' -f3)" vpn1

# a name with an escape sequence and a byte that is not UTF-8: shown, never raw
evil=$'e\x1b[2J\xffx'
ip -n "$NS" tuntap add mode tun name "$evil"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$evil.disable_ipv6=1" 2>/dev/null
ip -n "$NS" link set "$evil" up
tf_start "$NS" "$TMP/o3" "$TMP/e3" -o json -t 0.1 'e*' || fail start "$(cat "$TMP/e3")"
ip netns exec "$NS" "$TUNPKT" "$evil" "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,count=2" 2>/dev/null
sleep 0.3
ip -n "$NS" link del "$evil"
sleep 0.3
tf_stop
check "stderr: no escape, no invalid UTF-8" "$(LC_ALL=C grep -c $'\x1b\|\xff' "$TMP/e3")" 0
check "stderr: the name made visible" "$(grep -c '^tunflow: watching e\\x1b\[2J\\xffx (tun' "$TMP/e3") $(grep -c '^tunflow: e\\x1b\[2J\\xffx is gone$' "$TMP/e3")" "1 1"
check "JSON: the cleaned name on every line of it" \
	"$(jq -s -c 'map(select(.iface != null and .iface != "tun0")) | [(map(.iface) | unique), length]' "$TMP/o3")" \
	'[["e\\x1b[2J\\xffx"],3]'
check "JSON: no raw escape, valid UTF-8" "$(LC_ALL=C grep -c $'\x1b\|\xff' "$TMP/o3")" 0
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Outside strings in every output: a tun whose name holds ESC, BEL and a byte that is
# not UTF-8, and users (from the user map) with a terminal title sequence, a
# spreadsheet formula, quotes, a backslash and a comma. The table, JSON and CSV show
# each name in one visible form ("\x1b" for ESC), hold no control byte and are valid
# UTF-8; JSON parses; the CSV formula cell is quoted with a leading "'". (IPFIX
# strings: tests/unit/test_ipfix.c; each escaping function: tests/unit/test_text.c.)
SUITE=escape
. "$(dirname "$0")/lib.sh"
need jq
need iconv

ns_new escape
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
IF=$'t\e]0;X\a\xff'
ip -n "$NS" tuntap add mode tun name "$IF" || { fail "setup" "cannot make the tun"; finish; }
ip -n "$NS" addr add 192.0.2.1/24 dev "$IF"
ip -n "$NS" link set "$IF" up
printf '192.0.2.9 eve\e]0;pwned\a\n192.0.2.10 =HYPERLINK("http://x")\n192.0.2.11 "q"\\d,x\n' \
	>"$TMP/users"
traffic() {
	ip netns exec "$NS" "$TUNPKT" "$IF" \
		"v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=3" \
		"v=4,proto=icmp,src=192.0.2.10,dst=192.0.2.1,sport=8,dport=0,payload=56,count=2" \
		"v=4,proto=icmp,src=192.0.2.11,dst=192.0.2.1,sport=8,dport=0,payload=56,count=1" \
		2>/dev/null
}
# no byte below 0x20 but the line feed, none of 0x7f, and valid UTF-8
inert() {
	printf '%s %s' "$(tr -d '\n' <"$1" | LC_ALL=C tr -d '\040-\176\200-\377' | wc -c)" \
		"$(iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1 && echo utf8 || echo not-utf8)"
}
IFV='t\x1b]0;X\x07\xff' # the interface as every output shows it

# JSON lines (records: one per flow)
tf_start "$NS" "$TMP/out.json" "$TMP/json.err" -o json --records --user-map "$TMP/users" \
	-t 0.1 't*' || { fail "start json" "$(cat "$TMP/json.err")"; finish; }
traffic
sleep 0.3
tf_stop
check "json: exit status" "$TF_RC" 0
check "json: no control byte, valid UTF-8" "$(inert "$TMP/out.json")" "0 utf8"
check "json: every line parses" "$(jq -c . "$TMP/out.json" >/dev/null 2>&1 && echo yes)" yes
check "json: interface and users, visible" \
	"$(jq -r 'select(.type == "record") | [.iface, .user, .packets] | map(tostring) | join(" | ")' \
		"$TMP/out.json" | sort)" \
	"$IFV | \"q\"\\d,x | 1
$IFV | =HYPERLINK(\"http://x\") | 2
$IFV | eve\\x1b]0;pwned\\x07 | 3"

# CSV
tf_start "$NS" "$TMP/out.csv" "$TMP/csv.err" -o csv --user-map "$TMP/users" -t 0.1 't*' ||
	{ fail "start csv" "$(cat "$TMP/csv.err")"; finish; }
traffic
sleep 0.3
tf_stop
check "csv: exit status" "$TF_RC" 0
check "csv: no control byte, valid UTF-8" "$(inert "$TMP/out.csv")" "0 utf8"
check "csv: rows (after the times), formula cell quoted with a leading '" \
	"$(tail -n +2 "$TMP/out.csv" | cut -d, -f5- | sort)" \
	"$IFV,\"\"\"q\"\"\\d,x\",ingress,4,1,icmp,192.0.2.11,192.0.2.1,,,8,0,1,84,1,84,0,0,,,,,,,,
$IFV,\"'=HYPERLINK(\"\"http://x\"\")\",ingress,4,1,icmp,192.0.2.10,192.0.2.1,,,8,0,2,168,2,168,0,0,,,,,,,,
$IFV,eve\\x1b]0;pwned\\x07,ingress,4,1,icmp,192.0.2.9,192.0.2.1,,,8,0,3,252,3,252,0,0,,,,,,,,"

# The table, wide (user column 16)
tf_start "$NS" "$TMP/table.txt" "$TMP/table.err" -o table --wide --user-map "$TMP/users" \
	-t 0.2 't*' || { fail "start table" "$(cat "$TMP/table.err")"; finish; }
traffic
sleep 0.4
tf_stop
check "table: exit status" "$TF_RC" 0
check "table: no control byte, valid UTF-8" "$(inert "$TMP/table.txt")" "0 utf8"
check "table: final rows, names cut on the left with '~'" \
	"$(sed -n '/(final)$/,$p' "$TMP/table.txt" | grep '^~' | sort)" \
	'~1b]0;X\x07\xff in  icmp  "q"\d,x          192.0.2.11                                      192.0.2.1                                            1     84      0
~1b]0;X\x07\xff in  icmp  ~INK("http://x") 192.0.2.10                                      192.0.2.1                                            2    168      0
~1b]0;X\x07\xff in  icmp  ~x1b]0;pwned\x07 192.0.2.9                                       192.0.2.1                                            3    252      0
~1b]0;X\x07\xff out icmp  "q"\d,x          192.0.2.1                                       192.0.2.11                                           1     84      0
~1b]0;X\x07\xff out icmp  ~INK("http://x") 192.0.2.1                                       192.0.2.10                                           2    168      0
~1b]0;X\x07\xff out icmp  ~x1b]0;pwned\x07 192.0.2.1                                       192.0.2.9                                            3    252      0'
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The same facts in every output: flow lines carry their harvest's time (the time the
# other objects of that harvest carry), the protocol is a number and a name in JSON
# flows, JSON records and CSV rows alike; -i IFACE as iftop and tcpdump users type it;
# -n is "numeric" as in tcpdump and iftop, --top has no short form.
SUITE=fields
. "$(dirname "$0")/lib.sh"
need jq

tun_ns fld
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$1" 2>/dev/null; }
traffic() {
	send "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=2"
	send "v=4,proto=tcp,src=192.0.2.9,dst=192.0.2.1,sport=4000,dport=443,flags=2,payload=0"
	send "v=4,proto=icmp,src=192.0.2.9,dst=192.0.2.1,sport=8,dport=0,payload=56,count=1"
	send "v=6,proto=icmp6,src=2001:db8::9,dst=2001:db8::1,sport=128,dport=0,payload=56,count=1"
}

# -i IFACE, and -n (a flag: "-n -t" is not "--top=-t")
tf_start "$NS" "$TMP/f.json" "$TMP/f.err" -n -o json -t 0.1 -i tun0 || exit 1
traffic
sleep 0.4
ip -n "$NS" link del tun0
sleep 0.3
tf_stop
check "-i tun0: watched, its flows reported" \
	"$(jq -s -c 'map(select(.type == "flow" and .dir == "ingress")) | map(.iface) | unique' "$TMP/f.json")" \
	'["tun0"]'
check "json: proto and proto_name on every flow" \
	"$(jq -s -c 'map(select(.type == "flow")) | map([.proto, .proto_name]) | unique' "$TMP/f.json")" \
	'[[1,"icmp"],[6,"tcp"],[17,"udp"],[58,"icmp6"]]'
check "json: every flow line has its harvest's time, at or after its last packet" \
	"$(jq -s -c 'map(select(.type == "flow")) | [length > 0, all(.time | test("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{3}Z$")), all(.time >= .last_seen)]' "$TMP/f.json")" \
	'[true,true,true]'
check "json: the last lines (interface gone) carry the time the iface_gone says" \
	"$(jq -s -r '(map(select(.type == "iface_gone")) | .[0].gone) as $g | map(select(.type == "flow" and .end == "interface gone")) | [length > 0, all(.time == $g)] | @text' "$TMP/f.json")" \
	'[true,true]'

tun_ns fld2
tf_start "$NS" "$TMP/r.json" "$TMP/r.err" --records -o json -t 0.1 tun0 || exit 1
traffic
sleep 0.3
tf_stop
check "records: proto and proto_name" \
	"$(jq -s -c 'map(select(.type == "record")) | map([.proto, .proto_name]) | unique' "$TMP/r.json")" \
	'[[1,"icmp"],[6,"tcp"],[17,"udp"],[58,"icmp6"]]'

tun_ns fld3
tf_start "$NS" "$TMP/c.csv" "$TMP/c.err" -o csv -t 0.1 tun0 || exit 1
traffic
sleep 0.3
tf_stop
check "csv: proto then proto_name in the header" "$(head -1 "$TMP/c.csv" | cut -d, -f8-10)" \
	"ip_version,proto,proto_name"
check "csv: proto and proto_name in the rows" \
	"$(sed 1d "$TMP/c.csv" | cut -d, -f9,10 | sort -u | tr '\n' ' ')" \
	"1,icmp 17,udp 58,icmp6 6,tcp "

# --top without a short form; -n takes no value
"$TUNFLOW" -n 5 --cleanup tun0 >/dev/null 2>"$TMP/n.err"
check "-n 5: 5 is an interface, not a row count" "$(cat "$TMP/n.err")" \
	"tunflow: --cleanup takes one interface and no others"
finish

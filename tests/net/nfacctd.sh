#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# pmacct's nfacctd (Debian's pmacct) as tunflow's IPFIX collector: its totals per user
# and interface, kept through aggregate_primitives on userName (371) and interfaceName
# (82), equal tunflow's own, packet for packet and byte for byte, when tunflow exports
# with --uniflow. With the default biflow records nfacctd counts only the initiator's
# side (it ignores RFC 5103's reverse counters): the answers are missing, and this test
# shows by how much, so that README's advice (--uniflow for nfacctd) stays true.
SUITE=nfacctd
. "$(dirname "$0")/lib.sh"
need jq
need nfacctd

. "$(dirname "$0")/ipfix_lib.sh"
ipfix_ns nfacctd
# The collector's custom primitives: the user and the interface name, strings of variable
# length in tunflow's records. nfacctd 1.7.7 leaves a variable-length string empty with
# 'len=vlen semantics=str' (and with a fixed 'len' that differs from the record's);
# 'semantics=raw' keeps the bytes, up to 'len', as hex: "alice" is 61-6C-69-63-65.
cat >"$TMP/primitives.lst" <<'PRIM'
name=username	field_type=371	len=256	semantics=raw
name=ifname	field_type=82	len=64	semantics=raw
PRIM
# nfacctd_run NAME PORT TUNFLOW-ARGS...: nfacctd on 127.0.0.1:PORT in $NS, tunflow
# exporting the known flows to it; nfacctd's CSV in $TMP/NAME.csv, tunflow's JSON in
# $TMP/NAME.json
nfacctd_run() {
	local name=$1 port=$2 nf
	shift 2
	cat >"$TMP/$name.conf" <<CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
aggregate_primitives: $TMP/primitives.lst
aggregate: username, ifname, in_iface, out_iface
plugins: print
print_output: csv
print_output_file: $TMP/$name.csv
print_output_file_append: true
print_refresh_time: 1
CONF
	bg sh -c "exec ip netns exec '$NS' nfacctd -f '$TMP/$name.conf' 2>'$TMP/$name.nfacctd.err'"
	nf=$BG
	export_through "$port" "$name" "$@"
	# the print plugin writes every second what came in since: wait for two writes
	sleep 2.5
	kill -INT "$nf" 2>/dev/null # (nfacctd ends on SIGINT, not on SIGTERM)
	wait "$nf" 2>/dev/null
}
# nfacctd's CSV, summed per user, interface name, ingress and egress interface index
# (the file holds one block per second, each with its header line; names in hex)
nfacctd_totals() {
	awk -F, 'function unhex(s,   o, i) {
			gsub("-", "", s)
			for (i = 1; i < length(s); i += 2)
				o = o sprintf("%c", 16 * (index(H, substr(s, i, 1)) - 1) + index(H, substr(s, i + 1, 1)) - 1)
			return o
		}
		BEGIN { H = "0123456789ABCDEF" }
		/PACKETS/ { for (i = 1; i <= NF; i++) col[tolower($i)] = i; next }
		NF > 1 { k = unhex($col["username"]) " " unhex($col["ifname"]) " " $col["in_iface"] " " $col["out_iface"]
			p[k] += $col["packets"]; b[k] += $col["bytes"] }
		END { for (k in p) print k, p[k], b[k] }' "$1" | sort
}
# tunflow's records, summed the same way (both directions of a biflow)
tunflow_totals() {
	jq -r --arg i "$IFINDEX" 'select(.type == "record") | [.user, .iface,
		(if .dir == "ingress" then $i else "0" end), (if .dir == "egress" then $i else "0" end),
		.packets + (.rev_packets // 0), .bytes + (.rev_bytes // 0)] | map(tostring) | join(" ")' "$1" |
		awk '{ k = $1 " " $2 " " $3 " " $4; p[k] += $5; b[k] += $6 }
		END { for (k in p) print k, p[k], b[k] }' | sort
}
# per_user: the lines above summed per user and interface name
per_user() {
	awk '{ k = $1 " " $2; p[k] += $5; b[k] += $6 } END { for (k in p) print k, p[k], b[k] }' | sort
}
# per user, both directions: alice's 3 echoes and replies (84 bytes each), SYN and reset
# (40), 2 datagrams (48) and the host's 2 ICMP errors about them (76); bob's the same
# over IPv6 (104, 60, 68, 116)
WANT_USER="alice tun0 12 832
bob tun0 12 1112"

# ---- --uniflow: every direction a record of its own, nfacctd counts them all
nfacctd_run uni 4739 --uniflow
check "uniflow: tunflow's own totals per user" "$(tunflow_totals "$TMP/uni.json" | per_user)" "$WANT_USER"
check "uniflow: tunflow exported every record, none failed" \
	"$(jq -s -c 'map(select(.type == "counters" and .final)) | last | [.exported, .export_failures]' "$TMP/uni.json")" \
	"[$(jq -s 'map(select(.type == "record")) | length' "$TMP/uni.json"),0]"
check "uniflow: nfacctd's totals per user equal tunflow's" \
	"$(nfacctd_totals "$TMP/uni.csv" | per_user)" "$WANT_USER"
# what came in on tun0 (ingressInterface) and what went out (egressInterface)
check "uniflow: nfacctd's totals per user and interface index in and out equal tunflow's" \
	"$(nfacctd_totals "$TMP/uni.csv")" \
	"alice tun0 0 $IFINDEX 6 444
alice tun0 $IFINDEX 0 6 388
bob tun0 0 $IFINDEX 6 604
bob tun0 $IFINDEX 0 6 508"
check "uniflow: (tunflow's own split is the same)" \
	"$(tunflow_totals "$TMP/uni.json")" "$(nfacctd_totals "$TMP/uni.csv")"

# ---- the default biflow records: nfacctd keeps the user and the interface, but reads
# only the initiator's counters; the echo replies and the resets are not counted
nfacctd_run bi 4740
check "biflow: tunflow's own totals per user are the same" \
	"$(tunflow_totals "$TMP/bi.json" | per_user)" "$WANT_USER"
check "biflow: nfacctd counts only the initiators' side (3 echo replies and 1 reset short per user)" \
	"$(nfacctd_totals "$TMP/bi.csv" | per_user)" \
	"alice tun0 8 540
bob tun0 8 740"

finish

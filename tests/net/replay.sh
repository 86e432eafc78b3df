#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tunflow -r on captures written here byte by byte (tests/net/replay_pcap.py): exact
# flows, first and last seen equal to the capture's timestamps, harvests and record
# timeouts in capture time, snapped packets, every link type tunflow replays, standard
# input and pcapng, and the one-line errors with their exit status.
SUITE=replay
. "$(dirname "$0")/lib.sh"
need jq
need python3
need editcap
ns_new replay
python3 "$(dirname "$0")/replay_pcap.py" "$TMP"
# rp FILE ARGS...: replay FILE in the namespace; stdout in $TMP/out, stderr $TMP/err,
# exit status $RC
rp() {
	local f=$1
	shift
	ip netns exec "$NS" "$TUNFLOW" -r "$f" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}
# the flow lines: dir src dst sport dport packets bytes first last
# the flow lines, harvest by harvest (within one, in no particular order: sorted)
flows() {
	jq -r 'select(.type == "flow") | [.time, .dir, .src, .dst, .sport, .dport, .packets,
		.bytes, .first_seen, .last_seen] | join(" ")' "$TMP/out" | LC_ALL=C sort | cut -d' ' -f2-
}
final() {
	jq -r 'select(.type == "counters" and .final) | [.non_ip, .truncated, .bad_ihl, .bad_len,
		.snapped, .too_big, .map_full] | join(" ")' "$TMP/out"
}

# --- Ethernet: 7 packets, harvests every second of capture time
rp "$TMP/eth.pcap" -o json -t 1
check "eth: exit status 0 (read whole)" "$RC" 0
check "eth: flows, first and last seen from the capture (one line per harvest)" "$(flows)" \
	"ingress 192.0.2.1 198.51.100.2 1000 53 2 96 2023-11-14T22:13:20.123Z 2023-11-14T22:13:20.456Z
ingress 198.51.100.2 192.0.2.1 53 1000 1 48 2023-11-14T22:13:20.500Z 2023-11-14T22:13:20.500Z
ingress 192.0.2.1 198.51.100.2 1000 53 1 48 2023-11-14T22:13:20.123Z 2023-11-14T22:13:25.250Z"
check "eth: every other packet in one counter (ARP, cut inside its headers, longer than its frame)" \
	"$(final)" "1 1 0 0 1 0 0"
check "eth: counters read at the first harvest (1 s of capture time in) and at the last packet" \
	"$(jq -r 'select(.type == "counters") | .time' "$TMP/out" | tr '\n' ' ')" \
	"2023-11-14T22:13:21.123Z 2023-11-14T22:13:25.250Z "
check "eth: interface pcap" "$(jq -r 'select(.type == "flow") | .iface' "$TMP/out" | sort -u)" pcap

# --- records: the idle timeout runs in capture time
rp "$TMP/eth.pcap" -o json -t 1 --records --idle-timeout 2
check "records: ended by the idle timeout in capture time, then at exit" \
	"$(jq -r 'select(.type == "record") | [.start, .end, .end_reason, .packets, .bytes,
		.rev_packets, .rev_bytes] | join(" ")' "$TMP/out")" \
	"2023-11-14T22:13:20.123Z 2023-11-14T22:13:20.500Z idle timeout 2 96 1 48
2023-11-14T22:13:25.250Z 2023-11-14T22:13:25.250Z tunflow exit 1 48 0 0"

# --- standard input, pcapng (nanosecond timestamps), CSV
editcap -F pcapng "$TMP/eth.pcap" "$TMP/eth.pcapng"
ip netns exec "$NS" "$TUNFLOW" -r - -o json -t 1 <"$TMP/eth.pcapng" >"$TMP/out" 2>"$TMP/err"
check "stdin pcapng: exit status 0" "$?" 0
check "stdin pcapng: the same flows" "$(flows | md5sum)" "$(rp "$TMP/eth.pcap" -o json -t 1; flows | md5sum)"
rp "$TMP/eth.pcapng" -o csv -t 1
check "csv: one record a flow, in capture time" "$(cut -d, -f1-4,7,11-14,17-20 "$TMP/out")" \
	"start,end,duration,end_reason,dir,src,dst,sport,dport,packets,bytes,rev_packets,rev_bytes
2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.250Z,5.127,tunflow exit,ingress,192.0.2.1,198.51.100.2,1000,53,3,144,1,48"
check "csv: the counters on stderr" "$(grep -c 'not in flows: non_ip 1 truncated 1 snapped 1$' "$TMP/err")" 1

# --- every link type: the same UDP flow; cooked "outgoing" is egress
for lt in sll sll2; do
	rp "$TMP/$lt.pcap" -o json
	check "$lt: outgoing egress, the rest ingress" "$(flows | sort)" \
		"egress 192.0.2.1 198.51.100.2 1000 53 1 48 2023-11-14T22:13:20.000Z 2023-11-14T22:13:20.000Z
ingress 198.51.100.2 192.0.2.1 53 1000 1 48 2023-11-14T22:13:20.001Z 2023-11-14T22:13:20.001Z"
done
check "sll: ARP non_ip" "$(rp "$TMP/sll.pcap" -o json; final)" "1 0 0 0 0 0 0"
for lt in raw ipv4 null; do
	rp "$TMP/$lt.pcap" -o json
	check "$lt: the flow" "$(flows)" \
		"ingress 192.0.2.1 198.51.100.2 1000 53 1 48 2023-11-14T22:13:20.000Z 2023-11-14T22:13:20.000Z"
done
for lt in ipv6 null6 loop; do
	rp "$TMP/$lt.pcap" -o json
	check "$lt: the flow" "$(flows)" \
		"ingress 2001:db8::1 2001:db8::2 1000 53 1 68 2023-11-14T22:13:20.000Z 2023-11-14T22:13:20.000Z"
done

# --- short frames: refused by BPF_PROG_TEST_RUN below the IP header, counted as the
# program would; 14..41 bytes of a 62-byte frame are snapped, 42 (headers whole) a flow
rp "$TMP/sizes.pcap" -o json
check "sizes: 28 snapped, 6 short ARP non_ip" "$(final)" "6 0 0 0 28 0 0"
check "sizes: the frame with whole headers in its flow" "$(flows | cut -d' ' -f6,7)" "1 48"

# --- errors: one line naming the file and the fix
rp "$TMP/wifi.pcap" -o json
check "unsupported link type: exit status 1" "$RC" 1
check "unsupported link type: one line" "$(cat "$TMP/err")" \
	"tunflow: $TMP/wifi.pcap: link type IEEE802_11 (105) is not one tunflow replays; capture on Ethernet, raw IP, Linux cooked (tcpdump -i any) or loopback instead"
rp "$TMP/text.pcap" -o json
check "not a capture: exit status 1" "$RC" 1
check "not a capture: one line" "$(cat "$TMP/err")" \
	"tunflow: $TMP/text.pcap: unknown file format (-r reads a pcap or pcapng capture, e.g. one written by tcpdump -w)"
rp "$TMP/cut.pcap" -o json
check "cut short: exit status 1" "$RC" 1
check "cut short: one line" "$(cat "$TMP/err")" \
	"tunflow: $TMP/cut.pcap: truncated dump file; tried to read 62 captured bytes, only got 58: the capture ends early (cut short while copied, or still being written); the 2 packets before are reported"
check "cut short: what was read is reported" "$(flows)" \
	"ingress 192.0.2.1 198.51.100.2 1000 53 2 96 2023-11-14T22:13:20.123Z 2023-11-14T22:13:20.456Z"
ip netns exec "$NS" "$TUNFLOW" -r "$TMP/eth.pcap" tun0 >/dev/null 2>"$TMP/err"
check "-r with an interface: usage error (2)" "$?" 2
check "nothing attached: no interface but loopback" "$(ip -n "$NS" -o link | wc -l)" 1
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Destination names in a replay: a small mixed capture from bench/names_gen.py (real
# dnsmasq answers over UDP and TCP then a plain TCP connection to the answered address,
# OpenSSL and GnuTLS ClientHellos, every third split over two segments, RFC 9001 and
# RFC 9369 client Initials, HTTP/1.1 requests; Linux cooked, the server's side outgoing)
# through tunflow -r: every flow named right, with its source, and nothing counted.
SUITE=names_replay
. "$(dirname "$0")/lib.sh"
need jq
need python3
ns_new nrep
GEN="$TOP/bench/names_gen.py"
check "generator: packets written" "$(python3 "$GEN" "$TMP/mix.pcap" "$TMP/truth" 40)" 204
check "generator: flows written" "$(wc -l <"$TMP/truth")" 88
ip netns exec "$NS" "$TUNFLOW" -r "$TMP/mix.pcap" -o json >"$TMP/out" 2>"$TMP/err"
check "exit status 0 (read whole)" "$?" 0
# per kind: flows written, in the output, named, named right (name and source)
check "every flow named right" "$(python3 "$GEN" score "$TMP/truth" "$TMP/out")" \
	"dns 16 16 16 16
plain 16 16 16 16
tls 32 32 32 32
quic 8 8 8 8
http 16 16 16 16"
check "names and sources (the client's side, a few)" "$(jq -r 'select(.type == "flow" and .dport < 20000) |
	[.proto_name, .dport, .name, .name_source] | join(" ")' "$TMP/out" | LC_ALL=C sort -u |
	grep -E ' (0000|001|h0000|000\.shop)\.example |example\.com')" \
	"tcp 22 000.shop.example dns
tcp 443 0000.example tls
tcp 80 h0000.example http
tcp 8443 001.example tls
udp 443 example.com quic
udp 53 000.shop.example dns"
check "counters: nothing malformed, dropped or left" "$(jq -r 'select(.type == "counters" and .final) |
	[.name_drops, .dns_malformed, .tls_malformed, .quic_malformed, .http_malformed,
	.names_unfollowed, .names_unstored, .snapped, .too_big] | join(" ")' "$TMP/out")" "0 0 0 0 0 0 0 0 0"
# 9600 connections (41066 packets, 8 s of capture) in one harvest: more first payloads
# than the ring buffer holds (4 MB), read between harvests as live, none lost
python3 "$GEN" "$TMP/big.pcap" "$TMP/big.truth" 8000 >/dev/null
ip netns exec "$NS" "$TUNFLOW" -r "$TMP/big.pcap" -o json -t 60 >"$TMP/big" 2>"$TMP/err"
check "one harvest of 9600 connections: every flow named right" \
	"$(python3 "$GEN" score "$TMP/big.truth" "$TMP/big" | grep -v "^wrong")" \
	"dns 3200 3200 3200 3200
plain 3200 3200 3200 3200
tls 6400 6400 6400 6400
quic 1600 1600 1600 1600
http 3200 3200 3200 3200"
check "one harvest of 9600 connections: name_drops 0" \
	"$(jq -r 'select(.type == "counters" and .final) | .name_drops' "$TMP/big")" 0
# --names off: nothing named, every packet still counted
ip netns exec "$NS" "$TUNFLOW" -r "$TMP/mix.pcap" -o json --names off >"$TMP/off" 2>"$TMP/err"
check "--names off: no flow named" "$(jq -r 'select(.type == "flow" and .name != null) | .name' "$TMP/off" | wc -l)" 0
check "--names off: the same flows" "$(jq -r 'select(.type == "flow") | .packets' "$TMP/off" | paste -sd+ | bc)" 204
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Destination names in a mixed replay (issue 12): a capture of N connections written by
# bench/names_gen.py from real payloads (DNS over UDP and TCP then a plain TCP connection
# to the answered address, TLS with every third ClientHello in two segments, QUIC v1 and
# v2 Initials, HTTP/1.1), replayed with tunflow -r; every flow's name and source against
# what the generator wrote. Prints a Markdown section for docs/BENCHMARKS.md. Runs only
# in a network namespace it creates. N=5000 unless given.
set -u
cd "$(dirname "$0")/.."
N=${1:-5000}
NS=tfnrep$$
DIR=$(mktemp -d /tmp/tunflow-namesreplay.XXXXXX) || exit 1
ip netns add "$NS" || exit 1
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$DIR"' EXIT

packets=$(python3 bench/names_gen.py "$DIR/mix.pcap" "$DIR/truth" "$N") || exit 1
start=$(date +%s%N)
ip netns exec "$NS" build/tunflow -r "$DIR/mix.pcap" -o json >"$DIR/out.json" 2>"$DIR/err" || {
	cat "$DIR/err" >&2
	exit 1
}
ms=$((($(date +%s%N) - start) / 1000000))
python3 bench/names_gen.py score "$DIR/truth" "$DIR/out.json" >"$DIR/score" || exit 1
counters=$(jq -r 'select(.type == "counters" and .final) | "name_drops \(.name_drops), dns_malformed \(.dns_malformed), tls_malformed \(.tls_malformed), quic_malformed \(.quic_malformed), http_malformed \(.http_malformed), names_unfollowed \(.names_unfollowed), names_unstored \(.names_unstored)"' "$DIR/out.json")

echo
echo "### Names in a mixed replay"
echo
conns=$(awk '{ a = $3 " " $5; b = $4 " " $6; k = $2 " " (a < b ? a " " b : b " " a)
	if (!(k in s)) { s[k]; n++ } } END { print n }' "$DIR/truth")
echo "\`bench/names_replay.sh\`: $conns connections ($packets packets, $(wc -l <"$DIR/truth") flows: each direction of a connection is a flow) written by \`bench/names_gen.py\` from real payloads (dnsmasq's A and AAAA answers with a CNAME chain, OpenSSL's and GnuTLS's ClientHellos, the RFC 9001 and RFC 9369 Appendix A client Initials, curl-shaped HTTP/1.1 requests), every third ClientHello split over two TCP segments at a random byte, names varied in place, one exchange every millisecond (a DNS lookup with the connection after it is one), as a Linux cooked capture (client ingress, server egress), replayed with \`tunflow -r FILE -o json\`. \"plain\" is a TCP connection without TLS or HTTP (an SSH banner) to an address a DNS answer gave just before: named from DNS. QUIC flows are the client's side only (no server packets). Right: the generator's name and source."
echo
echo "| source | flows in the capture | in the output | named | named right |"
echo "|---|---:|---:|---:|---:|"
awk '$1 != "wrong" { printf "| %s | %d | %d | %d | %d |\n", $1, $2, $3, $4, $5; for (i = 2; i <= 5; i++) t[i] += $i }
	END { printf "| all | %d | %d | %d | %d |\n", t[2], t[3], t[4], t[5] }' "$DIR/score"
echo
echo "Replay time: $ms ms (wall, program load included). Counters: $counters."
w=$(grep -c '^wrong' "$DIR/score")
[ "$w" = 0 ] || { echo; echo "Wrong or missing: $w, first: $(grep -m3 '^wrong' "$DIR/score" | cut -d' ' -f2- | paste -sd';')"; }
exit 0

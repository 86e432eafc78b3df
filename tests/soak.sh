#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make soak: tunflow under a steady stream of new flows for SOAK_SECONDS (default 180).
# About SOAK_RATE (default 2000) new flows a second are written into a tun (every packet
# a new IPv6 UDP flow), tunflow runs with -t 0.2, records, /metrics (scraped every 10 s)
# and JSON into a counting reader. tunflow's RSS and open descriptors are sampled every
# second and printed per 10 s (lowest and highest RSS of the 10 s). After SOAK_WARMUP
# seconds (default 90: the live table forgets a flow 60 s after its last packet, records
# end after 15 s idle) both must stay flat: the last 10 s's lowest RSS (the floor, which
# a leak raises; single samples spike by a few MB as batches are freed) within
# SOAK_RSS_TOL percent (default 10) of the floor right after warm-up, and the descriptors
# equal. At the end, the packets the records report equal the packets written. Not in
# make test.
SUITE=soak
. "$(dirname "$0")/net/lib.sh"
need jq
need curl

SECONDS_TOTAL=${SOAK_SECONDS:-180}
WARMUP=${SOAK_WARMUP:-90}
RATE=${SOAK_RATE:-2000}
TOL=${SOAK_RSS_TOL:-10}
STEP=10
PORT=9279
[ "$WARMUP" -lt "$SECONDS_TOTAL" ] || { fail setup "SOAK_WARMUP must be below SOAK_SECONDS"; finish; }

tun_ns soak
# the counting reader: sums packets of record lines, keeps the counters objects
COUNT=$TMP/count
reader() {
	awk -v out="$COUNT" '
		/"type":"record"/ && /"dir":"ingress"/ {
			records++
			if (match($0, /"packets":[0-9]+/)) p += substr($0, RSTART + 10, RLENGTH - 10)
			if (match($0, /"rev_packets":[0-9]+/)) p += substr($0, RSTART + 14, RLENGTH - 14)
			next
		}
		/"type":"record"/ { other++; next }
		/"type":"counters"/ { print > (out ".counters") }
		END { printf "%d %d %d\n", records, p, other > out }'
}
bg ip netns exec "$NS" "$TUNFLOW" -o json -t 0.2 --records --metrics "127.0.0.1:$PORT" tun0 \
	> >(reader) 2>"$TMP/err"
TF=$BG
for _ in $(seq 100); do
	grep -q "tunflow: ready" "$TMP/err" 2>/dev/null && break
	sleep 0.05
done
grep -q "tunflow: ready" "$TMP/err" || { fail start "$(cat "$TMP/err")"; finish; }

SAMPLES=$TMP/samples
: >"$SAMPLES"
sampler() {
	while kill -0 "$TF" 2>/dev/null; do
		r=$(awk '/^VmRSS/ {print $2}' "/proc/$TF/status" 2>/dev/null)
		f=$(ls "/proc/$TF/fd" 2>/dev/null | wc -l)
		[ -n "$r" ] && echo "$r $f" >>"$SAMPLES"
		sleep 1
	done
}
bg sampler
scrape() {
	ip netns exec "$NS" curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics"
}

echo "# soak: ${SECONDS_TOTAL} s, about $RATE new flows/s, warm-up ${WARMUP} s, RSS tolerance ${TOL}%"
sent=0
seen=0
scrapes_bad=0
base_rss=
base_fds=
now() { awk '{print $1}' /proc/uptime; }
start=$(now)
# Each step writes STEP seconds of packets: IPv6 UDP to 2001:db8:<step>::/96, one new
# destination (so one new flow) per packet.
for ((t = STEP; t <= SECONDS_TOTAL; t += STEP)); do
	n=$((RATE * STEP))
	ip netns exec "$NS" "$TUNPKT" tun0 --pps $((RATE * 130 / 100)) \
		"v=6,proto=udp,src=2001:db8::2,dst=2001:db8:$(printf %x $((t / STEP)))::1,sport=5000,dport=53,payload=40,count=$n,dsts=$n" \
		2>"$TMP/tunpkt.err" || { fail "tunpkt at ${t} s" "$(cat "$TMP/tunpkt.err")"; break; }
	w=$(sed -n 's/.*wrote \([0-9]*\) packets.*/\1/p' "$TMP/tunpkt.err")
	# lowest and highest RSS, highest descriptor count, of this step's samples
	read -r r rmax f < <(tail -n +$((seen + 1)) "$SAMPLES" | awk '
		NR == 1 || $1 < lo { lo = $1 } $1 > hi { hi = $1 } $2 > fd { fd = $2 }
		END { print lo + 0, hi + 0, fd + 0 }')
	seen=$(wc -l <"$SAMPLES")
	sent=$((sent + w))
	code=$(scrape)
	[ "$code" = 200 ] || scrapes_bad=$((scrapes_bad + 1))
	awk -v t="$t" -v el="$(awk -v s="$start" '{print $1 - s}' /proc/uptime)" -v n="$sent" \
		-v r="$r" -v rmax="$rmax" -v f="$f" -v c="$code" 'BEGIN {
		printf "# t=%3d s (%.0f s elapsed) sent %d (%.0f/s) rss %d..%d kB fds %d metrics %s\n",
			t, el, n, n / el, r, rmax, f, c }'
	if [ "$t" -eq "$WARMUP" ] || { [ "$t" -gt "$WARMUP" ] && [ -z "$base_rss" ]; }; then
		base_rss=$r
		base_fds=$f
	fi
	kill -0 "$TF" 2>/dev/null || { fail "tunflow alive" "exited: $(tail -3 "$TMP/err")"; break; }
done
last_rss=$r
last_fds=$f
sleep 1
tf_stop
for _ in $(seq 100); do [ -s "$COUNT" ] && break; sleep 0.1; done

check "exit status after SIGINT" "$TF_RC" 0
check "every /metrics scrape answered 200" "$scrapes_bad" 0
limit=$((base_rss * (100 + TOL) / 100))
if [ -n "$base_rss" ] && [ "$last_rss" -le "$limit" ]; then
	ok "RSS floor flat after warm-up: ${last_rss} kB at the end, ${base_rss} kB after warm-up (limit ${limit} kB)"
else
	fail "RSS floor flat after warm-up" "${last_rss} kB at the end, ${base_rss:-?} kB after warm-up (limit ${limit} kB)"
fi
check "descriptors flat after warm-up (${base_fds:-?} after warm-up)" "$last_fds" "$base_fds"
read -r records reported other <"$COUNT"
echo "# $records ingress records, $reported packets reported, $sent written ($other other records: the kernel's own egress)"
check "packets the ingress records report equal packets written" "$reported" "$sent"
check "ingress records: one per flow (every packet a new flow)" "$records" "$sent"
check "final counters: nothing lost" \
	"$(jq -c -s 'map(select(.final)) | last | [.non_ip, .truncated, .bad_len, .ext_limit, .map_full, .harvest_errors]' "$COUNT.counters")" \
	"[0,0,0,0,0,0]"
finish

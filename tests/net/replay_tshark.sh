#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tunflow -r against an independent dissector: every capture of the shared set (real
# captures from tcpdump's test suite, ../shared/captures or $TUNFLOW_CAPTURES; see its
# SOURCES.md) is replayed, and every flow's packets and bytes and every loss counter
# are compared with what tshark derives from the same file under tunflow's documented
# key rules (tests/net/replay_tshark.py names each rule where the two differ). One line
# per capture; a disagreement lists what differs.
SUITE=replay_tshark
. "$(dirname "$0")/lib.sh"
CAPS=${TUNFLOW_CAPTURES:-$TOP/../shared/captures}
if [ ! -d "$CAPS" ] || ! ls "$CAPS"/*.pcap* >/dev/null 2>&1; then
	echo "ok - $SUITE: SKIP: no captures in $CAPS (set TUNFLOW_CAPTURES)"
	exit 0
fi
need tshark
need mergecap
need capinfos
need python3
ns_new replay
mkdir "$TMP/json"
# in file order: the order of capinfos' lines and of the concatenation tshark reads
ls "$CAPS"/*.pcap* | sort >"$TMP/list"
# two at a time: most of each run is loading the program
# shellcheck disable=SC2016
xargs -P 2 -I{} sh -c 'ip netns exec "$1" "$2" -r "$3" -o json -t 3600 --max-flows 4096 \
	>"$4/json/$(basename "$3").json" 2>"$4/json/$(basename "$3").err" ||
	echo "$(basename "$3"): exit status $?" >>"$4/exits"' sh "$NS" "$TUNFLOW" {} "$TMP" <"$TMP/list"
check "every capture read whole (exit status 0)" "$(cat "$TMP/exits" 2>/dev/null)" ""
xargs capinfos -c -T -r <"$TMP/list" >"$TMP/counts"
xargs mergecap -a -F pcapng -w "$TMP/all.pcapng" <"$TMP/list"
python3 "$(dirname "$0")/replay_tshark.py" --batch "$TMP/all.pcapng" "$TMP/counts" "$TMP/json" \
	>"$TMP/result"
cat "$TMP/result"
FAILS=$((FAILS + $(grep -c '^not ok' "$TMP/result")))
check "a verdict for every capture" "$(grep -c ' - replay_tshark: ' "$TMP/result")" \
	"$(wc -l <"$TMP/list")"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AS and country (--geo): what a lookup in Debian's location database costs, uncached
# and from tunflow's per-address cache (tests/unit/test_geo.c measures both), and what
# opening the database adds to start-up. Prints a Markdown section for BENCHMARKS.md.
set -u
cd "$(dirname "$0")/.."
echo
echo "## AS and country (libloc)"
echo
if [ ! -r /usr/share/libloc-location/location.db ] && [ ! -r /var/lib/location/database.db ]; then
	echo "No location database installed (libloc-database): not measured."
	exit 0
fi
echo "One lookup per new flow's remote address in Debian's location database (libloc-database $(dpkg-query -W -f='${Version}' libloc-database 2>/dev/null)); each address's answer is then cached (65,536 addresses)."
echo
echo "| what | ns per lookup |"
echo "|---|---|"
build/test_geo | awk '/^# [0-9]+ lookups of distinct/ { print "| database (distinct addresses) | " $7 " |" }
	/^# [0-9]+ lookups of one address/ { print "| cache (one address) | " $8 " |" }'
echo
echo "Start-up, exec to 'tunflow: ready' on one tun (median of 5): the database opened (--geo on) and not (--geo off)."
echo
echo "| --geo | start-up ms |"
echo "|---|---|"
ns=tfgeo$$
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null' EXIT
ip -n "$ns" tuntap add mode tun name tb0
ip -n "$ns" link set tb0 up
for geo in on off; do
	ts=()
	for _ in 1 2 3 4 5; do
		err=$(mktemp)
		t0=$(date +%s%N)
		TUNFLOW_CONFIG= ip netns exec "$ns" build/tunflow --geo $geo -o json tb0 >/dev/null 2>"$err" &
		pid=$!
		until grep -q "tunflow: ready" "$err"; do
			kill -0 $pid 2>/dev/null || { echo "bench: tunflow failed: $(cat "$err")" >&2; exit 1; }
			sleep 0.002
		done
		t1=$(date +%s%N)
		kill -INT $pid
		wait $pid
		rm -f "$err"
		ts+=($(((t1 - t0) / 1000000)))
	done
	echo "| $geo | $(printf '%s\n' "${ts[@]}" | sort -n | sed -n 3p) |"
done

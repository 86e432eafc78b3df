#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# libFuzzer targets (build/fuzz/fuzz_*, from tests/fuzz/fuzz_*.c).
#   run.sh replay SECONDS  every checked-in input of each target (tests/fuzz/corpus/NAME),
#                          then SECONDS of new inputs from a scratch copy; "ok"/"not ok"
#                          lines for the test runner (make test)
#   run.sh long SECONDS [NAME...]
#                          SECONDS per target (or per named target), new inputs kept in tests/fuzz/corpus/NAME
#                          (make fuzz)
# A crash leaves its input in build/fuzz/crash-NAME-*, and the target's report above.
set -u
cd "$(dirname "$0")/../.."
mode=${1:-replay}
secs=${2:-5}
shift 2 2>/dev/null
only=" $* "
fails=0
shopt -s nullglob
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	bin=build/fuzz/$name
	name=${name#fuzz_}
	[ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || continue
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz: $name: $bin is missing (run 'make fuzz-build')"
		fails=$((fails + 1))
		continue
	fi
	corpus=tests/fuzz/corpus/$name
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	mkdir -p "$corpus"
	n=$(find "$corpus" -type f | wc -l)
	opts=(-timeout=5 -rss_limit_mb=2048 -artifact_prefix="build/fuzz/crash-$name-" "${dict[@]}")
	if [ "$mode" = long ]; then
		"$bin" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 "$corpus" \
			>"build/fuzz/$name.log" 2>&1
		rc=$?
		runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/$name.log" |
		       grep -o '[0-9]*$')
		now=$(find "$corpus" -type f | wc -l)
		if [ $rc -eq 0 ]; then
			echo "ok - fuzz: $name: $secs s, ${runs:-?} runs, corpus $n -> $now inputs"
		else
			tail -30 "build/fuzz/$name.log"
			echo "not ok - fuzz: $name: failed (status $rc), log build/fuzz/$name.log"
			fails=$((fails + 1))
		fi
		continue
	fi
	scratch=$(mktemp -d /tmp/tunflow-fuzz.XXXXXX)
	log=$scratch.log
	# every checked-in input once, then new ones for a few seconds
	if [ "$n" -gt 0 ] && ! "$bin" "${opts[@]}" -runs=0 "$corpus" >"$log" 2>&1; then
		tail -30 "$log"
		echo "not ok - fuzz: $name: a checked-in input fails"
		fails=$((fails + 1))
	elif ! "$bin" "${opts[@]}" -max_total_time="$secs" "$scratch" "$corpus" >"$log" 2>&1; then
		tail -30 "$log"
		echo "not ok - fuzz: $name: a new input fails ($secs s run; kept as build/fuzz/crash-$name-*)"
		fails=$((fails + 1))
	else
		echo "ok - fuzz: $name: $n checked-in inputs and $secs s of new ones"
	fi
	rm -rf "$scratch" "$log"
done
exit $((fails > 0))

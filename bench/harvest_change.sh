#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What a harvest costs with many flows held and few active, before and after harvests
# followed the changes (issue 16), in the same run: the baseline commit (BASE, default
# b90cc6b, the last one whose harvest scanned every flow) is built in a temporary
# worktree with the bench/bench.c of the commit that brought the change (BENCH_AT, whose
# 'change' mode both understand), and both binaries measure in turn.
# Prints a Markdown section for docs/BENCHMARKS.md. Needs root (BPF maps).
set -u
cd "$(dirname "$0")/.."
BASE=${BASE:-b90cc6b}
BENCH_AT=${BENCH_AT:-dc6db80}
[ "$(id -u)" -eq 0 ] || { echo "harvest_change: needs root" >&2; exit 1; }
[ -x build/bench ] || make -s build/bench >/dev/null || exit 1
WT=$(mktemp -d /tmp/tfbase.XXXXXX)
cleanup() {
	git worktree remove --force "$WT" 2>/dev/null
	rm -rf "$WT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
git worktree add --detach -f "$WT" "$BASE" >/dev/null 2>&1 || { echo "harvest_change: no commit $BASE" >&2; exit 1; }
git show "$BENCH_AT:bench/bench.c" >"$WT/bench/bench.c" || { echo "harvest_change: no commit $BENCH_AT" >&2; exit 1; }
make -s -C "$WT" -j"$(nproc)" build/bench >/dev/null 2>&1 || { echo "harvest_change: cannot build $BASE" >&2; exit 1; }
OLD=$WT/build/bench
NEW=build/bench

echo "## Harvest cost by change"
echo
echo "One whole harvest (\`pipeline_harvest\`: map swap and drain, flow table, report, sinks) with N flows held and 1% of them with packets since the last, as \`-o json\` to /dev/null and with \`--metrics\` too; the mean of 20 harvests after two untimed ones (the first expiry after the burst that filled the table sorts that burst's run of the idle list once). *Before* is $BASE (every harvest scanned every flow held), *after* this commit, in the same run, alternating. Thread CPU is the harvest thread's (CLOCK_THREAD_CPUTIME_ID); user space is that minus the same drain of the same map into a callback that does nothing (the kernel's part, which follows the flow map's size, here N, more than the flows in it)."
echo
echo "| flows held | active | outputs | user-space ms before | user-space ms after | thread CPU ms before | thread CPU ms after |"
echo "|---|---|---|---|---|---|---|"
for n in 10000 100000 1000000; do
	for out in json metrics; do
		read -r ob ub < <("$OLD" change "$n" "$out") || exit 1
		read -r oa ua < <("$NEW" change "$n" "$out") || exit 1
		[ -n "$ub" ] && [ -n "$ua" ] || exit 1
		label=$([ "$out" = json ] && echo "-o json" || echo "-o json --metrics")
		echo "| $n | $((n / 100)) | $label | $ub | $ua | $ob | $oa |"
	done
done
echo
echo "The drain and merge of 1M new flows (\`bench harvest\`, its 1M row: swap, drain, per-CPU merge, flow table), before and after:"
echo
echo "| | harvest wall s | harvest CPU s | of which kernel drain s |"
echo "|---|---|---|---|"
for which in before after; do
	bin=$([ "$which" = before ] && echo "$OLD" || echo "$NEW")
	"$bin" harvest | awk -F'|' -v w="$which" '$2 ~ /^ 1000000 / {print "| " w " |" $3 "|" $4 "|" $5 "|"}'
done

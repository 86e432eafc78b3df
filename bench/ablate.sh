#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Where the datapath's hot path spends its time (issue 16): tunflow's program built
# without one piece at a time (bench/ablate.bpf.c), beside the plain per-CPU hash
# counter, and beside the same program with the parser (src/bpf/parse.bpf.h) of commit
# BASE (default b2dbeea, before the parser's micro-optimisations), all in one run.
# Prints a Markdown section for docs/BENCHMARKS.md. Needs root (BPF).
set -u
cd "$(dirname "$0")/.."
BASE=${BASE:-b2dbeea}
[ "$(id -u)" -eq 0 ] || { echo "ablate: needs root" >&2; exit 1; }
make -s build/bench >/dev/null || exit 1
T=$(mktemp -d /tmp/tfablate.XXXXXX)
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$T/src/bpf" "$T/bench"
cp src/flow.h "$T/src/" && cp src/bpf/tunflow.bpf.c "$T/src/bpf/" && cp bench/ablate.bpf.c "$T/bench/" || exit 1
git show "$BASE:src/bpf/parse.bpf.h" >"$T/src/bpf/parse.bpf.h" || { echo "ablate: no commit $BASE" >&2; exit 1; }
OLD="$T/parser of $BASE"
# a column only if the parser of BASE still builds with this program
clang -g -O2 -target bpf -D__TARGET_ARCH_"$(uname -m | sed "s/x86_64/x86/;s/aarch64/arm64/")" -I/usr/include/"$(gcc -print-multiarch)" \
	-I"$T/src" -c "$T/bench/ablate.bpf.c" -o "$OLD" 2>/dev/null || OLD=

echo "## Where the hot path's time goes"
echo
echo "tunflow's program (src/bpf/tunflow.bpf.c) is built several times for the bench only (bench/ablate.bpf.c), each build without one piece of the per-packet path: the outer map-in-map lookup (the flow map a plain per-CPU hash the program names), the same with the swap kept another way (two such maps and a global that picks one, which user space would flip before waiting for an RCU grace period), the read of skb->gso_size (and the GSO segment count behind it), the last_ns and tcp_flags stores on a known flow (and the clock load behind them), or the parser (parse_l3/parse_l2 replaced by fixed offsets, as the plain counter reads a packet: no options, extension headers or length checks). Each column is ns per run over the floor, an empty tc program, and in brackets its difference from tunflow's (the median of the trials' differences); the last column is the plain per-CPU hash counter of bench/plain.bpf.c for the packet's family (IPv6: plain6, the addresses read into the same 44-byte key).$([ -n "$OLD" ] && echo " The column *parser of $BASE* is this program with the parser before its micro-optimisations.") One hot flow; median of 21 interleaved trials of 400,000 runs (each trial starts with another program), timed by the thread's CPU time (0.1 ns steps, blind to the time another task held the CPU), pinned to one CPU; differences under about 1 ns are within the noise of one run. The fixed-offset build and the plain counter read the extension-header row's first extension header as its ports: their key is wrong there, their cost what it would be."
echo
build/bench ablate ${OLD:+"$OLD"} || exit 1

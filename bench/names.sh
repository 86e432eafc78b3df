#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Destination names (issue 12): what the names capture costs a hot flow, and how many
# ring-buffer events user space reads and names per second on one core. Prints a
# Markdown section for docs/BENCHMARKS.md. Runs only in a network namespace it creates.
set -u
cd "$(dirname "$0")/.."
NS=tfnames$$
ip netns add "$NS" || exit 1
trap 'ip netns del "$NS" 2>/dev/null' EXIT

echo
echo "## Destination names"
echo
echo "Hot flow with naming on (\`--names on\`, the default) against off, in the same trials as section 1: its \"names on ns\" and \"names on - off ns\" columns. An established flow pays one byte compare (its capture state in the flow's per-CPU slot); off, the verifier prunes the capture code. The UDP rows of section 1 use port 53: every DNS packet goes to user space by design (about 55 ns each here), which is DNS traffic only; \"IPv4 UDP 443 (not DNS)\" is a UDP flow's hot path."
echo
echo "Ring-buffer events read and named by user space on one core (bench names): rounds of 6,000 new flows (a third each a TLS ClientHello, a DNS response, an HTTP request) run through the program with naming on, then one read of the ring into core/naming (reassembly, parsers, DNS cache, the kernel told which flows are done). CPU time of the reading thread."
echo
ip netns exec "$NS" build/bench names || exit 1

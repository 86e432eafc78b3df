#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite: BPF unit tests (BPF_PROG_TEST_RUN), the network-namespace
# suites and the end-to-end ones with real VPN software. Every assertion prints
# "ok - ..." or "not ok - ..."; the last line counts them.
set -u
cd "$(dirname "$0")/.."
pass=0
fail=0
LOG=$(mktemp /tmp/tunflow-tests.XXXXXX)
trap 'rm -f "$LOG"' EXIT

# suite NAME CMD...: run, show its lines, count them; a suite that fails without saying
# which assertion failed (a crash, a timeout) counts as one failure.
suite() {
	local name=$1 rc p f
	shift
	echo "# $name"
	timeout --signal=TERM --kill-after=10 300 "$@" >"$LOG" 2>&1
	rc=$?
	cat "$LOG"
	p=$(grep -c '^ok - ' "$LOG")
	f=$(grep -c '^not ok - ' "$LOG")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name: exited with status $rc"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - the tests need root (network namespaces, BPF): run 'sudo make test'"
	echo "0 passed, 1 failed"
	exit 1
fi
for bin in build/tunflow build/test_bpf build/fuzz_bpf build/tunpkt build/hookq; do
	if [ ! -x "$bin" ]; then
		echo "not ok - $bin is missing: run 'make test', which builds it"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

# Plain C unit tests of user space (no root needed, no network).
for t in build/test_*; do
	case $(basename "$t") in test_bpf | *.*) continue ;; esac
	suite "unit $(basename "$t" | sed 's/^test_//')" "$t"
done
# The fuzz targets: every checked-in input, then a few seconds of new ones each.
suite "fuzz targets" tests/fuzz/run.sh replay "${FUZZ_SECONDS:-10}"
# The unit tests run in their own namespace: its loopback is ifindex 1.
UNS=tfunit$$
ip netns add "$UNS"
suite "bpf unit tests" ip netns exec "$UNS" build/test_bpf
ip netns del "$UNS"
# 10,000,000 random and mutated packets against a reference parser (about a minute)
ip netns add "$UNS"
suite "bpf datapath fuzz" ip netns exec "$UNS" build/fuzz_bpf
ip netns del "$UNS"
for t in tests/net/*.sh tests/e2e/*.sh; do
	case $(basename "$t") in lib.sh | *_lib.sh) continue ;; esac
	suite "$(basename "$t" .sh)" bash "$t"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

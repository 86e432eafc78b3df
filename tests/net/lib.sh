# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for tunflow's network tests. Each test file sources this, creates its
# namespaces with ns_new and its processes with bg, and prints "ok - NAME" or
# "not ok - NAME: why" per assertion. Teardown runs on every exit path.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TUNFLOW=$TOP/build/tunflow
TUNPKT=$TOP/build/tunpkt
HOOKQ=$TOP/build/hookq
TMP=$(mktemp -d /tmp/tunflow-test.XXXXXX)
# tc mode records what it made here: never in the host's /run/tunflow/state
export TUNFLOW_STATE_DIR=$TMP/state
# tunflow's --sessions default and the hook's file: never the host's /run/tunflow
export TUNFLOW_SESSIONS=$TMP/sessions
# no --config given: no config file (never the host's /etc/tunflow/tunflow.conf)
export TUNFLOW_CONFIG=
PIDS=()
NSES=()
FAILS=0

teardown() {
	local p n
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for n in "${NSES[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap teardown EXIT
trap 'exit 130' INT TERM

ok() { echo "ok - $SUITE: $1"; }
fail() { echo "not ok - $SUITE: $1: $2"; FAILS=$((FAILS + 1)); }
# check NAME GOT WANT
check() {
	if [ "$2" == "$3" ]; then ok "$1"; else fail "$1" "got '$2', want '$3'"; fi
}
# Not a pass, not a silent skip: a missing prerequisite fails with its reason.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	fail "prerequisite" "'$1' is not installed (run 'make deps')"
	exit 1
}

# ns_new NAME: a fresh network namespace with loopback up, its name in $NS (no
# subshell: teardown must know about it).
ns_new() {
	NS="tf$$-$1"
	ip netns add "$NS" || { echo "cannot create namespace $NS" >&2; exit 1; }
	NSES+=("$NS")
	ip -n "$NS" link set lo up
}

# bg CMD...: run in the background, remember the PID for teardown; PID in $BG
bg() {
	"$@" &
	BG=$!
	PIDS+=("$BG")
}

# tf_start NS OUT ERR ARGS...: start tunflow in NS and wait until it is attached.
tf_start() {
	local ns=$1 out=$2 err=$3
	shift 3
	bg ip netns exec "$ns" "$TUNFLOW" "$@" >"$out" 2>"$err"
	TF=$BG
	for _ in $(seq 100); do
		grep -q "tunflow: ready" "$err" 2>/dev/null && return 0
		kill -0 "$TF" 2>/dev/null || break
		sleep 0.05
	done
	echo "tunflow did not start: $(cat "$err")" >&2
	return 1
}

# tf_stop: SIGINT the running tunflow, wait for its final harvest; status in $TF_RC
tf_stop() {
	kill -INT "$TF" 2>/dev/null
	wait "$TF"
	TF_RC=$?
}

# flow_sum FILE FIELD JQ-CONDITION: sum FIELD over the flow lines matching the condition
flow_sum() {
	jq -s "map(select(.type == \"flow\" and ($3)) | .$2) | add // 0" "$1"
}

# flow_is FILE NAME CONDITION PACKETS BYTES: the flow lines matching CONDITION add up to
# exactly PACKETS and BYTES
flow_is() {
	check "$2: packets" "$(flow_sum "$1" packets "$3")" "$4"
	check "$2: bytes" "$(flow_sum "$1" bytes "$3")" "$5"
}

# counters FILE: the final counters object, compact
final_counters() {
	jq -c -s 'map(select(.type == "counters" and .final)) | last
		| {non_ip, truncated, bad_ihl, bad_len, ext_limit, map_full, no_map, harvest_errors}' "$1"
}

# final_health FILE: [interfaces watched at exit, attach_errors, harvest_errors, map_full]
final_health() {
	jq -s -c 'map(select(.type == "counters" and .final)) | last
		| [.interfaces, .attach_errors, .harvest_errors, .map_full]' "$1"
}

# tun_ns NAME: a namespace ($NS) with a tun0 holding 192.0.2.1/24 and 2001:db8::1/64
tun_ns() {
	ns_new "$1"
	ip -n "$NS" tuntap add mode tun name tun0
	ip -n "$NS" addr add 192.0.2.1/24 dev tun0
	ip -n "$NS" addr add 2001:db8::1/64 dev tun0 nodad
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.router_solicitations=0
	ip -n "$NS" link set tun0 up
}

finish() {
	exit $((FAILS > 0))
}

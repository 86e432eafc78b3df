#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# scripts/tunflow-session-hook with TUNFLOW_HOOK_CHAIN: the event is recorded, then the
# operator's script runs with the same arguments, input, output and environment (a user
# name with hostile bytes included, umask too), and its exit status is the hook's, so
# the VPN server still refuses a user when that script fails; tunflow's own recording
# never fails the hook.
SUITE=hook_chain
. "$(dirname "$0")/lib.sh"
HOOK=$TOP/scripts/tunflow-session-hook

ns_new a; A=$NS
S=$TMP/run/sessions
EVIL=$(printf 'mallory\tx\ny\033]0;z\007\377\\ %%s$(id)')
# the operator's script: says something on both streams, keeps what it was given
cat >"$TMP/theirs" <<'SH'
#!/bin/sh
echo "theirs out $*"
echo "theirs err" >&2
env -0 >"$CHAIN_DIR/env"
umask >"$CHAIN_DIR/umask"
cat >"$CHAIN_DIR/stdin"
exit "$CHAIN_EXIT"
SH
chmod 755 "$TMP/theirs"
# as ocserv runs it: a fixed environment; $1 = exit status of the chained script
hook() {
	(umask 022; echo "input line" | ip netns exec "$A" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" \
		REASON=connect ID="$2" USERNAME="$EVIL" IP_REMOTE=192.0.2.9 CHAIN_DIR="$TMP" \
		CHAIN_EXIT="$1" TUNFLOW_HOOK_CHAIN="${CHAIN-$TMP/theirs}" sh "$HOOK" arg1 'arg 2')
}
hook 1 1 >"$TMP/out" 2>"$TMP/err"
check "chained script exits 1: so does the hook" "$?" 1
check "exits 1: the event is still recorded" "$(grep -c $'^connect\tsource=ocserv\tid=ocserv:1\t' "$S")" 1
check "its stdout passed through, with the arguments" "$(cat "$TMP/out")" "theirs out arg1 arg 2"
check "its stderr passed through" "$(cat "$TMP/err")" "theirs err"
check "its stdin passed through" "$(cat "$TMP/stdin")" "input line"
check "the umask it was run with" "$(cat "$TMP/umask")" 0022
cp "$TMP/env" "$TMP/env.chained"
# what the chained script would have seen had the server run it directly
echo | ip netns exec "$A" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" REASON=connect ID=1 \
	USERNAME="$EVIL" IP_REMOTE=192.0.2.9 CHAIN_DIR="$TMP" CHAIN_EXIT=1 \
	TUNFLOW_HOOK_CHAIN="$TMP/theirs" env -0 >"$TMP/env.direct"
# sorted, NUL-separated; /bin/sh exports PWD (the directory it runs in) for any script
envset() { grep -zav '^PWD=' "$1" | sort -z | od -An -v -tx1; }
check "environment unchanged (hostile USERNAME included)" \
	"$(cmp <(envset "$TMP/env.chained") <(envset "$TMP/env.direct") && echo same)" same
check "the hostile name reached it byte for byte" \
	"$(grep -za '^USERNAME=' "$TMP/env.chained" | od -An -tx1)" \
	"$(printf 'USERNAME=%s\0' "$EVIL" | od -An -tx1)"
check "besides it, PWD only: where it runs" "$(grep -za '^PWD=' "$TMP/env.chained" | tr -d '\0')" "PWD=$PWD"

hook 0 2 >/dev/null 2>&1
check "chained script exits 0: so does the hook" "$?" 0
check "exits 0: recorded" "$(grep -c $'\tid=ocserv:2\t' "$S")" 1

# tunflow's recording failing never fails the connect: the directory is a link
mv "$TMP/run" "$TMP/real"
ln -s "$TMP/real" "$TMP/run"
hook 0 3 >/dev/null 2>"$TMP/err3"
check "recording refused: the chained script's 0 still" "$?" 0
check "recording refused: said, then the chained script ran" "$(cat "$TMP/err3")" \
	"tunflow-session-hook: $TMP/run is a symbolic link or not a directory: not writing through it
theirs err"
hook 1 4 >/dev/null 2>&1
check "recording refused: the chained script's 1 still" "$?" 1
rm "$TMP/run"
mv "$TMP/real" "$TMP/run"

# no chain: exit 0 whatever; a chain that is not executable: refused as a failing script
CHAIN= hook 1 5 >"$TMP/out5" 2>&1
check "no chained script: exit 0, nothing said" "$?:$(cat "$TMP/out5")" "0:"
CHAIN=$TMP/missing hook 0 6 >/dev/null 2>"$TMP/err6"
check "missing chained script: exit 126" "$?" 126
check "missing chained script: said" "$(cat "$TMP/err6")" \
	"tunflow-session-hook: TUNFLOW_HOOK_CHAIN=$TMP/missing is not an executable file: exiting 126"
check "every event recorded once" "$(grep -c . "$S")" 4

# README's wrapper for ocserv, which has no setenv: the same, through exec
printf '#!/bin/sh\nTUNFLOW_HOOK_CHAIN=%s exec %s "$@"\n' "$TMP/theirs" "$HOOK" >"$TMP/wrapper"
chmod 755 "$TMP/wrapper"
ip netns exec "$A" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" REASON=connect ID=8 USERNAME=wendy \
	CHAIN_DIR="$TMP" CHAIN_EXIT=1 "$TMP/wrapper" </dev/null >"$TMP/out8" 2>&1
check "README's wrapper: the chained script's 1" "$?" 1
check "README's wrapper: recorded, its output" "$(grep -c $'\tid=ocserv:8\tuser=wendy\t' "$S"):$(cat "$TMP/out8")" \
	"1:theirs out 
theirs err"

# OpenVPN: an event the hook does not record (up) still runs the chained script
ip netns exec "$A" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" script_type=up CHAIN_DIR="$TMP" \
	CHAIN_EXIT=3 TUNFLOW_HOOK_CHAIN="$TMP/theirs" sh "$HOOK" tun0 </dev/null >"$TMP/out7" 2>&1
check "OpenVPN up: the chained script's status" "$?" 3
check "OpenVPN up: nothing recorded, the script's output only" "$(grep -c . "$S"):$(cat "$TMP/out7")" \
	"5:theirs out tun0
theirs err"
finish

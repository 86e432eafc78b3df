#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Root-owned state (issue 10, defect 4): tc mode records the qdiscs it made and its own
# PID in a root-only directory ($TUNFLOW_STATE_DIR here, /run/tunflow/state by default)
# and never follows a link there: a symlink planted under a marker's name leaves its
# target untouched. A state directory that is a symlink, writable by others or owned
# by someone else is refused in one line, before anything is attached.
SUITE=state
. "$(dirname "$0")/lib.sh"
need jq

STATE=$TUNFLOW_STATE_DIR
tun_ns state
mkdir -m 0700 "$STATE"
ino=$(ip netns exec "$NS" stat -L -c %i /proc/self/ns/net)
echo precious >"$TMP/victim"
# a stale marker planted as a symlink: cleared at start (no clsact there), not followed
ln -s "$TMP/victim" "$STATE/qdisc-$ino-$(ip -n "$NS" -j link show tun0 | jq '.[0].ifindex')"
tf_start "$NS" "$TMP/o1" "$TMP/e1" -o json --attach tc tun0 'd7' || fail start "$(cat "$TMP/e1")"
check "owner file: this PID, root-only, a regular file" \
	"$(stat -c '%F %a %U' "$STATE/owner-$TF" 2>&1) $(cut -d' ' -f1,2 "$STATE/owner-$TF")" \
	"regular file 600 root pid $TF"
check "owner file: the start time of the process" "$(cut -d' ' -f4 "$STATE/owner-$TF")" \
	"$(sed 's/.*) //' "/proc/$TF/stat" | cut -d' ' -f20)"
check "owner file: tunflow's 4 programs" "$(wc -w <"$STATE/owner-$TF")" 9
# the marker of an interface yet to come (ifindex 77), planted as a symlink: the qdisc
# tunflow makes on it cannot be recorded, and the link is not followed
ln -s "$TMP/victim" "$STATE/qdisc-$ino-77"
ip -n "$NS" link add d7 index 77 type veth peer name d7p
ip -n "$NS" link set d7 up
for _ in $(seq 50); do grep -q "watching d7" "$TMP/e1" && break; sleep 0.05; done
ip netns exec "$NS" "$TUNPKT" tun0 "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,count=3" 2>/dev/null
sleep 0.2
tf_stop
check "exit status" "$TF_RC" 0
check "planted symlinks not followed: target untouched" "$(cat "$TMP/victim")" precious
check "the marker that could not be written is said once" \
	"$(grep -c "cannot record the clsact qdisc made on d7 in $STATE/qdisc-$ino-77: Too many levels of symbolic links" "$TMP/e1")" 1
check "counted anyway" "$(flow_sum "$TMP/o1" packets '.dport == 2')" 3
check "the qdiscs tunflow made are gone after exit" \
	"$( (tc -n "$NS" qdisc show dev tun0; tc -n "$NS" qdisc show dev d7) | grep -c clsact)" 0
check "nothing of this tunflow left in the state directory" "$(ls -A "$STATE")" ""
ip -n "$NS" link del d7

# refuse DIR WHY: tunflow with TUNFLOW_STATE_DIR=DIR exits 1 with one line, attaches nothing
refuse() {
	local out rc
	out=$(TUNFLOW_STATE_DIR=$1 ip netns exec "$NS" "$TUNFLOW" -q -o json --attach tc \
		--duration 0.1 tun0 2>&1 >/dev/null); rc=$?
	check "$2: refused in one line" "$rc $(printf '%s\n' "$out" | wc -l)" "1 1"
	check "$2: the line says why" "$(printf '%s\n' "$out" | grep -c "$3")" 1
	check "$2: nothing attached" "$(tc -n "$NS" qdisc show dev tun0 | grep -c clsact)" 0
}
mkdir -m 0700 "$TMP/real"
ln -s "$TMP/real" "$TMP/link"
refuse "$TMP/link" "symlinked state directory" "cannot open the state directory $TMP/link: .*symlink"
mkdir -m 0777 "$TMP/open"; chmod 0777 "$TMP/open"
refuse "$TMP/open" "world-writable state directory" "refusing the state directory $TMP/open: owned by uid 0, mode 0777"
mkdir -m 0770 "$TMP/group"; chmod 0770 "$TMP/group"
refuse "$TMP/group" "group-writable state directory" "refusing the state directory $TMP/group: owned by uid 0, mode 0770"
mkdir -m 0700 "$TMP/theirs"; chown 65534 "$TMP/theirs"
refuse "$TMP/theirs" "state directory of another user" "refusing the state directory $TMP/theirs: owned by uid 65534"
check "symlink target directory untouched" "$(ls -A "$TMP/real")" ""
rm -rf "$TMP/fresh"
TUNFLOW_STATE_DIR=$TMP/fresh ip netns exec "$NS" "$TUNFLOW" -q -o json --attach tc --duration 0.1 tun0 >/dev/null 2>&1
check "a missing state directory is made root-only" "$(stat -c '%F %a %U' "$TMP/fresh")" "directory 700 root"
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Privileges after start: a running tunflow keeps exactly CAP_NET_ADMIN (effective,
# permitted, bounding; nothing inheritable or ambient) in every thread, has no_new_privs
# set, and with --user nobody runs as nobody (uid, gid, groups). It still attaches to a
# tun created after start, in both attach modes, and counts its packets exactly.
SUITE=privs
. "$(dirname "$0")/lib.sh"
need jq

CAP_NET_ADMIN=0000000000001000
NOBODY_UID=$(id -u nobody) NOBODY_GID=$(id -g nobody) NOBODY_GROUPS=$(id -G nobody)

# field PID TASK NAME: the value of NAME in /proc/PID/task/TASK/status, tabs as spaces
field() {
	sed -n "s/^$3:[[:space:]]*//p" "/proc/$1/task/$2/status" | tr '\t' ' ' | sed 's/ *$//'
}

for mode in tc tcx; do
	for user in root nobody; do
		name="$mode, $user"
		tun_ns "pv-$mode-$user"
		args=(-o json -t 0.2 --attach "$mode" --sessions "$TMP/none" 'tun*')
		[ "$user" = nobody ] && args+=(--user nobody)
		tf_start "$NS" "$TMP/$mode-$user.json" "$TMP/$mode-$user.err" "${args[@]}" ||
			{ fail "$name: start" "tunflow did not start"; continue; }
		tasks=$(ls "/proc/$TF/task")
		check "$name: threads" "$(echo "$tasks" | wc -l)" 2
		for t in $tasks; do
			who=thread; [ "$t" = "$TF" ] && who=main
			check "$name: $who CapEff" "$(field "$TF" "$t" CapEff)" "$CAP_NET_ADMIN"
			check "$name: $who CapPrm" "$(field "$TF" "$t" CapPrm)" "$CAP_NET_ADMIN"
			check "$name: $who CapBnd" "$(field "$TF" "$t" CapBnd)" "$CAP_NET_ADMIN"
			check "$name: $who CapInh" "$(field "$TF" "$t" CapInh)" 0000000000000000
			check "$name: $who CapAmb" "$(field "$TF" "$t" CapAmb)" 0000000000000000
			check "$name: $who NoNewPrivs" "$(field "$TF" "$t" NoNewPrivs)" 1
			if [ "$user" = nobody ]; then
				want_uid="$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID"
				want_gid="$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID"
				want_groups=$NOBODY_GROUPS
			else
				want_uid="0 0 0 0" want_gid="0 0 0 0" want_groups=
			fi
			check "$name: $who Uid" "$(field "$TF" "$t" Uid)" "$want_uid"
			check "$name: $who Gid" "$(field "$TF" "$t" Gid)" "$want_gid"
			[ "$user" = nobody ] &&
				check "$name: $who Groups" "$(field "$TF" "$t" Groups)" "$want_groups"
		done
		# a tun that appears after start is attached with what is left, and counted
		ip -n "$NS" tuntap add mode tun name tun7
		ip -n "$NS" addr add 198.51.100.7/32 peer 203.0.113.7/32 dev tun7
		ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun7.disable_ipv6=1
		ip -n "$NS" link set tun7 up
		for _ in $(seq 100); do
			grep -q "watching tun7 " "$TMP/$mode-$user.err" && break
			sleep 0.02
		done
		ip netns exec "$NS" "$TUNPKT" tun7 \
			"v=4,proto=icmp,src=203.0.113.7,dst=198.51.100.7,sport=8,dport=0,payload=56,count=7" \
			2>/dev/null
		sleep 0.3
		tf_stop
		# tc mode keeps markers in /run/tunflow, which nobody cannot update: remove
		# this namespace's own (until the state directory moves; see attach.c)
		rm -f "/run/tunflow/qdisc-$(stat -L -c %i "/run/netns/$NS")-"*
		out=$TMP/$mode-$user.json
		check "$name: exit status" "$TF_RC" 0
		flow_is "$out" "$name: echo requests on tun7" \
			'.iface == "tun7" and .dir == "ingress" and .proto == 1' 7 588
		flow_is "$out" "$name: echo replies on tun7" \
			'.iface == "tun7" and .dir == "egress" and .proto == 1' 7 588
		check "$name: attach and harvest errors" \
			"$(final_health "$out" | jq -c '.[1:3]')" "[0,0]"
		check "$name: nothing left attached on tun0" \
			"$(tc -n "$NS" filter show dev tun0 ingress; tc -n "$NS" filter show dev tun0 egress)" ""
	done
done
# an unknown user is said at start, in one line, and nothing stays attached
tun_ns pv-unknown
out=$(ip netns exec "$NS" "$TUNFLOW" -q --attach tc --sessions "$TMP/none" --user nosuchuser0 tun0 2>&1 >/dev/null)
check "unknown user: exit status" "$?" 1
check "unknown user: message" "$out" "tunflow: --user: no user named 'nosuchuser0' (see getent passwd)"
check "unknown user: nothing left attached" "$(tc -n "$NS" filter show dev tun0 ingress)" ""
finish

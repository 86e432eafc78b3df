# SPDX-License-Identifier: GPL-2.0-only
# Shared by tests/net/install.sh and tests/e2e/package.sh (after tests/net/lib.sh): run
# an installed tunflow as its systemd unit would, in a test namespace, and check it.

# unit_caps UNIT: the unit's CapabilityBoundingSet as setpriv wants it (+bpf,+perfmon,...)
unit_caps() {
	sed -n 's/^CapabilityBoundingSet=//p' "$1" | tr 'A-Z' 'a-z' |
		sed 's/cap_/+/g; s/ \+/,/g; s/,$//'
}

# service_run LABEL ROOT UNIT [USER]: the unit's ExecStart (paths under ROOT: "" for the
# host) as root (or USER: a drop-in's User=) with the unit's capability bounding,
# inheritable and ambient sets and no_new_privs, through setpriv, in a namespace with a
# tun (made here by tun_ns, or $SVC_NS); 20 packets of 120 bytes from 192.0.2.9 are
# counted exactly on /metrics (the example config serves 127.0.0.1:9273) under user
# $SVC_WANT_USER (default none), nothing is written to stdout (output = none), and
# tunflow runs with CAP_NET_ADMIN only.
service_run() {
	local label=$1 root=$2 unit=$3 user=${4:-} caps argv=() a m i as=() want_uid=0
	local series="interface=\"tun0\",direction=\"ingress\",user=\"${SVC_WANT_USER:-}\""
	caps=$(unit_caps "$root$unit")
	check "$label: the unit's capabilities" "$caps" "+bpf,+perfmon,+net_admin"
	for a in $(sed -n 's/^ExecStart=//p' "$root$unit"); do
		case $a in /*) argv+=("$root$a") ;; *) argv+=("$a") ;; esac
	done
	if [ -n "${SVC_NS:-}" ]; then NS=$SVC_NS; else tun_ns "svc$label"; fi
	if [ -n "$user" ]; then
		as=(--reuid="$user" --regid="$(id -g "$user")" --init-groups)
		want_uid=$(id -u "$user")
	fi
	bg ip netns exec "$NS" setpriv "${as[@]}" --bounding-set="-all,$caps" \
		--inh-caps="-all,$caps" --ambient-caps="-all,$caps" --no-new-privs -- "${argv[@]}" \
		>"$TMP/svc-$label.out" 2>"$TMP/svc-$label.err"
	TF=$BG
	for _ in $(seq 100); do
		grep -q "ready" "$TMP/svc-$label.err" 2>/dev/null && break
		kill -0 "$TF" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q 'ready, 1 interface$' "$TMP/svc-$label.err"; then
		fail "$label: started from its config" "$(tr '\n' ' ' <"$TMP/svc-$label.err")"
		tf_stop
		return 1
	fi
	ok "$label: started from its config"
	check "$label: CapEff (CAP_NET_ADMIN only)" \
		"$(sed -n 's/^CapEff:\t//p' "/proc/$TF/status")" 0000000000001000
	check "$label: CapBnd (the unit's)" \
		"$(sed -n 's/^CapBnd:\t//p' "/proc/$TF/status")" 000000c000001000
	check "$label: NoNewPrivs" "$(sed -n 's/^NoNewPrivs:\t//p' "/proc/$TF/status")" 1
	check "$label: uid" "$(awk '/^Uid:/ {print $2}' "/proc/$TF/status")" "$want_uid"
	ip netns exec "$NS" "$TUNPKT" tun0 \
		"v=4,proto=udp,src=192.0.2.9,dst=203.0.113.200,sport=1000,dport=53,payload=92,count=20" \
		2>/dev/null
	for i in $(seq 40); do
		m=$(ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:9273/metrics |
			grep -F "tunflow_packets_total{$series} " |
			awk '{print $NF}')
		[ "${m:-0}" -ge 20 ] && break
		sleep 0.1
	done
	check "$label: packets on /metrics" "$m" 20
	m=$(ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:9273/metrics |
		grep -F "tunflow_bytes_total{$series} " |
		awk '{print $NF}')
	check "$label: bytes on /metrics" "$m" 2400
	tf_stop
	check "$label: exit status after SIGINT" "$TF_RC" 0
	check "$label: nothing on stdout (output = none)" "$(wc -c <"$TMP/svc-$label.out")" 0
}

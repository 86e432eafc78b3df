#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bad input: every error is one line on stderr that names the thing and the fix, with a
# non-zero exit status (2 for bad usage, 1 for what the system refused), and no libbpf
# dump. Runs in a namespace with one tun.
SUITE=errors
. "$(dirname "$0")/lib.sh"
need setpriv

tun_ns err
# expect NAME STATUS MESSAGE CMD...: exact status and exactly one line of stderr
expect() {
	local name=$1 status=$2 msg=$3 out rc
	shift 3
	out=$(ip netns exec "$NS" "$@" 2>&1 >/dev/null </dev/null)
	rc=$?
	check "$name: exit status" "$rc" "$status"
	check "$name: message" "$out" "$msg"
}
# A name or glob that matches nothing yet is awaited (interfaces come and go), and
# says so in one line; tunflow runs on and exits 0.
expect "unknown interface" 0 "tunflow: no interface matches 'nosuch0' yet; waiting for it (see 'ip link')" "$TUNFLOW" -q --duration 0.1 nosuch0
expect "glob matching nothing" 0 "tunflow: no interface matches 'vpns*' yet; waiting for it (see 'ip link')" "$TUNFLOW" -q --duration 0.1 'vpns*'
expect "name too long" 2 "tunflow: 'averyveryverylongname0' is too long for an interface name (max 15)" "$TUNFLOW" averyveryverylongname0
expect "not root" 1 "tunflow: needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run it with sudo)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$TUNFLOW" tun0
expect "root without CAP_BPF" 1 "tunflow: needs CAP_BPF (or root): loading programs and maps needs CAP_BPF" \
	setpriv --inh-caps=-all --bounding-set=-bpf,-sys_admin "$TUNFLOW" tun0
expect "root without CAP_NET_ADMIN" 1 "tunflow: needs CAP_NET_ADMIN (or root): attaching to interfaces needs CAP_NET_ADMIN" \
	setpriv --inh-caps=-all --bounding-set=-net_admin "$TUNFLOW" tun0
# the verifier refuses tunflow's programs without CAP_PERFMON: named, not blamed on the kernel
expect "only CAP_BPF and CAP_NET_ADMIN" 1 "tunflow: needs CAP_PERFMON (or root): the verifier refuses tunflow's programs without CAP_PERFMON" \
	setpriv --inh-caps=-all --bounding-set=-all,+bpf,+net_admin "$TUNFLOW" tun0
expect "only CAP_NET_ADMIN" 1 "tunflow: needs CAP_BPF and CAP_PERFMON (or root): loading programs and maps needs CAP_BPF; the verifier refuses tunflow's programs without CAP_PERFMON" \
	setpriv --inh-caps=-all --bounding-set=-all,+net_admin "$TUNFLOW" tun0
# the documented set is the set that works
expect "CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN" 0 "" \
	setpriv --inh-caps=-all --bounding-set=-all,+bpf,+perfmon,+net_admin "$TUNFLOW" -q --duration 0.1 tun0
expect "bad direction" 2 "tunflow: --direction wants ingress, egress or both, not 'sideways'" "$TUNFLOW" -d sideways tun0
expect "interval zero" 2 "tunflow: --interval wants seconds from 0.05 to 3600, not '0'" "$TUNFLOW" -t 0 tun0
expect "interval not a number" 2 "tunflow: --interval wants seconds from 0.05 to 3600, not '1s'" "$TUNFLOW" -t 1s tun0
expect "negative duration" 2 "tunflow: --duration wants seconds from 0.05 to 1e+09, not '-3'" "$TUNFLOW" --duration -3 tun0
expect "max-flows zero" 2 "tunflow: --max-flows wants a whole number from 1 to 16777216, not '0'" "$TUNFLOW" --max-flows 0 tun0
expect "max-flows negative" 2 "tunflow: --max-flows wants a whole number from 1 to 16777216, not '-5'" "$TUNFLOW" --max-flows -5 tun0
expect "bad output" 2 "tunflow: --output wants tui, table, json, csv or none, not 'xml'" "$TUNFLOW" -o xml tun0
expect "records in a table" 2 "tunflow: --records needs -o tui, -o json or -o csv" "$TUNFLOW" --records -o table tun0
expect "bad idle timeout" 2 "tunflow: --idle-timeout wants seconds from 0.05 to 604800, not '0'" "$TUNFLOW" --idle-timeout 0 tun0
expect "bad attach mode" 2 "tunflow: --attach wants auto, tcx or tc, not 'xdp'" "$TUNFLOW" --attach xdp tun0
expect "unknown option" 2 "tunflow: unknown option '--frobnicate' (see --help)" "$TUNFLOW" --frobnicate tun0
expect "missing value" 2 "tunflow: -t needs a value (see --help)" "$TUNFLOW" tun0 -t
expect "ipfix: not a collector" 2 "tunflow: --ipfix wants [udp:|tcp:]HOST:PORT (a collector, e.g. udp:192.0.2.9:4739), not 'nohost:xyz'" "$TUNFLOW" --ipfix nohost:xyz tun0
expect "ipfix: IPv6 without brackets" 2 "tunflow: --ipfix wants [udp:|tcp:]HOST:PORT (a collector, e.g. udp:192.0.2.9:4739), not 'tcp:2001:db8::1:4739'" "$TUNFLOW" --ipfix tcp:2001:db8::1:4739 tun0
expect "ipfix: bad backlog" 2 "tunflow: --ipfix-backlog wants a whole number from 1 to 100000000, not '0'" "$TUNFLOW" --ipfix-backlog 0 tun0
expect "ipfix: bad template interval" 2 "tunflow: --ipfix-templates wants seconds from 1 to 86400, not '0.5'" "$TUNFLOW" --ipfix-templates 0.5 tun0
expect "cleanup of unknown interface" 1 "tunflow: no interface named 'nosuch0' (see 'ip link')" "$TUNFLOW" --cleanup nosuch0
expect "cleanup with extra interface" 2 "tunflow: --cleanup takes one interface and no others" "$TUNFLOW" --cleanup tun0 tun1
expect "bad metrics address" 2 "tunflow: --metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not 'localhost:x'" "$TUNFLOW" --metrics localhost:x tun0
expect "metrics host with a space" 2 "tunflow: --metrics wants PORT, ADDRESS:PORT or [IPV6]:PORT, not 'bad host:9100'" "$TUNFLOW" --metrics 'bad host:9100' tun0
expect "metrics address not here" 1 "tunflow: cannot serve metrics on 192.0.2.77:9100 (in use, or not an address of this host)" "$TUNFLOW" --metrics 192.0.2.77:9100 tun0
expect "bad group-by" 2 "tunflow: --group-by wants user or flow, not 'host'" "$TUNFLOW" --group-by host tun0
expect "user map missing" 1 "tunflow: cannot read the user map $TMP/nomap: No such file or directory" "$TUNFLOW" --user-map "$TMP/nomap" tun0
printf 'tun0 alice\n192.0.2.7 bob extra\n' >"$TMP/badmap"
expect "user map bad line" 1 "tunflow: $TMP/badmap:2: wants 'INTERFACE-OR-ADDRESS USER', not '192.0.2.7 bob extra'" "$TUNFLOW" --user-map "$TMP/badmap" tun0
printf '10.0.0.0/99 carol\n' >"$TMP/badpfx"
expect "user map bad prefix" 1 "tunflow: $TMP/badpfx:1: '10.0.0.0/99' is neither an address/prefix nor an interface name" "$TUNFLOW" --user-map "$TMP/badpfx" tun0
expect "openvpn status missing" 1 "tunflow: cannot read the OpenVPN status file $TMP/nostatus: No such file or directory (set 'status FILE' in the server's config)" "$TUNFLOW" --openvpn-status "$TMP/nostatus" tun0
# no interface argument and no tunnel: waits for one, and says what else to do
ns_new empty
out=$(ip netns exec "$NS" "$TUNFLOW" -q --duration 0.1 2>&1 >/dev/null); rc=$?
check "no tunnel interface: exit status" "$rc" 0
check "no tunnel interface: message" "$out" "tunflow: no tunnel interface yet; waiting for one (or name the interfaces to watch, e.g. 'tunflow eth0')"
# --help and --version succeed on stdout
ip netns exec "$NS" "$TUNFLOW" --help | grep -q "^Examples:"; check "--help shows examples" $? 0
check "--version" "$("$TUNFLOW" --version)" "tunflow 0.1.0"
finish

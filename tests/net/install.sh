#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make install and make uninstall: the tree under DESTDIR is exactly tests/net/install.list
# (path and mode); the unit names the installed binary and config and passes
# systemd-analyze verify (a broken copy does not); an existing config is kept by install
# and a changed one by uninstall; uninstall leaves no file; and the installed binary,
# run as its unit runs it (tests/lib/service.sh), counts exact packets from its config.
SUITE=install
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/lib/service.sh"
need systemd-analyze
need setpriv
need curl

R=$TMP/root
mk() { make -s -C "$TOP" "$@" PREFIX=/usr UNITDIR=/lib/systemd/system DESTDIR="$R" 2>&1; }
tree() { (cd "$R" && find . ! -type d -printf '%m %P\n' | LC_ALL=C sort); }

mk install >"$TMP/install.log"
check "install: the tree" "$(diff <(tree) "$TOP/tests/net/install.list" && echo same)" same
check "install: ExecStart" "$(grep '^ExecStart=' "$R/lib/systemd/system/tunflow.service")" \
	"ExecStart=/usr/sbin/tunflow --config /etc/tunflow/tunflow.conf"
check "install: the example config" "$(cmp "$TOP/dist/tunflow.conf" "$R/etc/tunflow/tunflow.conf" &&
	echo same)" same
check "install: the hook is the script" \
	"$(cmp "$TOP/scripts/tunflow-session-hook" "$R/usr/libexec/tunflow/tunflow-session-hook" &&
	echo same)" same
check "installed binary runs" "$("$R/usr/sbin/tunflow" --version)" \
	"$("$TOP/build/tunflow" --version)"

service_run make "$R" /lib/systemd/system/tunflow.service

# OpenVPN with "user nobody" (README, "On a VPN server"): the hook runs as nobody in a
# directory nobody writes and root's group reads (nobody:root 2750), as OpenVPN runs it
# (in the namespace: it records it); the service, as the unit runs it (uid 0 without
# CAP_DAC_OVERRIDE), reads it from the example config with the two lines README adds,
# and the flows are the user's.
chmod 0711 "$TMP"
install -d -o nobody -g root -m 2750 "$TMP/ovpn"
printf 'sessions = %s\ntrusted-writer = nobody\n' "$TMP/ovpn/sessions" \
	>>"$R/etc/tunflow/tunflow.conf"
tun_ns svcovpn
ip netns exec "$NS" setpriv --reuid=nobody --regid="$(id -g nobody)" --init-groups \
	env -i PATH="$PATH" TUNFLOW_SESSIONS="$TMP/ovpn/sessions" script_type=client-connect \
	common_name=alice ifconfig_pool_remote_ip=192.0.2.9 trusted_ip=198.51.100.7 \
	trusted_port=5000 dev=tun0 "$R/usr/libexec/tunflow/tunflow-session-hook"
check "openvpn: the hook wrote as nobody, for root's group" \
	"$(stat -c '%U %G %a' "$TMP/ovpn/sessions")" "nobody root 640"
SVC_NS=$NS SVC_WANT_USER=alice service_run ovpn "$R" /lib/systemd/system/tunflow.service

# systemd-analyze verify needs the binary and the man page where the unit says: install
# with PREFIX under $TMP, no DESTDIR
P=$TMP/prefix
make -s -C "$TOP" install PREFIX="$P" SYSCONFDIR="$P/etc" >/dev/null 2>&1
check "systemd-analyze verify" \
	"$(MANPATH=$P/share/man systemd-analyze verify "$P/lib/systemd/system/tunflow.service" 2>&1;
	echo "rc=$?")" "rc=0"
sed 's/^ProtectSystem=strict/ProtectSystem=strickt/' "$P/lib/systemd/system/tunflow.service" \
	>"$TMP/tunflow.service"
check "systemd-analyze verify: a broken unit fails" \
	"$(MANPATH=$P/share/man systemd-analyze verify "$TMP/tunflow.service" 2>&1 |
	grep -c 'Failed to parse protect system value, ignoring: strickt')" 1
make -s -C "$TOP" uninstall PREFIX="$P" SYSCONFDIR="$P/etc" >/dev/null 2>&1
check "uninstall (PREFIX): no file left" "$(find "$P" ! -type d | wc -l)" 0

# an operator's config: kept by install, kept by uninstall
echo "metrics = 127.0.0.1:9999" >"$R/etc/tunflow/tunflow.conf"
check "install again: says it keeps the config" "$(mk install | grep -c '^install: keeping')" 1
check "install again: the config kept" "$(cat "$R/etc/tunflow/tunflow.conf")" \
	"metrics = 127.0.0.1:9999"
check "uninstall: says it keeps the changed config" \
	"$(mk uninstall | grep -c '^uninstall: keeping .*tunflow.conf (changed)')" 1
check "uninstall: only the changed config left" "$(cd "$R" && find . ! -type d)" \
	"./etc/tunflow/tunflow.conf"
rm "$R/etc/tunflow/tunflow.conf"
mk install >/dev/null
mk uninstall >/dev/null
check "uninstall: no file left" "$(find "$R" ! -type d | wc -l)" 0
check "uninstall: tunflow's directories gone" \
	"$(cd "$R" && ls -d etc/tunflow usr/libexec/tunflow usr/share/doc/tunflow 2>/dev/null)" ""
finish

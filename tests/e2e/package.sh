#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package: dpkg-buildpackage builds it (from a copy: the tree stays clean),
# it holds exactly tests/e2e/package.list, lintian says nothing but the one tag the
# README explains; dpkg -i installs it on this host without enabling or starting the
# service; the installed unit passes systemd-analyze verify; the installed tunflow, run
# as the unit runs it (tests/lib/service.sh), counts exact packets from the installed
# config; dpkg --purge leaves nothing. A tunflow package already installed here is never
# touched (the test fails instead), and the package is purged on every exit path.
SUITE=package
. "$(dirname "$0")/../net/lib.sh"
. "$TOP/tests/lib/service.sh"
need dpkg-buildpackage
need dh
need lintian
need systemd-analyze
need setpriv
need curl

installed() { dpkg-query -W -f='${Status}' tunflow 2>/dev/null | grep -c ' installed$'; }
# dpkg ARGS...: dpkg, waiting (up to 2 minutes) while another dpkg or apt holds its lock
dpkg_wait() {
	local out rc
	for _ in $(seq 240); do
		out=$(dpkg "$@" 2>&1)
		rc=$?
		[ $rc -ne 0 ] && [[ "$out" == *"lock"* ]] || break
		sleep 0.5
	done
	echo "$out"
	return $rc
}
INSTALLED_HERE=
purge() {
	[ -n "$INSTALLED_HERE" ] && dpkg_wait --purge tunflow >/dev/null 2>&1
	INSTALLED_HERE=
}
trap 'purge; teardown' EXIT

if [ "$(installed)" != 0 ]; then
	fail "host" "a tunflow package is installed here: not touching it (dpkg --purge tunflow first)"
	exit 1
fi

start=$(date +%s)
make -C "$TOP" deb DEBDIR="$TMP/deb" >"$TMP/build.log" 2>&1
check "dpkg-buildpackage" "$?" 0
DEB=$TMP/deb/tunflow_$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)_$(dpkg --print-architecture).deb
check "the .deb" "$(ls "$DEB" 2>/dev/null | wc -l)" 1
check "the build left nothing in the tree" \
	"$(git -C "$TOP" status --porcelain --ignored -- debian | wc -l)" 0
check "dpkg -c: the files" \
	"$(diff <(dpkg -c "$DEB" | awk '$1 !~ /^d/ {print $1, $2, $6}' | LC_ALL=C sort -k3) \
		"$TOP/tests/e2e/package.list" && echo same)" same
check "lintian: only the tag README explains" \
	"$(lintian -I --pedantic "$TMP/deb/"*.changes 2>&1 | grep -v 'running with root privileges')" \
	"I: tunflow: package-supports-alternative-init-but-no-init.d-script [lib/systemd/system/tunflow.service]"
echo "# package: built and checked in $(($(date +%s) - start)) s"

INSTALLED_HERE=1
dpkg_wait -i "$DEB" >"$TMP/install.log" 2>&1
check "dpkg -i" "$?" 0
check "installed" "$(installed)" 1
check "installed: the unit names the binary" \
	"$(grep '^ExecStart=' /lib/systemd/system/tunflow.service)" \
	"ExecStart=/usr/sbin/tunflow --config /etc/tunflow/tunflow.conf"
check "installed: not enabled" "$(ls /etc/systemd/system/*/tunflow.service 2>/dev/null | wc -l)" 0
check "installed: systemd-analyze verify" \
	"$(systemd-analyze verify /lib/systemd/system/tunflow.service 2>&1; echo "rc=$?")" "rc=0"
check "installed: the hook" "$(cmp "$TOP/scripts/tunflow-session-hook" \
	/usr/libexec/tunflow/tunflow-session-hook && echo same)" same
service_run deb "" /lib/systemd/system/tunflow.service

dpkg_wait --purge tunflow >"$TMP/purge.log" 2>&1
check "dpkg --purge" "$?" 0
INSTALLED_HERE=
check "purged: not installed" "$(installed)" 0
check "purged: no file left" \
	"$(ls -d /usr/sbin/tunflow /usr/libexec/tunflow /lib/systemd/system/tunflow.service \
		/etc/tunflow /usr/share/doc/tunflow /usr/share/man/man8/tunflow.8.gz 2>/dev/null)" ""
finish

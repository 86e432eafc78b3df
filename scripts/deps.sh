#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages tunflow needs to build, run its demo and its tests.
# Does nothing when everything is already there.
set -eu
PKGS=(
	make gcc clang pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libglib2.0-dev libmnl-dev libcap-dev libmicrohttpd-dev
	libyaml-dev libgnutls28-dev libcrypt-dev
	# AS and country of remote addresses: libloc and the IPFire location database
	libloc-dev libloc-database
	# the full-screen view (-o tui) and its test (tests/net/tui.sh drives it in tmux)
	libncurses-dev tmux
	# QUIC Initials: HKDF, AES-128 and AES-128-GCM (src/names/quic.c)
	nettle-dev
	# the embedded flow store (--store) and its CLI for the tests and the benchmark
	libsqlite3-dev sqlite3
	# tunflow -r: reading pcap and pcapng captures; tcpdump writes the replay tests' own
	libpcap-dev tcpdump
	linux-libc-dev
	iproute2 iputils-ping jq util-linux
	# the tests' capture writers and comparisons (tests/net/replay*.py, bench/*_gen.py)
	python3
	iperf3 softflowd ethtool
	ocserv openconnect openvpn gnutls-bin busybox prometheus
	libfixbuf-dev libfixbuf-tools nfdump pmacct tshark xxd netcat-openbsd
	wireguard-go wireguard-tools
	# destination names end to end (tests/net/names.sh): a DNS server, dig, a QUIC client
	# and server
	dnsmasq-base
	bind9-dnsutils
	ngtcp2-client
	ngtcp2-server
	# --clickhouse (libcurl) and its test and bench (tests/net/clickhouse.sh)
	libcurl4-gnutls-dev clickhouse-server clickhouse-client
	# make deb and its test (tests/e2e/package.sh), make install's (systemd-analyze)
	debhelper dpkg-dev fakeroot lintian git systemd man-db curl
)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo make ...) to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark's wireshark-common asks whether non-root users may capture: no
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

# SPDX-License-Identifier: GPL-2.0-only
# A clickhouse-server for the tests and the bench, sourced (not a suite of its own): its
# configuration, everything under one directory, listening on 127.0.0.1 of the namespace
# it is started in: HTTP 8123, native 9000.
CH_SERVER=/usr/sbin/clickhouse-server

# ch_config DIR [USERS] [TLS]: DIR/config.xml and DIR/users.xml. USERS: more <users>
# entries than the passwordless default; TLS=1: HTTPS on 8443 with DIR/cert.pem and
# DIR/key.pem (made by the caller).
ch_config() {
	local d=$1 users=${2:-} tls=${3:-0}
	mkdir -p "$d"
	{
		cat <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$d/server.log</log><errorlog>$d/error.log</errorlog><console>0</console></logger>
  <http_port>8123</http_port>
EOF
		[ "$tls" = 1 ] && cat <<EOF
  <https_port>8443</https_port>
  <openSSL><server><certificateFile>$d/cert.pem</certificateFile><privateKeyFile>$d/key.pem</privateKeyFile><verificationMode>none</verificationMode><loadDefaultCAFile>false</loadDefaultCAFile></server></openSSL>
EOF
		cat <<EOF
  <tcp_port>9000</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$d/data/</path>
  <tmp_path>$d/tmp/</tmp_path>
  <user_files_path>$d/user_files/</user_files_path>
  <format_schema_path>$d/format_schemas/</format_schema_path>
  <users_config>$d/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
EOF
	} >"$d/config.xml"
	cat >"$d/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    $users
  </users>
  <quotas><default></default></quotas>
</yandex>
EOF
}

# ch_wait NS: until the server in NS answers on HTTP (10 s at most); 1 if it never does
ch_wait() {
	for _ in $(seq 400); do
		ip netns exec "$1" curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1 && return 0
		sleep 0.025
	done
	return 1
}

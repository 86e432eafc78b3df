#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# /metrics with a Prometheus web configuration (--metrics-web-config): HTTPS with a
# certificate the test makes, basic authentication against bcrypt hashes ($2y$ and
# $2b$), 401 for a wrong, unknown or missing password, positive checks remembered (no
# bcrypt per scrape), guessing throttled (429) without locking out a known scraper, and
# every bad configuration a one-line error naming the file, exit status 1.
SUITE=metrics_web
. "$(dirname "$0")/lib.sh"
need curl
need openssl
need promtool

tun_ns mweb
ip netns exec "$NS" sysctl -qw net.ipv6.conf.tun0.disable_ipv6=1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=tunflow-test -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$TMP/server.key" -out "$TMP/server.crt" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=other -keyout "$TMP/other.key" -out "$TMP/other.crt" 2>/dev/null
# passwords 'right horse' (cost 12: about 0.2 s a check) and 'battery staple' (cost 4)
cat >"$TMP/web.yml" <<'YML'
# relative file names start from this file's directory
tls_server_config:
  cert_file: server.crt
  key_file: server.key
basic_auth_users:
  prometheus: $2y$12$UsCpnGkP06RJZ2H38vawduKN9y2wmGjctS3BDap0EiQYDCLFywVYu
  grafana: "$2b$04$URWjDLh1PEUQfZWo2KvCgO7B4in.myoR66/8BL86bdo.czou.3B/G"
YML
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --metrics 9273 \
	--metrics-web-config "$TMP/web.yml" tun0 || exit 1
URL=https://127.0.0.1:9273/metrics
get() { ip netns exec "$NS" curl -s --max-time 5 --cacert "$TMP/server.crt" "$@"; }
code() { get -o /dev/null -w '%{http_code}' "$@"; }

ip netns exec "$NS" "$TUNPKT" tun0 2>/dev/null \
	"v=4,proto=udp,src=192.0.2.9,dst=203.0.113.200,sport=1000,dport=53,payload=92,count=20"
sleep 0.3
check "TLS, right password: 200" "$(code -u 'prometheus:right horse' $URL)" 200
get -u 'prometheus:right horse' $URL >"$TMP/m"
check "the page over TLS passes promtool" \
	"$(promtool check metrics <"$TMP/m" 2>&1; echo "rc=$?")" "rc=0"
check "the page counts the traffic" \
	"$(grep '^tunflow_bytes_total{interface="tun0",direction="ingress"' "$TMP/m" | awk '{print $NF}')" 2400
check "\$2b\$ hash, right password: 200" "$(code -u 'grafana:battery staple' $URL)" 200
# checks cost the server time (cost 12: 0.5 s of its 1 s budget, cost 4: 1/8 s)
check "wrong password: 401" "$(code -u 'grafana:wrong horse' $URL)" 401
check "password of another user: 401" "$(code -u 'grafana:right horse' $URL)" 401
check "unknown user: 401" "$(code -u 'nobody:battery staple' $URL)" 401
check "no authorization header: 401" "$(code $URL)" 401
check "401 asks for basic auth" \
	"$(get -D - -o /dev/null $URL | tr -d '\r' | grep -i '^www-authenticate')" \
	'WWW-Authenticate: Basic realm="tunflow"'
check "other paths need the password too" "$(code https://127.0.0.1:9273/)" 401
check "plain HTTP gets nothing" \
	"$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	   -u 'prometheus:right horse' http://127.0.0.1:9273/metrics)" 000
check "a certificate the client does not trust is refused" \
	"$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	   --cacert "$TMP/other.crt" -u 'prometheus:right horse' $URL)" 000
# cost 12 takes a while per check; remembered, 10 scrapes take less than one check
sleep 1
t=$(get -o /dev/null -w '%{time_total}\n' -u 'nobody:x' $URL)
check "a check of an unknown user costs bcrypt time too (>= 0.05 s)" \
	"$(awk -v t="$t" 'BEGIN {print (t >= 0.05 ? "yes" : t)}')" yes
check "10 scrapes with a remembered password, each faster than a bcrypt check" \
	"$(for _ in $(seq 10); do get -o /dev/null -w '%{http_code} %{time_total}\n' \
		-u 'prometheus:right horse' $URL; done |
	   awk -v t="$t" '$1 == 200 && $2 < t / 2 {n++} END {print n + 0}')" 10
# guessing: a second's worth of cheap checks (8), then 429 until the budget refills;
# the remembered scraper still gets in
sleep 1.1
get -u 'grafana:guess' -w '%{http_code}\n' $(printf -- "-o /dev/null $URL %.0s" $(seq 20)) \
	>"$TMP/guesses"
check "20 guesses in a row: the first 8 checked (401)" "$(head -8 "$TMP/guesses" | sort -u)" 401
# the budget refills at 8 a second while the guesses go on (each one a TLS handshake)
check "20 guesses in a row: at least 8 throttled (429)" \
	"$(grep -c 429 "$TMP/guesses" | awk '{print ($1 >= 8 ? "yes" : $1)}')" yes
check "a known scraper passes while guesses are throttled" \
	"$(code -u 'prometheus:right horse' $URL)" 200
# a costly hash: each check is charged twice its time, so that 16 in a row (over
# 0.07 s each) exceed the second's budget, whatever the machine's load
sleep 1.1
get -u 'prometheus:guess' -w '%{http_code}\n' $(printf -- "-o /dev/null $URL %.0s" $(seq 16)) \
	>"$TMP/costly"
check "16 costly guesses in a row: the first checked" "$(head -1 "$TMP/costly")" 401
check "16 costly guesses in a row: the last throttled" "$(tail -1 "$TMP/costly")" 429
sleep 0.3 # the page is rendered at each harvest
check "failures counted" \
	"$(get -u 'prometheus:right horse' $URL | awk '$1 == "tunflow_metrics_auth_failures_total" {print $2}')" 43
tf_stop
check "exit status" "$TF_RC" 0

# bad configurations: one line naming the file and the problem, exit status 1
bad() { # NAME CONTENT WANT-LINE [FILE]
	local f=${4:-$TMP/bad.yml}
	[ -n "${4:-}" ] || printf '%s\n' "$2" >"$f"
	ip netns exec "$NS" "$TUNFLOW" -q --duration 1 --metrics 9275 \
		--metrics-web-config "$f" tun0 >/dev/null 2>"$TMP/bad.err"
	check "$1" "$?: $(cat "$TMP/bad.err")" "1: tunflow: web config $f: $3"
}
bad "not YAML" 'basic_auth_users: [a' \
	"line 2: not YAML: did not find expected ',' or ']'"
bad "a key the toolkit has and tunflow not" \
	$'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert' \
	"line 4: tls_server_config: 'client_auth_type' is not supported by tunflow (it knows cert_file and key_file)"
bad "an unknown section" 'http_server_config: {http2: false}' \
	"line 1: 'http_server_config' is not supported by tunflow (it knows tls_server_config and basic_auth_users)"
bad "a plain-text password" $'basic_auth_users:\n  alice: secret' \
	"line 2: basic_auth_users: the password of 'alice' is not a bcrypt hash (\$2y\$10\$ and 53 characters; make one with htpasswd -nBC 10 'alice')"
bad "a certificate without its key" $'tls_server_config:\n  cert_file: server.crt' \
	"line 2: tls_server_config needs both cert_file and key_file"
bad "a user twice" $'basic_auth_users:\n  a: $2b$04$URWjDLh1PEUQfZWo2KvCgO7B4in.myoR66/8BL86bdo.czou.3B/G\n  a: $2b$04$URWjDLh1PEUQfZWo2KvCgO7B4in.myoR66/8BL86bdo.czou.3B/G' \
	"line 3: basic_auth_users: 'a' appears twice"
bad "a missing certificate file" $'tls_server_config:\n  cert_file: none.crt\n  key_file: server.key' \
	"$TMP/none.crt: No such file or directory"
bad "a key that is not the certificate's" $'tls_server_config:\n  cert_file: server.crt\n  key_file: other.key' \
	"$TMP/server.crt and $TMP/other.key are not a PEM certificate and its key: The certificate and the given key do not match."
bad "not a mapping" '- a' "line 1: the file must be a mapping of names to values"
bad "a missing file" "" "No such file or directory" "$TMP/none.yml"
bad "a directory" "" "not a regular file" "$TMP"
mkfifo "$TMP/fifo.yml"
bad "a FIFO (refused, not waited on)" "" "not a regular file" "$TMP/fifo.yml"
finish

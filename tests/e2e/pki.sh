# SPDX-License-Identifier: GPL-2.0-only
# Certificates for the end-to-end tests, made on the spot with GnuTLS's certtool.
# pki_ca DIR: DIR/ca.key, DIR/ca.pem
pki_ca() {
	printf 'cn = "tunflow test CA"\nserial = 1\nexpiration_days = 2\nca\nsigning_key\ncert_signing_key\n' \
		>"$1/ca.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$1/ca.key" >/dev/null 2>&1 &&
	certtool --generate-self-signed --load-privkey "$1/ca.key" --template "$1/ca.tmpl" \
		--outfile "$1/ca.pem" >/dev/null 2>&1
}
# pki_cert DIR NAME CN USAGE [EXTRA]: DIR/NAME.key and DIR/NAME.pem signed by the CA;
# USAGE is tls_www_server or tls_www_client, EXTRA more template lines
pki_cert() {
	printf 'cn = "%s"\nserial = %d\nexpiration_days = 2\nsigning_key\nencryption_key\n%s\n%s\n' \
		"$3" "$RANDOM" "$4" "${5:-}" >"$1/$2.tmpl"
	certtool --generate-privkey --key-type=ecdsa --outfile "$1/$2.key" >/dev/null 2>&1 &&
	certtool --generate-certificate --load-privkey "$1/$2.key" --load-ca-certificate \
		"$1/ca.pem" --load-ca-privkey "$1/ca.key" --template "$1/$2.tmpl" \
		--outfile "$1/$2.pem" >/dev/null 2>&1
}

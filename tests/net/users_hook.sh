#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# scripts/tunflow-session-hook and tunflow --sessions: every field encoded (a user name
# with a tab, a newline, ESC or invalid UTF-8 forges no field or line and reaches the
# output cleaned), the hook never writes through a link and creates its directory 0700,
# and a session counts only in the network namespace it was recorded in. OpenVPN with
# `user nobody` as README sets it up, read by a tunflow that has no CAP_DAC_OVERRIDE
# (the systemd unit's).
SUITE=users_hook
. "$(dirname "$0")/lib.sh"
need jq
HOOK=$TOP/scripts/tunflow-session-hook

tun_ns a; A=$NS
tun_ns b; B=$NS
S=$TMP/run/sessions
# as ocserv runs it, in the server's namespace
hook() { # NS EVENT ID USER ADDR
	ip netns exec "$1" env -i PATH="$PATH" TUNFLOW_SESSIONS="$S" REASON="$2" ID="$3" \
		USERNAME="$4" DEVICE=tun0 IP_REMOTE="$5" IP_REAL=198.51.100.2 sh "$HOOK"
}
EVIL=$(printf 'mallory\tifindex=1\nconnect\tid=x\tuser=root\033]0;pwned\007\377\\')
hook "$A" connect 1 "$EVIL" 192.0.2.9 2>"$TMP/hook.err"
check "hook: directory made 0700" "$(stat -c %a "$TMP/run")" 700
check "hook: file made 0600" "$(stat -c %a "$S")" 600
check "hook: one line for one connect" "$(wc -l <"$S")" 1
check "hook: the user field, encoded" "$(awk -F'\t' '{ print $4 }' "$S")" \
	'user=mallory%09ifindex=1%0Aconnect%09id=x%09user=root%1B]0;pwned%07%FF%5C'
check "hook: its network namespace" "$(grep -o 'netns=[0-9]*' "$S")" "netns=$(ip netns exec "$A" stat -L -c %i /proc/self/ns/net)"
check "hook: nothing on stderr" "$(cat "$TMP/hook.err")" ""

send() { ip netns exec "$1" "$TUNPKT" tun0 "$2" 2>/dev/null; }
tf_start "$A" "$TMP/a.json" "$TMP/a.err" -o json -t 0.1 --sessions "$S" tun0 || exit 1
TFA=$TF
tf_start "$B" "$TMP/b.json" "$TMP/b.err" -o json -t 0.1 --sessions "$S" tun0 || exit 1
TFB=$TF
sleep 0.3
for ns in "$A" "$B"; do
	send "$ns" "v=4,proto=udp,src=192.0.2.9,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=2"
	send "$ns" "v=4,proto=udp,src=192.0.2.50,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=1"
done
sleep 0.3
TF=$TFA tf_stop
TF=$TFB tf_stop
users() { jq -s -r "map(select(.type == \"flow\" and .dir == \"ingress\" and .src == \"$2\") | .user // \"\") | unique | join(\",\")" "$1"; }
check "the session's user, decoded and cleaned" "$(users "$TMP/a.json" 192.0.2.9)" \
	'mallory\x09ifindex=1\x0aconnect\x09id=x\x09user=root\x1b]0;pwned\x07\xff\'
check "its interface: every flow on it" "$(users "$TMP/a.json" 192.0.2.50)" \
	'mallory\x09ifindex=1\x0aconnect\x09id=x\x09user=root\x1b]0;pwned\x07\xff\'
check "another namespace's session labels nothing here" "$(users "$TMP/b.json" 192.0.2.9),$(users "$TMP/b.json" 192.0.2.50)" ","
check "another namespace: flows still seen" "$(flow_sum "$TMP/b.json" packets '.dir == "ingress"')" 3

# never through a link: a planted symlink (or one for the directory) is refused
printf 'precious\n' >"$TMP/victim"
rm "$S"
ln -s "$TMP/victim" "$S"
hook "$A" connect 2 bob 192.0.2.10 2>"$TMP/link.err"
check "hook: a link for the file is not written through" "$(cat "$TMP/victim")" precious
check "hook: says why" "$(cat "$TMP/link.err")" "tunflow-session-hook: $S is a symbolic link or not a regular file: not writing through it"
rm "$S"
ln "$TMP/victim" "$S"
hook "$A" connect 2 bob 192.0.2.10 2>"$TMP/hard.err"
check "hook: a hard link is not written to" "$(cat "$TMP/victim")" precious
check "hook: says why (hard link)" "$(cat "$TMP/hard.err")" "tunflow-session-hook: $S is not this user's own file (another owner, or a hard link): not writing to it"
mkdir "$TMP/real"
ln -s "$TMP/real" "$TMP/linkdir"
ip netns exec "$A" env -i PATH="$PATH" TUNFLOW_SESSIONS="$TMP/linkdir/sessions" REASON=connect \
	ID=3 USERNAME=bob DEVICE=tun0 sh "$HOOK" 2>"$TMP/linkdir.err"
check "hook: a link for the directory is not written through" "$(ls "$TMP/real" | wc -l)" 0
check "hook: says why (directory)" "$(cat "$TMP/linkdir.err")" "tunflow-session-hook: $TMP/linkdir is a symbolic link or not a directory: not writing through it"

# OpenVPN with 'user nobody', as the README sets it up: the hook runs as nobody into a
# directory of nobody's; tunflow reads it only when told nobody is the trusted writer
chmod 755 "$TMP"
install -d -m 0700 -o nobody -g nogroup "$TMP/ovpn"
OS=$TMP/ovpn/sessions
ip netns exec "$A" setpriv --reuid nobody --regid nogroup --clear-groups env -i PATH="$PATH" \
	TUNFLOW_SESSIONS="$OS" script_type=client-connect common_name=olga trusted_ip=198.51.100.3 \
	trusted_port=1194 ifconfig_pool_remote_ip=192.0.2.30 dev=tun0 sh "$HOOK" 2>"$TMP/ovpn.err"
check "user nobody: the hook wrote, nothing said" "$(stat -c %U:%a "$OS"):$(cat "$TMP/ovpn.err")" "nobody:600:"
tf_start "$A" "$TMP/tw0.json" "$TMP/tw0.err" -o json -t 0.1 --sessions "$OS" tun0 || exit 1
send "$A" "v=4,proto=udp,src=192.0.2.30,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=1"
sleep 0.3
tf_stop
tf_start "$A" "$TMP/tw1.json" "$TMP/tw1.err" -o json -t 0.1 --sessions "$OS" --trusted-writer nobody tun0 || exit 1
send "$A" "v=4,proto=udp,src=192.0.2.30,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=1"
sleep 0.3
tf_stop
check "user nobody: refused without --trusted-writer, said once" \
	"$(grep -c "^tunflow: the sessions file: $OS is owned by uid $(id -u nobody), not root: chown root $OS, or name its writer with --trusted-writer USER; not read until that changes$" "$TMP/tw0.err")" 1
check "user nobody: no user without --trusted-writer" "$(users "$TMP/tw0.json" 192.0.2.30)" ""
check "user nobody: --trusted-writer nobody" "$(users "$TMP/tw1.json" 192.0.2.30)" olga

# README's layout: /run/tunflow-openvpn nobody:root 2750, so the file is nobody:root 0640
# and a tunflow running as uid 0 without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH (the
# systemd unit's capabilities) reads it; in a 0700 directory of nobody's it cannot
install -d -m 2750 -o nobody -g root "$TMP/ovpn2"
GS=$TMP/ovpn2/sessions
ovpn_hook() { # FILE
	ip netns exec "$A" setpriv --reuid nobody --regid nogroup --clear-groups env -i PATH="$PATH" \
		TUNFLOW_SESSIONS="$1" script_type=client-connect common_name=pia trusted_ip=198.51.100.4 \
		trusted_port=1194 ifconfig_pool_remote_ip=192.0.2.31 dev=tun0 sh "$HOOK"
}
ovpn_hook "$GS" 2>"$TMP/ovpn2.err"
check "set-group-ID directory: the file nobody:root 0640, nothing said" \
	"$(stat -c %U:%G:%a "$GS"):$(cat "$TMP/ovpn2.err")" "nobody:root:640:"
ovpn_hook "$OS" 2>/dev/null
nodac() { # OUT FILE
	tf_start "$A" "$TMP/$1.json" "$TMP/$1.err" setpriv --bounding-set -dac_override,-dac_read_search \
		-- "$TUNFLOW_REAL" -o json -t 0.1 --sessions "$2" --trusted-writer nobody tun0 || exit 1
	send "$A" "v=4,proto=udp,src=192.0.2.31,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=2"
	sleep 0.3
	tf_stop
}
TUNFLOW_REAL=$TUNFLOW
TUNFLOW=env
nodac nodac1 "$GS"
nodac nodac0 "$OS"
TUNFLOW=$TUNFLOW_REAL
check "no CAP_DAC_OVERRIDE: the set-group-ID layout is read" "$(users "$TMP/nodac1.json" 192.0.2.31)" pia
check "no CAP_DAC_OVERRIDE: a 0700 directory of nobody's is not" "$(users "$TMP/nodac0.json" 192.0.2.31)" ""
finish

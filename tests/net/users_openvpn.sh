#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# --openvpn-status against malformed files: a HEADER that puts Common Name last, a long
# line, then a row shorter than the HEADER (a use-after-free before) is counted and said
# once, and the last good state is kept; a good file later is taken again.
SUITE=users_openvpn
. "$(dirname "$0")/lib.sh"
need jq

tun_ns ovpn
send() { ip netns exec "$NS" "$TUNPKT" tun0 "$1" 2>/dev/null; }
ST=$TMP/status
good() { # USER: a version 2 file with USER at 192.0.2.2
	cat >"$ST.new" <<EOF2
TITLE,OpenVPN 2.6.3
HEADER,CLIENT_LIST,Common Name,Real Address,Virtual Address,Virtual IPv6 Address,Bytes Received,Bytes Sent,Connected Since,Connected Since (time_t),Username,Client ID,Peer ID
CLIENT_LIST,$1,198.51.100.2:1194,192.0.2.2,,1,2,x,1,UNDEF,0,0
GLOBAL_STATS,Max bcast/mcast queue length,0
END
EOF2
	mv "$ST.new" "$ST"
}
bad() { # a row shorter than its HEADER, after a long line
	{
		echo 'HEADER,CLIENT_LIST,Real Address,Virtual Address,Bytes Received,Common Name'
		head -c 3000 /dev/zero | tr '\0' x
		echo
		echo "CLIENT_LIST,198.51.100.2:1194,192.0.2.2$1"
		echo END
	} >"$ST.new"
	mv "$ST.new" "$ST"
}
good carol
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.1 --openvpn-status "$ST" tun0 || exit 1
send "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.1,sport=1000,dport=7,payload=10,count=1"
sleep 0.3
bad ""
sleep 0.3
send "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.1,sport=1001,dport=7,payload=10,count=2"
sleep 0.3
bad ",1"
sleep 0.3
send "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.1,sport=1002,dport=7,payload=10,count=3"
sleep 0.3
good dave
sleep 0.3
send "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.1,sport=1003,dport=7,payload=10,count=4"
sleep 0.3
tf_stop
check "exit status" "$TF_RC" 0
user_at() { jq -s -r "map(select(.type == \"flow\" and .dir == \"ingress\" and .sport == $1) | \"\(.user) \(.packets)\") | join(\",\")" "$TMP/out.json"; }
check "good file" "$(user_at 1000)" "carol 1"
check "malformed file: the last good state kept" "$(user_at 1001)" "carol 2"
check "another malformed file: still kept" "$(user_at 1002)" "carol 3"
check "a good file again: taken" "$(user_at 1003)" "dave 4"
check "malformed: said once" "$(grep -c "^tunflow: $ST:3: a malformed line (a row shorter than its HEADER, over 4096 bytes, or a NUL); keeping the last good state (said once; later ones are only counted)$" "$TMP/err")" 1
check "nothing else said" "$(grep -v "^tunflow: \(ready\|watching\|$ST:3\)" "$TMP/err" | wc -l)" 0
finish

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Interfaces that go as soon as they come (issue 10, defect 11): in tc mode tunflow
# makes a clsact qdisc and records it before attaching its filter; when the interface
# goes in between, the attach fails, and neither the qdisc nor its marker may stay.
# 300 tun interfaces created and deleted at once: no marker left in the state
# directory, while tunflow runs and after it.
SUITE=churn
. "$(dirname "$0")/lib.sh"
need jq

ns_new churn
for i in $(seq 0 299); do
	echo "tuntap add mode tun name c$i"
	echo "link set c$i up"
	echo "link del c$i"
done >"$TMP/batch"
tf_start "$NS" "$TMP/out.json" "$TMP/err" -o json -t 0.2 --attach tc 'c*' || { fail start "$(cat "$TMP/err")"; finish; }
for round in 1 2 3; do ip -n "$NS" -batch "$TMP/batch"; done
sleep 1
check "every interface watched went again" \
	"$(grep -c '^tunflow: watching c' "$TMP/err") gone" "$(grep -c '^tunflow: c[0-9]* is gone$' "$TMP/err") gone"
check "no qdisc marker left while running" "$(ls "$TUNFLOW_STATE_DIR" | grep -c '^qdisc-')" 0
tf_stop
check "exit status" "$TF_RC" 0
check "none watched at the end, no attach errors, no loss" "$(final_health "$TMP/out.json")" "[0,0,0,0]"
check "state directory empty after exit" "$(ls -A "$TUNFLOW_STATE_DIR")" ""
finish

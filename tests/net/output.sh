#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A closed or failing output ends tunflow cleanly: not killed by SIGPIPE, filters
# detached, the final counters on stderr, an exit status naming the cause (3: output
# failed, 4: the terminal went away).
SUITE=output
. "$(dirname "$0")/lib.sh"
need jq
need python3
filters() { tc -n "$NS" filter show dev tun0 "$1" | grep -c tunflow; }
qdiscs() { tc -n "$NS" qdisc show dev tun0 | grep -c clsact; }
send5() { ip netns exec "$NS" "$TUNPKT" tun0 "v=4,proto=udp,src=192.0.2.2,dst=192.0.2.99,sport=1,dport=2,count=5" 2>/dev/null; }
# wait_file FILE: until it exists (5 s at most)
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
# wait_ready ERRFILE
wait_ready() { for _ in $(seq 100); do grep -q "tunflow: ready" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# --- a reader that goes away: tunflow ... | head -c1
tun_ns pipe
bg bash -c "(ip netns exec $NS $TUNFLOW --attach tc -o json -t 0.1 tun0 2>$TMP/e1 & echo \$! >$TMP/pid1
	wait \$!; echo \$? >$TMP/rc1) | head -c1 >$TMP/h1"
wait_ready "$TMP/e1" || fail "pipe: start" "$(cat "$TMP/e1")"
PIDS+=("$(cat "$TMP/pid1")")
check "pipe: attached" "$(filters ingress) $(filters egress)" "1 1"
send5
wait_file "$TMP/rc1" || fail "pipe: exit" "tunflow still runs after its reader went"
check "pipe: exit status 3 (output failed), not 141 (SIGPIPE)" "$(cat "$TMP/rc1")" 3
check "pipe: the cause named" "$(grep -c 'stopped: standard output failed: Broken pipe' "$TMP/e1")" 1
check "pipe: final counters on stderr" "$(grep -c 'tunflow: final: 5 packets, 140 bytes in 1 flows' "$TMP/e1")" 1
check "pipe: filters removed" "$(filters ingress) $(filters egress)" "0 0"
check "pipe: the qdisc it made removed" "$(qdiscs)" 0

# --- a full disk
tun_ns full
bg bash -c "ip netns exec $NS $TUNFLOW --attach tc -o json -t 0.1 tun0 >/dev/full 2>$TMP/e2 &
	echo \$! >$TMP/pid2; wait \$!; echo \$? >$TMP/rc2"
wait_ready "$TMP/e2" || fail "full: start" "$(cat "$TMP/e2")"
PIDS+=("$(cat "$TMP/pid2")")
send5
wait_file "$TMP/rc2" || fail "full: exit" "tunflow still runs writing to /dev/full"
check "full: exit status 3" "$(cat "$TMP/rc2")" 3
check "full: the cause named" "$(grep -c 'stopped: standard output failed: No space left on device' "$TMP/e2")" 1
check "full: filters removed" "$(filters ingress) $(filters egress)" "0 0"

# --- the terminal goes away (its ssh or tmux session closed): the pty's master closes
tun_ns tty
cat >"$TMP/hangup.py" <<'PY'
import os, pty, select, sys, time
ns, tunflow, err = sys.argv[1:4]
open(err, "wb").close()
pid, fd = pty.fork()
if pid == 0:
    e = os.open(err, os.O_WRONLY | os.O_APPEND)
    os.dup2(e, 2)
    os.execvp("ip", ["ip", "netns", "exec", ns, tunflow, "--attach", "tc", "-t", "0.1", "tun0"])
deadline = time.time() + 5
while time.time() < deadline and b"tunflow: ready" not in open(err, "rb").read():
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try: os.read(fd, 65536)
        except OSError: break
print("ready", flush=True)
time.sleep(0.5)
os.close(fd)                     # the terminal goes away
deadline = time.time() + 5
while time.time() < deadline:
    p, status = os.waitpid(pid, os.WNOHANG)
    if p:
        print(os.waitstatus_to_exitcode(status))
        sys.exit(0)
    time.sleep(0.05)
os.kill(pid, 9)
print("still running")
PY
out=$(python3 "$TMP/hangup.py" "$NS" "$TUNFLOW" "$TMP/e3")
check "tty: tunflow ends when its terminal goes, exit status 4" "$(echo "$out" | tail -1)" 4
check "tty: the cause named" "$(grep -c 'stopped: the terminal went away' "$TMP/e3")" 1
check "tty: it had attached" "$(grep -c 'tunflow: ready, 1 interface' "$TMP/e3")" 1
check "tty: filters removed" "$(filters ingress) $(filters egress)" "0 0"
check "tty: the qdisc it made removed" "$(qdiscs)" 0
finish

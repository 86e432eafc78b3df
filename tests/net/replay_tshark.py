#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# What tshark derives from a capture under tunflow's documented key rules (docs/json.md
# "Flow keys", the man page's REPLAY), against what `tunflow -r` reported: every flow's
# packets and bytes and every loss counter. tshark dissects; this script only applies
# tunflow's rules to the fields tshark gives. Prints one line per disagreement and exits
# 1 if there is any.
#
# The rules, each where tunflow's documented semantics differ from tshark's own view:
#   R1 bytes:     a flow's bytes are the IP total length (ip.len, 40 + ipv6.plen), not
#                 the frame length tshark's conversations count.
#   R2 fragments: no reassembly (tshark runs with ip/ipv6.defragment off); the first
#                 fragment is keyed with its ports, later ones without (0, or 65535 for
#                 ICMP type/code).
#   R3 link:      IP only directly after Ethernet (at most two 802.1Q/802.1ad tags) or a
#                 cooked header's protocol; LLC/SNAP, MPLS, PPPoE, ... are non_ip, as live.
#   R4 tunnels:   keyed by the outer header only (tshark dissects the inner packets too).
#   R5 ICMP:      type and code in the key; ICMP numbered for the other family: 65535.
#   R6 malformed: one counter each, in tunflow's order (non_ip, bad_ihl, bad_len,
#                 truncated, ext_limit), from the header fields tshark shows.
#   R7 snap:      cut by the snap length inside the headers: snapped; cut after them: in
#                 its flow with its IP total length.
#   R8 too_big:   a recorded wire length over 65536 (what BPF_PROG_TEST_RUN describes)
#                 that decides the packet (its IP length reaches past 65536).
#   R9 where:     every flow on interface "pcap"; a cooked packet of type outgoing (4)
#                 is egress, every other ingress.
#   R10 lengths:  a recorded wire length below the captured length (fuzzed files) is
#                 taken as the captured length.
import ipaddress
import json
import subprocess
import sys

FIELDS = [
    "frame.len", "frame.cap_len", "eth.type", "vlan.etype", "sll.etype", "sll.pkttype",
    "ip.version", "ip.hdr_len", "ip.len", "ip.frag_offset", "ip.proto", "ip.src", "ip.dst",
    "ah.next_header", "ah.length",
    "ipv6.version", "ipv6.plen", "ipv6.nxt", "ipv6.src", "ipv6.dst",
    "ipv6.hopopts.nxt", "ipv6.hopopts.len", "ipv6.routing.nxt", "ipv6.routing.len",
    "ipv6.dstopts.nxt", "ipv6.dstopts.len", "ipv6.fraghdr.nxt", "ipv6.fraghdr.offset",
    "mip6.proto", "mip6.hlen",
    "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "sctp.srcport",
    "sctp.dstport", "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
]
EXT = {0: ("ipv6.hopopts.nxt", "ipv6.hopopts.len"), 43: ("ipv6.routing.nxt", "ipv6.routing.len"),
       60: ("ipv6.dstopts.nxt", "ipv6.dstopts.len"), 135: ("mip6.proto", "mip6.hlen"),
       51: ("ah.next_header", "ah.length"), 44: ("ipv6.fraghdr.nxt", "ipv6.fraghdr.offset")}
L4 = {6: ("tcp", 20), 17: ("udp", 8), 136: ("udp", 8), 132: ("sctp", 12)}
MAX_EXT = 8
COUNTERS = ["non_ip", "truncated", "bad_ihl", "bad_len", "ext_limit", "map_full", "no_map",
            "snapped", "too_big"]


class Verdict(Exception):
    """The frame lands in a counter."""


def num(v):
    return int(v, 0) if v.startswith("0x") else int(v)


def frame_key(f, link):
    """(key, bytes) of the frame, or raises Verdict(counter)."""
    wire, cap = num(f["frame.len"][0]), num(f["frame.cap_len"][0])
    wire = max(wire, cap)  # R10
    used = {}

    def nth(name):  # the next occurrence of a field, in dissection order
        i = used.get(name, 0)
        used[name] = i + 1
        vals = f.get(name, [])
        if i >= len(vals):
            raise Verdict("tshark-gave-no-" + name)
        return num(vals[i]) if not name.endswith(("src", "dst")) else vals[i]

    def need(at, n, end=None, base=0):
        """Header bytes [at, at+n) of the IP packet: inside end (the IP length) and the
        wire frame, and captured."""
        if end is not None and at + n > end:
            raise Verdict("truncated" if base + at + n > wire else "bad_len")
        if base + at + n > wire:
            raise Verdict("truncated")
        if base + at + n > cap:
            raise Verdict("snapped")

    direction = "ingress"
    if link == "sll":
        need(0, 16)
        if f.get("sll.pkttype") and num(f["sll.pkttype"][0]) == 4:
            direction = "egress"
        etype = num(f["sll.etype"][0]) if f.get("sll.etype") else 0
        base = 16
    else:
        need(0, 14)
        etype = num(f["eth.type"][0]) if f.get("eth.type") else 0
        base = 14
    tags = 0
    while etype in (0x8100, 0x88A8) and tags < 2:
        need(base, 4)
        # an 802.3 length after the tag: not IP (R3)
        etype = nth("vlan.etype") if used.get("vlan.etype", 0) < len(f.get("vlan.etype", [])) else 0
        base += 4
        tags += 1
    if etype not in (0x0800, 0x86DD):
        raise Verdict("non_ip")
    v6 = etype == 0x86DD
    need(0, 40 if v6 else 20, base=base)
    if nth("ipv6.version" if v6 else "ip.version") != (6 if v6 else 4):
        raise Verdict("non_ip")
    if v6:
        tot = 40 + nth("ipv6.plen")
        hlen = 40
    else:
        hlen = nth("ip.hdr_len")
        if hlen < 20:
            raise Verdict("bad_ihl")
        tot = nth("ip.len")
        if tot < hlen:
            raise Verdict("bad_len")
    if tot > wire - base:
        raise Verdict("truncated")
    if base + tot > 65536:  # R8: the test run carries no wire length over 65536
        raise Verdict("too_big")
    src = nth("ipv6.src" if v6 else "ip.src")
    dst = nth("ipv6.dst" if v6 else "ip.dst")
    sport = dport = 0
    cur = hlen

    def ext(at, end):
        need(at, 8, end, base)

    if v6:
        nxt = nth("ipv6.nxt")
        for _ in range(MAX_EXT):
            if nxt not in EXT:
                break
            ext(cur, tot)
            nf, lf = EXT[nxt]
            if nxt == 44:
                n2, off = nth(nf), nth(lf)
                cur += 8
                nxt = n2
                if off:  # R2: a later fragment
                    return key(direction, 6, nxt, src, dst, none=True), tot
                continue
            n2, ln = nth(nf), nth(lf)
            cur += (ln + 2) * 4 if nxt == 51 else (ln + 1) * 8
            nxt = n2
        else:
            if nxt in EXT:
                raise Verdict("ext_limit")
    else:
        nxt = nth("ip.proto")
        if nth("ip.frag_offset"):  # R2
            return key(direction, 4, nxt, src, dst, none=True), tot
        for _ in range(MAX_EXT):
            if nxt != 51:
                break
            ext(cur, tot)
            n2, ln = nth("ah.next_header"), nth("ah.length")
            cur += (ln + 2) * 4
            nxt = n2
        else:
            if nxt == 51:
                raise Verdict("ext_limit")
    if cur > tot:
        raise Verdict("truncated" if base + cur > wire else "bad_len")
    if nxt in (1, 58):
        if (nxt == 1) == v6:  # R5
            return key(direction, 6 if v6 else 4, nxt, src, dst, none=True), tot
        need(cur, 4, tot, base)
        p = "icmpv6" if v6 else "icmp"
        return key(direction, 6 if v6 else 4, nxt, src, dst, nth(p + ".type"),
                   nth(p + ".code")), tot
    if nxt in L4:
        p, n = L4[nxt]
        need(cur, n, tot, base)
        sport, dport = nth(p + ".srcport"), nth(p + ".dstport")
    return key(direction, 6 if v6 else 4, nxt, src, dst, sport, dport), tot


def key(direction, ver, proto, src, dst, sport=0, dport=0, none=False):
    if none:
        sport = dport = 65535 if proto in (1, 58) else 0
    return (direction, ver, proto, str(ipaddress.ip_address(src)),
            str(ipaddress.ip_address(dst)), sport, dport)


def tshark_cmd(path):
    cmd = ["tshark", "-r", path, "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|", "-E", "separator=\t"]
    for fld in FIELDS:
        cmd += ["-e", fld]
    return cmd + ["-e", "frame.protocols"]


def frames(lines):
    for line in lines:
        cols = line.rstrip("\n").split("\t")
        yield {n: (c.split("|") if c else []) for n, c in zip(FIELDS, cols)}, cols[-1]


def expected(frame_iter):
    flows, cnt = {}, dict.fromkeys(COUNTERS, 0)
    for f, protocols in frame_iter:
        link = "sll" if protocols.startswith("sll") else "eth"
        try:
            k, b = frame_key(f, link)
        except Verdict as v:
            cnt[v.args[0]] = cnt.get(v.args[0], 0) + 1
            continue
        p, by = flows.get(k, (0, 0))
        flows[k] = (p + 1, by + b)
    return flows, cnt


def reported(got_json):
    flows, cnt, bad = {}, {}, []
    with open(got_json) as fh:
        for line in fh:
            o = json.loads(line)
            if o["type"] == "counters":
                cnt = {c: o.get(c) for c in COUNTERS}
            elif o["type"] == "flow":
                if o["iface"] != "pcap":
                    bad.append(f"flow on interface {o['iface']}, not pcap (R9)")
                icmp = o["proto"] in (1, 58)
                k = (o["dir"], o["ip_version"], o["proto"], o["src"], o["dst"],
                     o["icmp_type"] if icmp else o["sport"],
                     o["icmp_code"] if icmp else o["dport"])
                p, by = flows.get(k, (0, 0))
                flows[k] = (p + o["packets"], by + o["bytes"])
    return flows, cnt, bad


def compare(want, got_json):
    """The disagreements, one line each."""
    (want_flows, want_cnt), (got_flows, got_cnt, bad) = want, reported(got_json)
    for k in sorted(set(want_flows) | set(got_flows), key=str):
        w, g = want_flows.get(k, (0, 0)), got_flows.get(k, (0, 0))
        if w != g:
            bad.append(f"flow {k}: tshark {w[0]} packets {w[1]} bytes, tunflow {g[0]} "
                       f"packets {g[1]} bytes")
    for c in sorted(set(want_cnt) | set(got_cnt)):
        if want_cnt.get(c, 0) != (got_cnt.get(c) or 0):
            bad.append(f"counter {c}: tshark {want_cnt.get(c, 0)}, tunflow {got_cnt.get(c)}")
    return bad


def main():
    """replay_tshark.py CAPTURE JSON: one capture, tshark run here.
    replay_tshark.py --batch MERGED COUNTS JSONDIR: MERGED is the captures concatenated
    (mergecap -a: one tshark run for all), COUNTS capinfos -c -T -r's lines (path,
    frames) in the same order, JSONDIR/NAME.json tunflow's output per capture. Prints "ok - NAME"
    or "not ok - NAME: ..." per capture."""
    if sys.argv[1] != "--batch":
        out = subprocess.run(tshark_cmd(sys.argv[1]), capture_output=True, text=True,
                             check=True).stdout
        want = expected(frames(out.splitlines()))
        bad = compare(want, sys.argv[2])
        for b in bad:
            print(b)
        print(f"# {len(want[0])} flows, counters "
              f"{json.dumps({c: n for c, n in want[1].items() if n})}")
        return 1 if bad else 0
    merged, counts, jdir = sys.argv[2:5]
    nbad = 0
    tsh = subprocess.Popen(tshark_cmd(merged), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    with open(counts) as cf:
        allf = frames(tsh.stdout)
        for line in cf:
            path, n = line.rstrip("\n").rsplit("\t", 1)
            name = path.rsplit("/", 1)[-1]
            want = expected(next(allf) for _ in range(int(n)))
            bad = compare(want, f"{jdir}/{name}.json")
            if bad:
                nbad += 1
                print(f"not ok - replay_tshark: {name}: " + "; ".join(bad[:5]) +
                      (f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""))
            else:
                pk = sum(p for p, _ in want[0].values())
                print(f"ok - replay_tshark: {name}: {len(want[0])} flows, {pk} packets in "
                      f"flows, counters {json.dumps({c: v for c, v in want[1].items() if v})}")
    if tsh.wait() or next(allf, None) is not None:
        print("not ok - replay_tshark: tshark failed, or gave more frames than capinfos")
        nbad += 1
    return 1 if nbad else 0


if __name__ == "__main__":
    sys.exit(main())

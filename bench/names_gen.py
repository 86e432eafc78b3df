#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A mixed capture for destination naming (bench/names_replay.sh, tests/net/names_replay.sh),
# written byte by byte (nanosecond pcap, Linux cooked: the client's packets ingress, the server's egress) from real payloads: dnsmasq's
# answers and OpenSSL's and GnuTLS's ClientHellos (tests/unit/data/), RFC 9001 and
# RFC 9369 Appendix A client Initials (tests/unit/names_vectors.h), curl-shaped HTTP/1.1
# requests. Each connection has its own addresses or ports (documentation prefixes);
# names are varied in place, same length (a DNS question's first label, the SNI's first
# label). Flows: DNS over UDP and over TCP (A and AAAA, CNAME chain), then a plain TCP
# connection (an SSH banner) to the answered address (named by DNS); TLS to several
# ports, every third ClientHello split over two segments; QUIC v1 and v2; HTTP.
#   names_gen.py PCAP TRUTH N   (prints the number of packets written)
# TRUTH: one line per flow (one direction of a connection):
#   kind proto src dst sport dport name source
#   names_gen.py score TRUTH JSON
# compares tunflow -r's JSON flows (a flow's last line) with TRUTH: per kind, the flows
# written, those in the output, named, named right (name and source), and every wrong one.
import os
import random
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "unit", "data")
T0 = 1700000000
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def data(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def vector(name):
    with open(os.path.join(HERE, "..", "tests", "unit", "names_vectors.h")) as f:
        text = f.read()
    body = text.split("#define " + name, 1)[1].split("#define", 1)[0]
    return bytes.fromhex("".join(re.findall(r'"([0-9a-f]+)"', body)))


def label(i, n):
    s = ""
    for _ in range(n):
        s = B36[i % 36] + s
        i //= 36
    return s


def v4(s):
    return bytes(int(x) for x in s.split("."))


def v6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def ntoa(b):
    import ipaddress
    return str(ipaddress.ip_address(b))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(src, dst, proto, l4):
    if len(src) == 4:
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0x4000, 64, proto, 0,
                        src, dst)
        return h[:10] + struct.pack("!H", csum(h)) + h[12:] + l4
    return struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, src, dst) + l4


def udp(src, dst, sport, dport, payload):
    return ip(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    return ip(src, dst, 6, struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                                       65535, 0, 0) + payload)


SYN, ACK, PSH = 0x02, 0x10, 0x08


def tcp_conn(c, s, cp, sp, segments, replies=()):
    """A handshake, the client's segments (each acknowledged), then the server's."""
    cs, ss = 1000, 5000
    out = [tcp(c, s, cp, sp, cs, 0, SYN), tcp(s, c, sp, cp, ss, cs + 1, SYN | ACK),
           tcp(c, s, cp, sp, cs + 1, ss + 1, ACK)]
    cs += 1
    ss += 1
    for seg in segments:
        out.append(tcp(c, s, cp, sp, cs, ss, PSH | ACK, seg))
        cs += len(seg)
        out.append(tcp(s, c, sp, cp, ss, cs, ACK))
    for seg in replies:
        out.append(tcp(s, c, sp, cp, ss, cs, PSH | ACK, seg))
        ss += len(seg)
    return out


def score(truth_path, json_path):
    import json
    got = {}
    with open(json_path) as f:
        for line in f:
            o = json.loads(line)
            if o.get("type") == "flow":
                got[(o["proto_name"], o["src"], o["dst"], o["sport"], o["dport"])] = (
                    o.get("name"), o.get("name_source"))
    rows, wrong = {}, []
    with open(truth_path) as f:
        for line in f:
            kind, proto, src, dst, sport, dport, name, source = line.split()
            r = rows.setdefault(kind, [0, 0, 0, 0])
            r[0] += 1
            g = got.get((proto, src, dst, int(sport), int(dport)))
            if g is None:
                wrong.append("missing " + line.strip())
                continue
            r[1] += 1
            r[2] += g[0] is not None
            if g == (name, source):
                r[3] += 1
            else:
                wrong.append("%s got %s %s" % (line.strip(), g[0], g[1]))
    for kind in ("dns", "plain", "tls", "quic", "http"):
        if kind in rows:
            print(kind, *rows[kind])
    for w in wrong:
        print("wrong", w)


def main():
    if sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3])
        return
    path, truth_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rnd = random.Random(12)
    dns_a, dns_aaaa = data("dns_dnsmasq_a.bin"), data("dns_dnsmasq_aaaa.bin")
    ch_ossl, ch_gnutls = data("clienthello_openssl.bin"), data("clienthello_gnutls.bin")
    q1, q2 = vector("RFC9001_CLIENT_INITIAL"), vector("RFC9369_CLIENT_INITIAL")
    assert dns_a[12:16] == b"\3www" and dns_aaaa[12:16] == b"\3www"
    o_sni, g_sni = ch_ossl.index(b"shop.example"), ch_gnutls.index(b"cdn.example")
    conns = []
    clients = set()
    truth = []
    port = [20000]

    def cport():
        port[0] += 1
        if port[0] > 65000:
            port[0] = 20000
        return port[0]

    def client(i, six):
        clients.add(v6("2001:db8:c::%x" % (i % 4000 + 1)) if six
                    else v4("192.0.2.%d" % (i % 200 + 1)))
        return (v6("2001:db8:c::%x" % (i % 4000 + 1)) if six
                else v4("192.0.2.%d" % (i % 200 + 1)))

    def flows(kind, proto, c, s, cp, sp, name, src, both=True):
        lines = ["%s %s %s %s %d %d %s %s" % (kind, proto, ntoa(c), ntoa(s), cp, sp, name,
                                               src)]
        if both:
            lines.append("%s %s %s %s %d %d %s %s" % (kind, proto, ntoa(s), ntoa(c), sp, cp,
                                                      name, src))
        return lines

    for i in range(n):
        k = i % 5
        if k == 0:   # DNS answer, then a plain TCP connection to the address
            six = (i // 5) % 2 == 1 or i >= 5 * 500
            j = i // 5
            name = label(j, 3) + ".shop.example"
            msg = bytearray(dns_aaaa if six else dns_a)
            msg[13:16] = label(j, 3).encode()
            msg[0:2] = struct.pack("!H", j & 0xFFFF)
            addr = (v6("2001:db8:2::%x" % (j + 1)) if six
                    else v4("203.0.113.%d" % (j // 2 % 254 + 1)))
            msg[-len(addr):] = addr
            c = client(i, six)
            srv = v6("2001:db8::53") if six else v4("192.0.2.253")
            q = bytearray(msg[:12]) + msg[12:msg.index(b"\0", 12) + 5]
            q[2:4], q[6:8] = b"\x01\x00", b"\0\0"
            cp = cport()
            if j % 3 == 2:   # DNS over TCP: two-byte length before each message
                pk = tcp_conn(c, srv, cp, 53, [struct.pack("!H", len(q)) + bytes(q)],
                              [struct.pack("!H", len(msg)) + bytes(msg)])
                lines = flows("dns", "tcp", c, srv, cp, 53, name, "dns")
            else:
                pk = [udp(c, srv, cp, 53, bytes(q)), udp(srv, c, 53, cp, bytes(msg))]
                lines = flows("dns", "udp", c, srv, cp, 53, name, "dns")
            cp2 = cport()
            sp = (22, 8022, 5222)[j % 3]
            pk += tcp_conn(c, addr, cp2, sp, [b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"])
            lines += flows("plain", "tcp", c, addr, cp2, sp, name, "dns")
        elif k in (1, 2):   # TLS
            j = i // 5 * 2 + (k - 1)
            six = j % 4 == 3
            if j % 2 == 0:
                ch = bytearray(ch_ossl)
                ch[o_sni:o_sni + 4] = label(j, 4).encode()
                name = label(j, 4) + ".example"
            else:
                ch = bytearray(ch_gnutls)
                ch[g_sni:g_sni + 3] = label(j, 3).encode()
                name = label(j, 3) + ".example"
            c = client(i, six)
            s = (v6("2001:db8:1::%x" % (j % 250 + 1)) if six
                 else v4("198.51.100.%d" % (j % 250 + 1)))
            sp = (443, 8443, 993, 5061, 4433, 853)[j % 6]
            cp = cport()
            if j % 3 == 0:
                cut = rnd.randrange(6, len(ch) - 1)
                segs = [bytes(ch[:cut]), bytes(ch[cut:])]
            else:
                segs = [bytes(ch)]
            pk = tcp_conn(c, s, cp, sp, segs)
            lines = flows("tls", "tcp", c, s, cp, sp, name, "tls")
        elif k == 3:   # QUIC v1 or v2 client Initial
            j = i // 5
            six = j % 4 == 1
            c = client(i, six)
            s = (v6("2001:db8:1::%x" % (j % 250 + 1)) if six
                 else v4("198.51.100.%d" % (j % 250 + 1)))
            cp = cport()
            pk = [udp(c, s, cp, 443, q2 if j % 2 else q1)]
            lines = flows("quic", "udp", c, s, cp, 443, "example.com", "quic", both=False)
        else:   # HTTP/1.1
            j = i // 5
            six = j % 4 == 2
            name = "h" + label(j, 4) + ".example"
            meth = ("GET", "POST", "HEAD", "PUT", "OPTIONS")[j % 5]
            req = ("%s /index.html HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n"
                   "Accept: */*\r\n\r\n" % (meth, name)).encode()
            c = client(i, six)
            s = (v6("2001:db8:1::%x" % (j % 250 + 1)) if six
                 else v4("198.51.100.%d" % (j % 250 + 1)))
            sp = (80, 8080, 8000, 3128)[j % 4]
            cp = cport()
            pk = tcp_conn(c, s, cp, sp, [req])
            lines = flows("http", "tcp", c, s, cp, sp, name, "http")
        conns.append(pk)
        truth += lines
    # interleave: connection i starts at i ms; its packets 100 us apart
    timed = []
    for i, pk in enumerate(conns):
        start = i * 1000000 + rnd.randrange(0, 300000)
        for p, frame in enumerate(pk):
            timed.append((start + p * 100000, i, p, frame))
    timed.sort()
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 113))
        for ns, _, _, frame in timed:
            v = frame[0] >> 4
            src = frame[12:16] if v == 4 else frame[8:24]
            # Linux cooked (tcpdump -i any): the server's packets are outgoing (type 4,
            # egress), the client's come in (type 0, ingress), as on a VPN server's tun
            frame = struct.pack("!HHH8sH", 0 if src in clients else 4, 0xFFFE, 0, bytes(8),
                                0x0800 if v == 4 else 0x86DD) + frame
            f.write(struct.pack("<IIII", T0 + ns // 1000000000, ns % 1000000000, len(frame),
                                len(frame)) + frame)
    with open(truth_path, "w") as f:
        f.write("\n".join(truth) + "\n")
    print(len(timed))   # packets written


if __name__ == "__main__":
    main()

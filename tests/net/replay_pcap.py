#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Captures for tests/net/replay.sh, written byte by byte (nanosecond pcap): one per link
# type tunflow replays, with timestamps, snap lengths and malformed frames chosen here.
#   replay_pcap.py DIR
import os
import struct
import sys

T = 1700000000  # 2023-11-14T22:13:20Z
A, B = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
A6 = bytes.fromhex("20010db8000000000000000000000001")
B6 = bytes.fromhex("20010db8000000000000000000000002")


def udp4(src, dst, sport, dport, payload=20, tot=None):
    length = 28 + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot or length, 1, 0, 64, 17, 0, src, dst)
    return ip + struct.pack("!HHHH", sport, dport, 8 + payload, 0) + bytes(payload)


def udp6(src, dst, sport, dport, payload=20):
    ip = struct.pack("!IHBB16s16s", 6 << 28, 8 + payload, 17, 64, src, dst)
    return ip + struct.pack("!HHHH", sport, dport, 8 + payload, 0) + bytes(payload)


def eth(payload, etype=0x0800):
    return bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + struct.pack("!H", etype) + payload


def pcap(path, linktype, packets):
    """packets: (seconds, nanoseconds, frame, captured length or None)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        for sec, ns, frame, cap in packets:
            data = frame[:cap] if cap is not None else frame
            f.write(struct.pack("<IIII", sec, ns, len(data), len(frame)) + data)


def main():
    d = sys.argv[1]
    flow = udp4(A, B, 1000, 53)        # IP total length 48
    back = udp4(B, A, 53, 1000)
    arp = eth(bytes(28), 0x0806)
    pcap(os.path.join(d, "eth.pcap"), 1, [
        (T, 123000000, eth(flow), None),
        (T, 456999999, eth(flow), 42),       # cut after its UDP header: in its flow
        (T, 500000000, eth(back), None),
        (T, 600000000, arp, None),           # non_ip
        (T, 700000000, eth(flow), 30),       # cut inside its IP header: snapped
        (T, 800000000, eth(udp4(A, B, 1000, 53, tot=100)), None),  # longer than the frame
        (T + 5, 250000000, eth(flow), None),
    ])

    def single(name, linktype, frame):
        pcap(os.path.join(d, name), linktype, [(T, 0, frame, None)])

    # cooked: packet type 4 (outgoing) is egress, 0 (to us) ingress
    sll = lambda ptype, ip, proto=0x0800: (struct.pack("!HHH8sH", ptype, 1, 6, bytes(8), proto)
                                          + ip)
    pcap(os.path.join(d, "sll.pcap"), 113, [(T, 0, sll(4, flow), None),
                                           (T, 1000000, sll(0, back), None),
                                           (T, 2000000, sll(0, bytes(28), 0x0806), None)])
    sll2 = lambda ptype, ip: (struct.pack("!HHIHBB8s", 0x0800, 0, 7, 1, ptype, 6, bytes(8))
                              + ip)
    pcap(os.path.join(d, "sll2.pcap"), 276, [(T, 0, sll2(4, flow), None),
                                            (T, 1000000, sll2(0, back), None)])
    # 62-byte frames cut at 14..42 bytes (42: headers whole), then short ARP frames
    pcap(os.path.join(d, "sizes.pcap"), 1,
         [(T, cap, eth(flow), cap) for cap in range(14, 43)] +
         [(T, 100 + n, eth(bytes(28), 0x0806)[:n], None) for n in range(14, 20)])
    single("raw.pcap", 101, flow)
    single("ipv4.pcap", 228, flow)
    single("ipv6.pcap", 229, udp6(A6, B6, 1000, 53))
    single("null.pcap", 0, struct.pack("<I", 2) + flow)            # AF_INET, little endian
    single("null6.pcap", 0, struct.pack(">I", 30) + udp6(A6, B6, 1000, 53))  # macOS, big
    single("loop.pcap", 108, struct.pack(">I", 24) + udp6(A6, B6, 1000, 53))  # OpenBSD
    single("wifi.pcap", 105, bytes(40))                             # 802.11: refused
    with open(os.path.join(d, "eth.pcap"), "rb") as f:
        whole = f.read()
    with open(os.path.join(d, "cut.pcap"), "wb") as f:  # ends inside the third packet
        f.write(whole[:24 + 2 * 16 + 90 + 42 + 16 + 30])
    with open(os.path.join(d, "text.pcap"), "w") as f:
        f.write("not a capture\n")


if __name__ == "__main__":
    main()

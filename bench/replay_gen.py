#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# A large capture for bench/replay.sh: N Ethernet frames (nanosecond pcap) over F flows,
# IPv4 and IPv6, TCP and UDP, 64 to 1400 bytes, 10 microseconds apart.
#   replay_gen.py FILE N F
import random
import struct
import sys


def main():
    path, n, nflows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(1)
    frames = []
    for i in range(nflows):
        v6, tcp = i % 4 == 3, i % 2 == 0
        size = rnd.choice((64, 576, 1400))
        sport, dport = 1024 + i % 60000, (443, 53, 80, 51820)[i % 4]
        l4 = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 0x50, 0x10, 65535, 0, 0) if tcp \
            else struct.pack("!HHHH", sport, dport, size - (48 if v6 else 28), 0)
        proto = 6 if tcp else 17
        if v6:
            ip = struct.pack("!IHBB", 6 << 28, size - 40, proto, 64) + \
                bytes.fromhex("20010db8") + struct.pack("!12x") + \
                bytes.fromhex("20010db8000000000000000000") + struct.pack("!I", i)[1:]
            etype = 0x86DD
        else:
            ip = struct.pack("!BBHHHBBH", 0x45, 0, size, 0, 0, 64, proto, 0) + \
                bytes([198, 51, 100, 1]) + bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
            etype = 0x0800
        pkt = ip + l4
        frame = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + struct.pack("!H", etype) + pkt
        frame += bytes(14 + size - len(frame))
        frames.append(frame)
    t = 1700000000 * 10**9
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        out = []
        for i in range(n):
            fr = frames[rnd.randrange(nflows)]
            t += 10000
            out.append(struct.pack("<IIII", t // 10**9, t % 10**9, len(fr), len(fr)) + fr)
            if len(out) == 65536:
                f.write(b"".join(out))
                out = []
        f.write(b"".join(out))


if __name__ == "__main__":
    main()

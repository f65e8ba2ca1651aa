"""A SYN flood, bounded in time and count, from the pod namespace this runs in.

Raw TCP SYNs from random source ports to one address and port: every one is a new connection
to the ruleset, never answered. Only for the sandbox: the destination must be in 198.18.0.0/16
(the sandbox's pod range), or nothing is sent.

    ip netns exec POD_NETNS python -m bench.flows.flood --dst 198.18.250.2 --port 5299 \\
        --seconds 2 --max-packets 300000

Prints `{"sent": N, "seconds": S}`.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import random
import socket
import struct
import sys
import time

SANDBOX = ipaddress.IPv4Network("198.18.0.0/16")


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn(src: bytes, dst: bytes, sport: int, dport: int, seq: int) -> bytes:
    """An IPv4 header (length and checksum left to the kernel) and a TCP SYN."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 0, 0, 0, 64, socket.IPPROTO_TCP, 0, src, dst)
    return ip + tcp


def _source(dst: str) -> bytes:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((dst, 9))
    address = probe.getsockname()[0]
    probe.close()
    return socket.inet_aton(address)


def flood(dst: str, port: int, seconds: float, max_packets: int) -> tuple[int, float]:
    src, target = _source(dst), socket.inet_aton(dst)
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rng = random.Random(1)
    sent = 0
    started = time.monotonic()
    deadline = started + seconds
    try:
        for attempt in range(max_packets):
            if attempt % 256 == 0 and time.monotonic() >= deadline:
                break
            packet = syn(src, target, rng.randrange(1024, 65536), port, rng.getrandbits(32))
            try:
                sock.sendto(packet, (dst, 0))
            except OSError:
                continue  # a full queue: the flood goes on
            sent += 1
    finally:
        sock.close()
    return sent, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dst", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--max-packets", type=int, default=300_000)
    args = ap.parse_args(argv)
    if ipaddress.IPv4Address(args.dst) not in SANDBOX:
        print(f"flood: {args.dst} is outside the sandbox range {SANDBOX}", file=sys.stderr)
        return 2
    sent, seconds = flood(args.dst, args.port, min(args.seconds, 10.0), args.max_packets)
    print(json.dumps({"sent": sent, "seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Real connection attempts from inside a pod's network namespace, upstream-probe style.

A TCP probe succeeds when the handshake completes; a UDP probe when the server's reply
arrives. Anything else (timeout, refusal) is a failure; failures are retried once, as upstream's
prober retries, so a slow start is not mistaken for a policy.
"""

from __future__ import annotations

import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from podwall.model.ports import Protocol
from podwall.runtime.netns import run_in_netns

MAX_PARALLEL = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    netns: str  # the source pod's namespace
    address: str
    port: int
    protocol: Protocol


def try_once(attempt: Attempt, timeout: float) -> bool:
    def work() -> bool:
        if attempt.protocol is Protocol.UDP:
            return _udp(attempt, timeout)
        return _tcp(attempt, timeout)

    return run_in_netns(attempt.netns, work)


def _tcp(attempt: Attempt, timeout: float) -> bool:
    try:
        with socket.create_connection((attempt.address, attempt.port), timeout=timeout):
            return True
    except OSError:
        return False


def _udp(attempt: Attempt, timeout: float) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((attempt.address, attempt.port))
            sock.send(b"podwall probe\n")
            return bool(sock.recv(512))
        except OSError:
            return False


def try_all(attempts: list[Attempt], timeout: float = 1.0, tries: int = 2) -> list[bool]:
    """Run every attempt concurrently; each gets up to `tries` tries."""

    def one(attempt: Attempt) -> bool:
        return any(try_once(attempt, timeout) for _ in range(tries))

    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, max(1, len(attempts)))) as pool:
        return list(pool.map(one, attempts))


def sctp_supported() -> bool:
    """Whether this kernel can open SCTP sockets at all."""
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_SCTP)
    except OSError:
        return False
    sock.close()
    return True

"""TCP load programs run inside a pod namespace: `python -m bench.dataplane.tcp MODE ...`.

Standard library only. Every program is bounded in time (and count or bytes) and prints one
JSON line on stdout. Modes:

- `serve`: listen on a port (`--kind crr`: read 1 byte, answer 1 byte, close; `--kind sink`:
  read until EOF), in `--procs` forked processes sharing the socket, for `--lifetime` seconds
  at most; prints `{"ready": true}` once listening.
- `crr`: connect, send 1 byte, read 1 byte, close, in a loop, in `--procs` processes, for
  `--seconds` (and at most `--max-count` connections per process).
- `bulk`: one connection, `sendall` of 256 KiB chunks for `--seconds` (at most `--max-bytes`),
  then half-close and wait for the server's close, so every byte was received.
- `probe`: one connect with a 0.5 s timeout: `open`, `refused` or `timeout`.
- `agent`: keeps `--procs` client processes and reads commands on stdin, one a line:
  `crr SECONDS`, `lat SECONDS` or `bulk SECONDS` (one JSON line answered each), until EOF,
  `--max-commands` or `--lifetime` seconds. Slices cost no process start-up, so they can be
  short. `lat` runs the `crr` loop one connection at a time in the agent itself and answers
  quantiles of the time per connection: the low ones are the runs nothing else got in the
  way of, so they hold up on a busy machine where rates do not.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import sys
import time
from multiprocessing.pool import Pool

CHUNK = 256 * 1024
CONNECT_TIMEOUT = 1.0


def serve(port: int, kind: str, procs: int, lifetime: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    sock.listen(4096)
    print(json.dumps({"ready": True}), flush=True)
    for _ in range(procs - 1):
        if os.fork() == 0:
            break
    signal.alarm(lifetime)  # not inherited by fork: every process sets its own
    handle = _answer if kind == "crr" else _drain
    while True:
        conn, _ = sock.accept()
        try:
            handle(conn)
        except OSError:
            pass
        finally:
            conn.close()


def _answer(conn: socket.socket) -> None:
    conn.recv(1)
    conn.sendall(b"y")


def _drain(conn: socket.socket) -> None:
    buf = bytearray(1 << 20)
    while conn.recv_into(buf):
        pass


def _crr_worker(host: str, port: int, start: float, deadline: float, max_count: int) -> list[int]:
    time.sleep(max(0.0, start - time.monotonic()))
    ok = errors = 0
    while ok + errors < max_count and time.monotonic() < deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(CONNECT_TIMEOUT)
        try:
            s.connect((host, port))
            s.sendall(b"x")
            if s.recv(1) == b"y":
                ok += 1
            else:
                errors += 1
        except OSError:
            errors += 1
        finally:
            s.close()
    return [ok, errors]


def latency(host: str, port: int, seconds: float, max_count: int) -> dict[str, float]:
    """Sequential connect/request/response/close: p10 and p50 microseconds per connection."""
    times: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds
    while len(times) + errors < max_count and time.monotonic() < deadline:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(CONNECT_TIMEOUT)
        started = time.perf_counter()
        try:
            s.connect((host, port))
            s.sendall(b"x")
            answered = s.recv(1) == b"y"
        except OSError:
            answered = False
        finally:
            s.close()
        if answered:
            times.append((time.perf_counter() - started) * 1e6)
        else:
            errors += 1
    times.sort()
    p10 = times[len(times) // 10] if times else 0.0
    p50 = times[len(times) // 2] if times else 0.0
    return {"connections": len(times), "errors": errors, "p10_us": p10, "p50_us": p50}


def crr(host: str, port: int, seconds: float, procs: int, max_count: int) -> dict[str, float]:
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        return _crr_slice(pool, procs, host, port, seconds, max_count, lead=0.3)


def _crr_slice(
    pool: Pool, procs: int, host: str, port: int, seconds: float, max_count: int, lead: float
) -> dict[str, float]:
    start = time.monotonic() + lead  # every worker waiting by then
    deadline = start + seconds
    counts = pool.starmap(_crr_worker, [(host, port, start, deadline, max_count)] * procs)
    ok = sum(c[0] for c in counts)
    errors = sum(c[1] for c in counts)
    return {"connections": ok, "errors": errors, "seconds": seconds, "per_second": ok / seconds}


def bulk(host: str, port: int, seconds: float, max_bytes: int) -> dict[str, float]:
    chunk = b"\0" * CHUNK
    sent = 0
    with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT) as s:
        s.settimeout(10.0)
        started = time.monotonic()
        deadline = started + seconds
        while sent < max_bytes and time.monotonic() < deadline:
            s.sendall(chunk)
            sent += CHUNK
        s.shutdown(socket.SHUT_WR)
        s.recv(1)  # EOF: the server read everything
        elapsed = time.monotonic() - started
    return {"bytes": sent, "seconds": elapsed, "gbit_per_second": sent * 8 / elapsed / 1e9}


def agent(host: str, ports: tuple[int, int], procs: int, lifetime: int, commands: int) -> None:
    """Answer `crr SECONDS` / `bulk SECONDS` lines from stdin; see the module docstring."""
    signal.alarm(lifetime)
    with multiprocessing.get_context("fork").Pool(procs) as pool:
        for _, line in zip(range(commands), sys.stdin, strict=False):
            verb, seconds = line.split()
            if verb == "crr":
                out = _crr_slice(pool, procs, host, ports[0], float(seconds), 1_000_000, 0.02)
            elif verb == "lat":
                out = latency(host, ports[0], float(seconds), 1_000_000)
            else:
                out = bulk(host, ports[1], float(seconds), 64 << 30)
            print(json.dumps(out), flush=True)


def probe(host: str, port: int) -> dict[str, str]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    try:
        s.connect((host, port))
        result = "open"
    except ConnectionRefusedError:
        result = "refused"
    except TimeoutError:
        result = "timeout"
    except OSError as exc:
        result = f"error: {exc}"
    finally:
        s.close()
    return {"probe": result}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="TCP load programs for bench_dataplane.py")
    ap.add_argument("mode", choices=["serve", "crr", "bulk", "probe", "agent"])
    ap.add_argument("--host", default="0.0.0.0")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--kind", choices=["crr", "sink"], default="crr")
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--lifetime", type=int, default=120)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--max-count", type=int, default=200_000)
    ap.add_argument("--max-bytes", type=int, default=64 << 30)
    ap.add_argument("--bulk-port", type=int, default=0)
    ap.add_argument("--max-commands", type=int, default=1000)
    a = ap.parse_args(argv)
    if a.mode == "agent":
        agent(a.host, (a.port, a.bulk_port), a.procs, a.lifetime, a.max_commands)
        return 0
    if a.mode == "serve":
        serve(a.port, a.kind, a.procs, a.lifetime)
        return 0
    out: dict[str, float] | dict[str, str]
    if a.mode == "crr":
        out = crr(a.host, a.port, a.seconds, a.procs, a.max_count)
    elif a.mode == "bulk":
        out = bulk(a.host, a.port, a.seconds, a.max_bytes)
    else:
        out = probe(a.host, a.port)
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

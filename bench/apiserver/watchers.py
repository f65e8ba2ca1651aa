"""Watch streams in a process of their own, so reading events never waits for the writers.

    python -m bench.apiserver.watchers PORT TOKEN CA SECONDS PATH=COUNT [PATH=COUNT ...]

Opens one watch per argument, prints `ready` once every stream is open, then reads until each
stream has seen COUNT ADDED events (or SECONDS passed), and prints one JSON line: per stream its
path, error and events as [arrival (time.monotonic(), which every process on the machine
shares), type, name, resourceVersion]. It exits when its standard input closes, at the latest.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

from bench.apiserver.client import Endpoint, Watcher


def main(argv: list[str]) -> int:
    port, token, ca, seconds = int(argv[0]), argv[1], argv[2], float(argv[3])
    endpoint = Endpoint(port, token, ca)
    wanted = [(path, int(count)) for path, _, count in (a.rpartition("=") for a in argv[4:])]
    streams = [Watcher(endpoint, path) for path, _ in wanted]
    for stream in streams:
        stream.start()
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    print("ready", flush=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = [sum(1 for e in s.events if e.type == "ADDED") for s in streams]
        if all(c >= n for c, (_, n) in zip(counts, wanted, strict=True)):
            break
        time.sleep(0.05)
    for stream in streams:
        stream.stop()
    report = [
        {
            "path": s.path,
            "error": s.error,
            "events": [[e.at, e.type, e.name, e.resource_version] for e in s.events],
        }
        for s in streams
    ]
    print(json.dumps(report), flush=True)
    return 0


def _exit_with_parent() -> None:
    sys.stdin.read()
    time.sleep(1)  # the report may be on its way
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

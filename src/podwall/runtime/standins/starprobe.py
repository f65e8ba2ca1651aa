"""Stand-in for `calico/star-probe`, the probe of Calico's stars policy demo (projectcalico/star's
`star-probe`, run in the demo as `probe --http-port=... --urls=...`).

As upstream: options `--urls` (comma-separated, required), `--http-address` (0.0.0.0),
`--http-port` (9000), `--http-probe-seconds` (5) and `--logfile`; every target starts
unreachable; every probe interval (the first one interval after start) each URL gets a GET, and a
target is reachable when any HTTP answer comes back (a 404 too), unreachable when none does.
`GET /status` answers the last results as upstream's serializer writes them, compact, keys
sorted: `{"status":{"targets":[{"reachable":true,"url":"http://..."}]}}`; anything else is 404
with no body.

Not reproduced: targets are listed in `--urls` order (upstream's order is a hash map's); each
GET times out after a few seconds (upstream's never does, see `starshared`); only `http://`
URLs are probed; the log says when a target changes state, not every probe.

Run as `python -m podwall.runtime.standins.starprobe ARGS...`; it drops to the pod's uid at
start.
"""

from __future__ import annotations

import http.server
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from podwall.runtime.standins.privileges import drop_privileges
from podwall.runtime.standins.starshared import (
    JSON,
    FetchError,
    HelpRequested,
    Reply,
    UsageError,
    configure_logging,
    get,
    in_parallel,
    listen,
    number,
    parse_flags,
    run_rounds,
    send,
)

log = logging.getLogger("star-probe")

FLAGS = ("urls", "http-address", "http-port", "http-probe-seconds", "logfile")
USAGE = """\
Usage:
    star-probe --help
    star-probe --urls=<urls> [--http-address=<address> --http-port=<port> \
--http-probe-seconds=<seconds> --logfile=<path>]
"""

Getter = Callable[[str], Reply]


@dataclass(frozen=True, slots=True)
class Options:
    urls: tuple[str, ...]
    address: str = "0.0.0.0"
    port: int = 9000
    probe_seconds: int = 5
    logfile: str | None = None


def parse(args: Sequence[str]) -> Options:
    """The options of `args`; UsageError or HelpRequested as docopt would stop."""
    values = parse_flags(args, FLAGS)
    if "urls" not in values:
        raise UsageError("Missing required flag: '--urls'")
    return Options(
        urls=tuple(url for url in values["urls"].split(",") if url),
        address=values.get("http-address", "0.0.0.0"),
        port=number(values, "http-port", 9000),
        probe_seconds=number(values, "http-probe-seconds", 5),
        logfile=values.get("logfile"),
    )


class StatusCache:
    """Each target's last result (unreachable until probed), shared by the probes and the
    HTTP handler."""

    def __init__(self, urls: Sequence[str]) -> None:
        self._lock = threading.Lock()
        self._state = dict.fromkeys(urls, False)

    def record(self, url: str, reachable: bool) -> None:
        with self._lock:
            if url not in self._state:
                log.warning("Received update state for unknown target [%s]", url)
                return
            changed = self._state[url] != reachable
            self._state[url] = reachable
        if changed:
            log.info("Target [%s] is now %s.", url, "reachable" if reachable else "unreachable")

    def status(self) -> dict[str, Any]:
        with self._lock:
            targets = [{"reachable": r, "url": url} for url, r in self._state.items()]
        return {"status": {"targets": targets}}


def reached(url: str, getter: Getter = get) -> bool:
    """Whether `GET url` gets any HTTP answer."""
    try:
        getter(url)
    except FetchError:
        return False
    return True


def probe_round(cache: StatusCache, urls: Sequence[str], getter: Getter = get) -> None:
    """Probe every target at once and record the results."""
    in_parallel(urls, lambda url: cache.record(url, reached(url, getter)))


def answer(method: str, path: str, cache: StatusCache) -> tuple[int, str, bytes]:
    """Status, content type and body: only `GET /status` is served."""
    if method == "GET" and path == "/status":
        return 200, JSON, json.dumps(cache.status(), separators=(",", ":")).encode()
    return 404, "", b""


def handler(cache: StatusCache) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            send(self, *answer("GET", self.path, cache))

        def do_POST(self) -> None:
            send(self, *answer("POST", self.path, cache))

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.client_address[0], format % args)

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    drop_privileges()
    try:
        options = parse(sys.argv[1:] if argv is None else argv)
    except HelpRequested:
        print(USAGE, end="")
        return 0
    except UsageError as exc:
        print(f"{exc}\n\n{USAGE}", end="", file=sys.stderr)
        return 1
    configure_logging(options.logfile)
    log.info("Target URLs: %s", list(options.urls))
    cache = StatusCache(options.urls)
    server = listen(options.address, options.port, handler(cache))
    stop = threading.Event()
    rounds = threading.Thread(
        target=run_rounds,
        args=(options.probe_seconds, lambda: probe_round(cache, options.urls), stop),
        daemon=True,
    )
    rounds.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info("Starting HTTP server on [%s:%d]", options.address, options.port)
    with server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

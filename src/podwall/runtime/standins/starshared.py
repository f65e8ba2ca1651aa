"""What the stand-ins for `calico/star-probe` and `calico/star-collect` share: their long
options, one bounded HTTP GET, rounds of GETs, and their listener.

Upstream (projectcalico/star, in Rust) parses its options with docopt (`--name=value` or
`--name value`, `--help`), and each round sends `GET url` with `Connection: close` to every
target from a pool of four threads, with no timeout. Here every GET has a timeout (`TIMEOUT`
seconds to connect, and for each read), so a connection a NetworkPolicy drops counts as failed
within seconds rather than after the kernel's SYN retries (about two minutes); a round waits for
its GETs, so rounds never pile up (a name lookup is bounded by the resolver, not by `TIMEOUT`).

I/O: `get` and `listen` (sockets), `in_parallel` and `run_rounds` (threads),
`configure_logging` (stdout or a file).
"""

from __future__ import annotations

import http.client
import http.server
import logging
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from podwall.runtime.standins.jsonmock import Server
from podwall.runtime.standins.serving import LOG_FORMAT

TIMEOUT = 3.0
MAX_BODY = 1 << 20
ANY_ADDRESS = ("", "0.0.0.0", "::")
JSON = "application/json; charset=utf-8"
T = TypeVar("T")


class UsageError(Exception):
    """Arguments the program does not take: print the message and the usage, exit 1."""


class HelpRequested(Exception):
    """`--help`: print the usage, exit 0."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes


class FetchError(Exception):
    """No HTTP answer: a refused, dropped or reset connection, a name not found, a bad URL."""


def configure_logging(logfile: str | None) -> None:
    """Log to `--logfile` (opened as the pod's user: call after dropping root), else stdout."""
    if logfile:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, filename=logfile)
    else:
        logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stdout)


def parse_flags(args: Sequence[str], names: Collection[str]) -> dict[str, str]:
    """`--name=value` and `--name value` for the given option names, as docopt reads them."""
    values: dict[str, str] = {}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--help":
            raise HelpRequested
        if not arg.startswith("--"):
            raise UsageError(f"Unexpected argument: {arg!r}")
        name, sep, value = arg[2:].partition("=")
        if name not in names:
            raise UsageError(f"Unknown flag: '--{name}'")
        if not sep:
            if not rest:
                raise UsageError(f"Flag '--{name}' requires an argument")
            value = rest.pop(0)
        values[name] = value
    return values


def number(values: dict[str, str], name: str, default: int) -> int:
    """The integer value of `--name`, `default` when it is not given."""
    text = values.get(name, str(default))
    if not text.isdigit():
        raise UsageError(f"--{name}: not a number: {text!r}")
    return int(text)


def get(url: str, timeout: float = TIMEOUT) -> Reply:
    """`GET url` with `Connection: close`; the status and body, whatever the status."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or 80
    except ValueError as exc:
        raise FetchError(f"{url}: {exc}") from None
    if parts.scheme != "http" or not parts.hostname:
        raise FetchError(f"{url}: only http:// URLs are fetched")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    try:
        connection.request("GET", target, headers={"Connection": "close"})
        response = connection.getresponse()
        return Reply(response.status, response.read(MAX_BODY))
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url}: {exc}") from None
    finally:
        connection.close()


def in_parallel(items: Iterable[T], visit: Callable[[T], None]) -> None:
    """`visit` every item, each in its own thread; returns when all are done."""
    threads = [threading.Thread(target=visit, args=(item,), daemon=True) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_rounds(interval: float, one_round: Callable[[], None], stop: threading.Event) -> None:
    """`one_round` every `interval` seconds, the first after one interval (upstream's timer),
    until `stop` is set; a round that overruns its interval delays the next."""
    due = time.monotonic() + interval
    while not stop.wait(max(due - time.monotonic(), 0)):
        one_round()
        due = max(due + interval, time.monotonic())


def listen(
    address: str, port: int, handler: type[http.server.BaseHTTPRequestHandler]
) -> http.server.HTTPServer:
    """A threaded HTTP listener: every address of the pod for 0.0.0.0, else `address`."""
    if address in ANY_ADDRESS:
        return Server(("", port), handler)
    server_class = _IPv6Server if ":" in address else _IPv4Server
    return server_class((address, port), handler)


class _IPv4Server(Server):
    address_family = socket.AF_INET


class _IPv6Server(Server):
    address_family = socket.AF_INET6


def send(
    handler: http.server.BaseHTTPRequestHandler, status: int, content_type: str, body: bytes
) -> None:
    """One answer and its headers (hyper's: `Content-Type` only when there is a body)."""
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)

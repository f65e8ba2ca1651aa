"""What the star stand-ins share: docopt-style long options, a bounded GET, rounds of work."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.starshared import (
    FetchError,
    HelpRequested,
    Reply,
    UsageError,
    get,
    in_parallel,
    number,
    parse_flags,
    run_rounds,
)

NAMES = ("urls", "http-port")


@pytest.mark.parametrize(
    ("args", "values"),
    [
        (["--urls=http://a/status,http://b/status"], {"urls": "http://a/status,http://b/status"}),
        (["--http-port", "6379", "--urls=x"], {"http-port": "6379", "urls": "x"}),
        (["--urls=a=b"], {"urls": "a=b"}),
        ([], {}),
    ],
    ids=["name=value", "name value", "= in the value", "nothing"],
)
def test_flags_are_read_as_docopt_reads_them(args: list[str], values: dict[str, str]) -> None:
    assert parse_flags(args, NAMES) == values


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url=x"], "Unknown flag: '--url'"),
        (["-p", "1"], "Unexpected argument: '-p'"),
        (["--http-port"], "Flag '--http-port' requires an argument"),
    ],
    ids=["an unknown flag", "a short flag", "a flag without its value"],
)
def test_bad_flags_are_usage_errors(args: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_flags(args, NAMES)


def test_help_is_asked_for_anywhere() -> None:
    with pytest.raises(HelpRequested):
        parse_flags(["--urls=x", "--help"], NAMES)


def test_numbers_default_and_refuse_words() -> None:
    assert number({}, "http-port", 9000) == 9000
    assert number({"http-port": "80"}, "http-port", 9000) == 80
    with pytest.raises(UsageError, match="--http-port: not a number: 'eighty'"):
        number({"http-port": "eighty"}, "http-port", 9000)


class Answer404(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"{self.path} {self.headers['Connection']}".encode()
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    """An HTTP server on loopback answering 404 with the path and Connection header it got."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Answer404)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_any_http_answer_is_a_reply(server: str) -> None:
    assert get(f"http://{server}/status?x=1") == Reply(404, b"/status?x=1 close")
    assert get(f"http://{server}") == Reply(404, b"/ close")


def test_a_refused_connection_is_a_fetch_error() -> None:
    with socket.socket() as bound:  # bound, not listening: connections to it are refused
        bound.bind(("127.0.0.1", 0))
        with pytest.raises(FetchError, match="refused"):
            get(f"http://127.0.0.1:{bound.getsockname()[1]}/status")


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1/status", "frontend.stars:80", "http://a:port/status", "http:///status"],
    ids=["https", "no scheme", "a port that is no number", "no host"],
)
def test_urls_podwall_does_not_fetch_are_fetch_errors(url: str) -> None:
    with pytest.raises(FetchError, match=r"http://|port"):
        get(url)


def test_every_item_is_visited() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def visit(item: int) -> None:
        with lock:
            seen.append(item)

    in_parallel(range(5), visit)
    assert sorted(seen) == [0, 1, 2, 3, 4]


def test_rounds_run_until_stopped() -> None:
    stop = threading.Event()
    rounds: list[int] = []

    def one_round() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 3:
            stop.set()

    run_rounds(0.001, one_round, stop)
    assert rounds == [0, 1, 2]


def test_no_round_runs_once_stopped() -> None:
    stop = threading.Event()
    stop.set()
    rounds: list[int] = []
    run_rounds(0.001, lambda: rounds.append(1), stop)
    assert rounds == []

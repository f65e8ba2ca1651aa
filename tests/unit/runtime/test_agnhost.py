"""agnhost stand-in: flag parsing as Go's, listeners per subcommand, connect's exit statuses."""

from __future__ import annotations

import argparse
import socket
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.agnhost import (
    Listener,
    connect,
    http_response,
    listeners_for,
    parse_duration,
    parser,
    porter_listeners,
    split_dest,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1s", 1.0), ("500ms", 0.5), ("1m30s", 90.0), ("0", 0.0), ("1.5s", 1.5)],
    ids=["seconds", "milliseconds", "minutes and seconds", "zero", "fractions"],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


def test_a_bad_duration_is_refused() -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("1 sec")


@pytest.mark.parametrize(
    ("dest", "expected"),
    [("198.18.0.2:80", ("198.18.0.2", 80)), ("[::1]:53", ("::1", 53)), ("svc:8080", ("svc", 8080))],
    ids=["an IPv4 address", "a bracketed IPv6 address", "a host name"],
)
def test_split_dest(dest: str, expected: tuple[str, int]) -> None:
    assert split_dest(dest) == expected


def test_a_dest_without_port_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert connect("198.18.0.2", "tcp", 1.0, "hostname") == 1
    assert capsys.readouterr().err.startswith("UNKNOWN: ")


def args(*argv: str) -> argparse.Namespace:
    return parser().parse_args(argv)


def test_serve_lists_tcp_and_udp_ports() -> None:
    listeners = listeners_for(args("serve", "--tcp-ports", "80,81", "--udp-ports", "80"), {})
    assert [(x.protocol, x.port, x.http) for x in listeners] == [
        ("tcp", 80, False),
        ("tcp", 81, False),
        ("udp", 80, False),
    ]


def test_serve_hostname_takes_upstreams_flags() -> None:
    parsed = args("serve-hostname", "--udp", "--http=false", "--port", "8081")
    [listener] = listeners_for(parsed, {})
    assert (listener.protocol, listener.port, listener.body) == (
        "udp",
        8081,
        socket.gethostname().encode(),
    )


def test_serve_hostname_serves_http_by_default() -> None:
    [listener] = listeners_for(args("serve-hostname"), {})
    assert (listener.protocol, listener.port, listener.http) == ("tcp", 9376, True)


def test_porter_serves_its_environment() -> None:
    env = {"SERVE_PORT_80": "foo", "SERVE_UDP_PORT_81": "bar", "SERVE_SCTP_PORT_82": "x"}
    assert porter_listeners(env) == [
        Listener("tcp", 80, b"foo", http=True),
        Listener("udp", 81, b"bar"),
    ]


def test_connect_accepts_equals_and_space_flags() -> None:
    parsed = args("connect", "198.18.0.2:80", "--protocol=udp", "--timeout", "1s")
    assert (parsed.dest, parsed.protocol, parsed.timeout) == ("198.18.0.2:80", "udp", 1.0)


def test_http_response_has_a_length() -> None:
    assert http_response(b"web").endswith(b"Content-Length: 3\r\nConnection: close\r\n\r\nweb")


@pytest.fixture
def tcp_port() -> Iterator[int]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        yield server.getsockname()[1]


@pytest.fixture
def udp_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server:
        server.bind(("127.0.0.1", 0))

        def reply_once() -> None:
            data, peer = server.recvfrom(64)
            server.sendto(b"pong:" + data, peer)

        thread = threading.Thread(target=reply_once, daemon=True)
        thread.start()
        yield server.getsockname()[1]
        thread.join(timeout=2)


def closed_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_tcp_connect_to_a_listener_exits_0(tcp_port: int) -> None:
    assert connect(f"127.0.0.1:{tcp_port}", "tcp", 1.0, "hostname") == 0


def test_tcp_connect_to_a_closed_port_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert connect(f"127.0.0.1:{closed_port(socket.SOCK_STREAM)}", "tcp", 1.0, "x") == 1
    assert capsys.readouterr().err == "REFUSED\n"


def test_udp_connect_with_a_reply_exits_0(udp_port: int) -> None:
    assert connect(f"127.0.0.1:{udp_port}", "udp", 1.0, "hostname") == 0


def test_udp_connect_to_a_closed_port_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert connect(f"127.0.0.1:{closed_port(socket.SOCK_DGRAM)}", "udp", 1.0, "x") == 1
    assert capsys.readouterr().err.startswith("REFUSED: ")


def test_udp_connect_without_a_reply_times_out(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        assert connect(f"127.0.0.1:{port}", "udp", 0.2, "x") == 1
    assert capsys.readouterr().err.startswith("TIMEOUT: ")

"""agnhost stand-in: flag parsing as Go's, listeners per subcommand, connect's exit statuses."""

from __future__ import annotations

import argparse
import asyncio
import errno
import socket
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from podwall.runtime.standins import agnhost
from podwall.runtime.standins.agnhost import (
    Listener,
    connect,
    http_response,
    listeners_for,
    netexec_http_body,
    netexec_udp_answer,
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
        Listener("sctp", 82, b"x"),
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


def no_sctp(*args: Any, **kwargs: Any) -> socket.socket:
    """socket.socket on a kernel without SCTP."""
    if socket.IPPROTO_SCTP in (*args[2:3], kwargs.get("proto")):
        raise OSError(errno.EPROTONOSUPPORT, "Protocol not supported")
    return REAL_SOCKET(*args, **kwargs)


REAL_SOCKET = socket.socket


def test_porter_without_sctp_says_so_once_and_serves_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(socket, "socket", no_sctp)
    assert agnhost.sctp_socket(9003) is None
    err = capsys.readouterr().err
    assert err == "SCTP is not supported by this kernel: not serving port 9003\n"


def test_an_sctp_probe_without_sctp_fails_never_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(socket, "socket", no_sctp)
    assert connect("127.0.0.1:9003", "sctp", 1.0, "") == 1
    assert capsys.readouterr().err.startswith("OTHER: ")


def test_connect_takes_sctp() -> None:
    assert args("connect", "198.18.0.2:9003", "--protocol=sctp").protocol == "sctp"


def test_netexec_serves_http_and_udp_on_the_listed_addresses() -> None:
    parsed = args(
        "netexec", "--http-port", "34348", "--udp-port", "34347",
        "--udp-listen-addresses", "198.18.255.2",
    )  # fmt: skip
    assert listeners_for(parsed, {}) == [
        Listener("tcp", 34348, socket.gethostname().encode(), http=True, netexec=True),
        Listener("udp", 34347, socket.gethostname().encode(), host="198.18.255.2", netexec=True),
    ]


def test_netexec_without_udp() -> None:
    parsed = args("netexec", "--http-port=8080", "--udp-port=-1")
    assert [x.protocol for x in listeners_for(parsed, {})] == ["tcp"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"hostname\n", b"centaur-0"),
        (b"echo hi there\n", b"hi there"),
        (b"clientip", b"198.18.0.5:4000"),
        (b"shutdown", b"Unknown udp command received"),
    ],
    ids=["hostname", "echo", "clientip", "unknown"],
)
def test_netexec_udp_commands(data: bytes, expected: bytes) -> None:
    assert netexec_udp_answer(data, "198.18.0.5:4000", b"centaur-0") == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/hostname", b"centaur-0"), ("/echo?msg=hi", b"hi"), ("/clientip", b"198.18.0.5:4000")],
    ids=["hostname", "echo", "clientip"],
)
def test_netexec_http_paths(target: str, expected: bytes) -> None:
    assert netexec_http_body(target, "198.18.0.5:4000", b"centaur-0") == expected


def free_port(kind: socket.SocketKind) -> int:
    return closed_port(kind)


@pytest.fixture
def serving() -> Iterator[Any]:
    """Start listeners in an event loop of their own thread; stopped at the end."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    closers: list[Any] = []

    def start(listeners: Sequence[Listener]) -> None:
        for listener in listeners:
            started = asyncio.run_coroutine_threadsafe(agnhost._start(listener), loop)
            closers.append(started.result(timeout=5))

    async def shutdown() -> None:
        for close in closers:
            if close is not None:
                close()
        await asyncio.sleep(0.05)  # the transports' own close callbacks run

    yield start
    asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


def test_serve_hostname_tcp_answers_the_hostname_and_closes(serving: Any) -> None:
    port = free_port(socket.SOCK_STREAM)
    serving([Listener("tcp", port, b"harry-potter-0", host="127.0.0.1")])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        received = b""
        while chunk := sock.recv(64):
            received += chunk
    assert received == b"harry-potter-0"


def test_serve_hostname_udp_answers_each_datagram(serving: Any) -> None:
    port = free_port(socket.SOCK_DGRAM)
    serving([Listener("udp", port, b"harry-potter-0", host="127.0.0.1")])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        for _ in range(2):
            sock.sendto(b"hostname\n", ("127.0.0.1", port))
            assert sock.recvfrom(64)[0] == b"harry-potter-0"


def test_porter_runs_on_when_sctp_is_missing(
    serving: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(socket, "socket", no_sctp)
    port = free_port(socket.SOCK_STREAM)
    serving([Listener("sctp", 9003, b"foo"), Listener("tcp", port, b"bar", host="127.0.0.1")])
    assert "not serving port 9003" in capsys.readouterr().err
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        assert sock.recv(64) == b"bar"

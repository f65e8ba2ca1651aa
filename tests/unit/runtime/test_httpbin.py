"""httpbin: the endpoints labs call, in kennethreitz/httpbin's and go-httpbin's JSON."""

from __future__ import annotations

import json

import pytest

from podwall.runtime.standins.httpbin import GO_PORT, PYTHON_PORT, answer, port_of
from podwall.runtime.standins.webserving import Request


def _request(target: str, method: str = "GET", body: bytes = b"") -> Request:
    return Request(method, target, "HTTP/1.1", (("Host", "httpbin"), ("user-agent", "curl/8")),
                   ("198.18.0.7", 1), ("198.18.0.5", 80), body)  # fmt: skip


def _json(target: str, go: bool = False, method: str = "GET", body: bytes = b"") -> object:
    reply = answer(_request(target, method, body), go)
    assert reply.status == 200
    return json.loads(reply.body)


def test_get_python() -> None:
    assert _json("/get?a=b") == {
        "args": {"a": "b"},
        "headers": {"Host": "httpbin", "User-Agent": "curl/8"},
        "origin": "198.18.0.7",
        "url": "http://httpbin/get?a=b",
    }


def test_get_go_has_lists_and_the_method() -> None:
    data = _json("/get?a=b", go=True)
    assert isinstance(data, dict)
    assert (data["args"], data["headers"]["Host"], data["method"]) == (
        {"a": ["b"]},
        ["httpbin"],
        "GET",
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/ip", {"origin": "198.18.0.7"}), ("/user-agent", {"user-agent": "curl/8"}),
     ("/headers", {"headers": {"Host": "httpbin", "User-Agent": "curl/8"}})],
    ids=["ip", "user-agent", "headers"],
)  # fmt: skip
def test_small_endpoints(target: str, expected: object) -> None:
    assert _json(target) == expected


def test_post_echoes_data_and_json() -> None:
    data = _json("/anything/x", method="POST", body=b'{"k": 1}')
    assert isinstance(data, dict)
    assert (data["data"], data["json"], data["method"]) == ('{"k": 1}', {"k": 1}, "POST")


@pytest.mark.parametrize(
    ("target", "method", "status"),
    [("/status/418", "GET", 418), ("/status/204", "GET", 204), ("/post", "GET", 405),
     ("/nope", "GET", 404)],
    ids=["status 418", "status 204", "wrong method", "unknown path"],
)  # fmt: skip
def test_statuses(target: str, method: str, status: int) -> None:
    assert answer(_request(target, method), False).status == status


@pytest.mark.parametrize(
    ("go", "args", "environ", "port"),
    [(False, (), {"PORT": "1"}, PYTHON_PORT), (True, (), {}, GO_PORT),
     (True, (), {"PORT": "9000"}, 9000), (True, ("-port", "7000"), {}, 7000),
     (True, ("-port=7001",), {"PORT": "1"}, 7001)],
    ids=["python binds 80", "go 8080", "go $PORT", "go -port N", "go -port=N wins"],
)  # fmt: skip
def test_ports(go: bool, args: tuple[str, ...], environ: dict[str, str], port: int) -> None:
    assert port_of(go, args, environ) == port

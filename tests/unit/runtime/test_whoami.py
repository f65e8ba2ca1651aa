"""traefik/whoami: its flags and environment, and its answers as upstream's app.go writes them."""

from __future__ import annotations

import json

import pytest

from podwall.runtime.standins.webserving import Request, canonical
from podwall.runtime.standins.whoami import (
    Options,
    UsageError,
    answerer,
    go_request_write,
    parse,
    whoami_text,
)

CURL = Request(
    method="GET",
    target="/?x=1",
    version="HTTP/1.1",
    headers=(("Host", "whoami"), ("User-Agent", "curl/8.5.0"), ("Accept", "*/*"),
             ("x-forwarded-for", "a"), ("X-Forwarded-For", "b")),
    client=("198.18.0.7", 40000),
    server=("198.18.0.5", 80),
)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "environ", "expected"),
    [
        ((), {}, Options(80)),
        (("--port", "8080"), {}, Options(8080)),
        (("-port=9000",), {}, Options(9000)),
        ((), {"WHOAMI_PORT_NUMBER": "8081", "WHOAMI_NAME": "a"}, Options(8081, "a")),
        (("--port=7000", "--verbose", "--name", "b"), {"WHOAMI_PORT_NUMBER": "1"},
         Options(7000, "b")),
    ],
    ids=["defaults", "--port N", "-port=N", "environment", "a flag wins over the environment"],
)  # fmt: skip
def test_parse(args: tuple[str, ...], environ: dict[str, str], expected: Options) -> None:
    assert parse(args, environ) == expected


@pytest.mark.parametrize(
    ("args", "words"),
    [(("--nope",), "flag provided but not defined: -nope"),
     (("--port",), "flag needs an argument: -port"), (("--port=http",), "invalid port")],
    ids=["unknown flag", "missing value", "not a number"],
)  # fmt: skip
def test_bad_flags_say_so(args: tuple[str, ...], words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse(args, {})


def test_the_page_lists_host_addresses_client_then_the_request() -> None:
    text = whoami_text(CURL, "", "whoami-6d9f", ["127.0.0.1", "198.18.0.5"]).decode()
    assert text == (
        "Hostname: whoami-6d9f\nIP: 127.0.0.1\nIP: 198.18.0.5\nRemoteAddr: 198.18.0.7:40000\n"
        "GET /?x=1 HTTP/1.1\r\nHost: whoami\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n"
        "X-Forwarded-For: a\r\nX-Forwarded-For: b\r\n\r\n"
    )


def test_a_name_comes_first() -> None:
    assert whoami_text(CURL, "blue", "h", []).startswith(b"Name: blue\nHostname: h\n")


def test_go_writes_its_own_user_agent_when_the_client_sent_none() -> None:
    bare = Request("GET", "/", "HTTP/1.0", (), ("198.18.0.7", 1), ("198.18.0.5", 80))
    assert (
        go_request_write(bare)
        == b"GET / HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\n\r\n"
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [("x-forwarded-for", "X-Forwarded-For"), ("ACCEPT", "Accept"), ("a", "A")],
    ids=["dashed", "upper", "one letter"],
)
def test_canonical_header_keys(key: str, expected: str) -> None:
    assert canonical(key) == expected


def _answer(target: str, method: str = "GET", body: bytes = b"") -> tuple[int, bytes]:
    request = Request(method, target, "HTTP/1.1", (("Host", "w"),), ("198.18.0.7", 1),
                      ("198.18.0.5", 80), body)  # fmt: skip
    reply = answer(request)
    return reply.status, reply.body


answer = answerer(Options(80, "n"), lambda: "host-1", lambda: ["198.18.0.5"])


def test_api_is_json() -> None:
    status, body = _answer("/api")
    data = json.loads(body)
    assert status == 200
    assert (data["hostname"], data["ip"], data["name"]) == ("host-1", ["198.18.0.5"], "n")
    assert data["remoteAddr"] == "198.18.0.7:1"


def test_health_changes_with_a_post() -> None:
    own = answerer(Options(80), lambda: "h", list)
    ask = Request("GET", "/health", "HTTP/1.1", (), ("a", 1), ("b", 2))
    assert own(ask).status == 200
    own(Request("POST", "/health", "HTTP/1.1", (), ("a", 1), ("b", 2), b"503"))
    assert own(ask).status == 503


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/bench", (200, b"1")), ("/data?size=5", (200, b"-----"))],
    ids=["bench", "data of a size"],
)
def test_other_paths(target: str, expected: tuple[int, bytes]) -> None:
    assert _answer(target) == expected


def test_api_headers_are_sorted_as_go_writes_a_map() -> None:
    request = Request("GET", "/api", "HTTP/1.1", (("X-B", "2"), ("accept", "*/*"), ("Host", "w")),
                      ("198.18.0.7", 1), ("198.18.0.5", 80))  # fmt: skip
    data = json.loads(answer(request).body)
    assert list(data["headers"]) == ["Accept", "Host", "X-B"]

"""DockerCoins' rng: its banner, N random bytes after its 0.1 s, Werkzeug's 404 and 405."""

from __future__ import annotations

import pytest

from podwall.runtime.standins.coinrng import DELAY, MAX_READ, answerer
from podwall.runtime.standins.webserving import Request


def _request(path: str, method: str = "GET") -> Request:
    return Request(method, path, "HTTP/1.1", (), ("198.18.0.9", 40000), ("198.18.0.5", 80))


def test_the_banner_names_the_host() -> None:
    reply = answerer("rng-5f7d8b9c-x2x4q")(_request("/"))
    assert (reply.status, reply.body) == (200, b"RNG running on rng-5f7d8b9c-x2x4q\n")
    assert reply.content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize("count", [0, 1, 32, 1000])
def test_n_bytes_after_a_tenth_of_a_second(count: int) -> None:
    slept: list[float] = []
    reply = answerer("rng", sleep=slept.append)(_request(f"/{count}"))
    assert reply.status == 200
    assert len(reply.body) == count
    assert reply.content_type == "application/octet-stream"
    assert slept == [DELAY]


def test_the_bytes_come_from_the_kernel_s_random_source() -> None:
    asked: list[int] = []
    answer = answerer("rng", random_bytes=lambda n: asked.append(n) or b"", sleep=lambda _: None)
    answer(_request("/32"))
    answer(_request(f"/{MAX_READ + 10}"))
    assert asked == [32, MAX_READ]  # one read of /dev/urandom gives at most MAX_READ bytes


@pytest.mark.parametrize("path", ["/x", "/-1", "/3.5", "/32/", "/32/x"])
def test_other_paths_are_werkzeug_s_404(path: str) -> None:
    reply = answerer("rng", sleep=lambda _: None)(_request(path))
    assert reply.status == 404
    assert b"<title>404 Not Found</title>" in reply.body


def test_a_post_is_werkzeug_s_405() -> None:
    reply = answerer("rng", sleep=lambda _: None)(_request("/32", "POST"))
    assert reply.status == 405
    assert ("Allow", "GET, HEAD, OPTIONS") in reply.headers

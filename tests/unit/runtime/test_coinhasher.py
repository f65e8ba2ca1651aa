"""DockerCoins' hasher: the hex SHA-256 of what is posted, after its 0.1 s; its banner."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.runtime.standins.coinhasher import DELAY, answerer
from podwall.runtime.standins.webserving import Request


def _request(path: str, method: str = "GET", body: bytes = b"") -> Request:
    return Request(method, path, "HTTP/1.1", (), ("198.18.0.9", 40000), ("198.18.0.6", 80), body)


def test_a_post_answers_the_hex_sha256_of_its_body_after_a_tenth_of_a_second() -> None:
    slept: list[float] = []
    reply = answerer("hasher", sleep=slept.append)(_request("/", "POST", b"abc"))
    assert reply.status == 200
    assert reply.body == b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert reply.content_type == "text/plain;charset=utf-8"
    assert slept == [DELAY]


@given(st.binary(max_size=64))
def test_any_bytes_hash_as_sha256_does(data: bytes) -> None:
    reply = answerer("hasher", sleep=lambda _: None)(_request("/", "POST", data))
    assert reply.body.decode() == hashlib.sha256(data).hexdigest()


def test_the_banner_names_the_host() -> None:
    reply = answerer("hasher-6c64f78655-rgjk5")(_request("/"))
    assert (reply.status, reply.body) == (200, b"HASHER running on hasher-6c64f78655-rgjk5\n")


@pytest.mark.parametrize(("path", "method"), [("/x", "GET"), ("/x", "POST"), ("/", "PUT")])
def test_other_routes_are_sinatra_s_404(path: str, method: str) -> None:
    reply = answerer("hasher", sleep=lambda _: None)(_request(path, method))
    assert reply.status == 404
    assert "Sinatra doesn\u2019t know this ditty.".encode() in reply.body

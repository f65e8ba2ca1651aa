"""DockerCoins' web UI: `/json` from Redis as Express writes it, its redirect, its 404."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from podwall.runtime.standins.coinwebui import answerer, connect, js_number, json_body
from podwall.runtime.standins.redis import Server
from podwall.runtime.standins.redisclient import RedisClient
from podwall.runtime.standins.webserving import Request


def _request(path: str, method: str = "GET", accept: str = "*/*") -> Request:
    headers = (("Accept", accept),)
    return Request(method, path, "HTTP/1.1", headers, ("198.18.0.9", 1), ("198.18.0.7", 80))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1733580000.123, "1733580000.123"), (1733580000.0, "1733580000"), (0.5, "0.5")],
    ids=["milliseconds", "a whole second has no .0", "below one"],
)
def test_numbers_are_written_as_javascript_writes_them(seconds: float, text: str) -> None:
    assert js_number(seconds) == text


@pytest.mark.parametrize(
    ("coins", "hashes", "now_ms", "body"),
    [
        (3, b"1234", 1733580000123, b'{"coins":3,"hashes":"1234","now":1733580000.123}'),
        (0, None, 1733580000000, b'{"coins":0,"hashes":null,"now":1733580000}'),
    ],
    ids=["hashes is Redis's string", "null before the first update"],
)
def test_the_json_is_express_s(coins: int, hashes: bytes | None, now_ms: int, body: bytes) -> None:
    assert json_body(coins, hashes, now_ms) == body


@pytest.fixture
def redis() -> Iterator[RedisClient]:
    server = Server(("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = RedisClient("127.0.0.1", server.server_address[1])
    try:
        yield client
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_json_reads_the_wallet_and_the_hash_counter(redis: RedisClient) -> None:
    redis.call("INCRBY", "hashes", 42)
    redis.call("HSET", "wallet", "0abc", b"\x00\xff")
    reply = answerer(redis, now_ms=lambda: 1733580000500)(_request("/json"))
    assert reply.status == 200
    assert reply.content_type == "application/json; charset=utf-8"
    assert json.loads(reply.body) == {"coins": 1, "hashes": "42", "now": 1733580000.5}


def test_the_root_redirects_to_the_page(redis: RedisClient) -> None:
    answer = answerer(redis)
    reply = answer(_request("/"))
    assert (reply.status, reply.body) == (302, b"Found. Redirecting to /index.html")
    assert ("Location", "/index.html") in reply.headers
    assert b'<a href="/index.html">' in answer(_request("/", accept="text/html")).body
    page = answer(_request("/index.html"))
    assert page.status == 200
    assert b"<title>DockerCoin Miner WebUI</title>" in page.body


def test_anything_else_is_express_s_404(redis: RedisClient) -> None:
    reply = answerer(redis)(_request("/json", "POST"))
    assert reply.status == 404
    assert b"<pre>Cannot POST /json</pre>" in reply.body


def test_json_answers_500_when_redis_is_gone() -> None:
    gone = RedisClient("127.0.0.1", 1, timeout=1)
    reply = answerer(gone)(_request("/json"))
    assert reply.status == 500


def test_it_retries_redis_until_it_answers(capsys: pytest.CaptureFixture[str]) -> None:
    class Flaky(RedisClient):
        tries = 0

        def connect(self) -> None:
            self.tries += 1
            if self.tries < 4:
                raise ConnectionRefusedError

    waits: list[float] = []
    connect(Flaky("redis"), sleep=waits.append)
    assert waits == [0.1, 0.2, 0.4]
    assert (
        capsys.readouterr().err.splitlines()
        == ["Redis error Error: connect ECONNREFUSED redis:6379"] * 3
    )

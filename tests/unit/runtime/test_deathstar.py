"""The deathstar stand-in's answers (the Star Wars demo's requests), without a server."""

from __future__ import annotations

import json

import pytest

from podwall.runtime.standins.deathstar import EXPLODED, LANDED, answer


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        pytest.param("POST", "/v1/request-landing", 200, LANDED, id="landing is granted"),
        pytest.param("PUT", "/v1/exhaust-port", 503, EXPLODED, id="the exhaust port explodes"),
        pytest.param("GET", "/v1/request-landing", 404, b"Not found\n", id="landing needs POST"),
        pytest.param("POST", "/v2/request-landing", 404, b"Not found\n", id="unknown path"),
    ],
)
def test_answers(method: str, path: str, status: int, body: bytes) -> None:
    assert answer(method, path, "deathstar-1") == (status, body)


def test_landing_answer_is_the_demos_words() -> None:
    assert answer("POST", "/v1/request-landing?x=1", "h")[1].decode() == "Ship landed\n"


def test_the_api_description_names_the_host() -> None:
    status, body = answer("GET", "/v1", "deathstar-1")
    assert status == 200
    described = json.loads(body)
    assert described["hostname"] == "deathstar-1"
    assert "POST  /v1/request-landing" in described["api"]

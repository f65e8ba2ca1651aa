"""TokenRequest for a pod: the body the kubelet sends, when to ask again, a refusal's words."""

from __future__ import annotations

from typing import Any, cast

import pytest

from podwall.agent import tokens
from podwall.agent.client import ApiError, Connection
from podwall.agent.tokens import BoundPod, TokenRequester, TokenUnavailable

POD = BoundPod(namespace="team-a", name="web", uid="u-1", account="robot")


class Answering:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.calls: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, query: Any = (), body: Any = None) -> Any:
        self.calls.append((method, path, body))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def requester(answer: Any) -> tuple[TokenRequester, Answering]:
    conn = Answering(answer)
    return TokenRequester(cast(Connection, conn), b"CA", clock=lambda: 1000.0), conn


def test_the_request_is_bound_to_the_pod_and_leaves_audiences_to_the_server() -> None:
    body = tokens.token_request(POD)
    assert body["spec"] == {
        "expirationSeconds": 3600,
        "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": "web", "uid": "u-1"},
    }


@pytest.mark.parametrize(
    ("granted", "refresh_at"),
    [(3600, 1000.0 + 2880), (7200, 1000.0 + 5760), (None, 1000.0 + 2880)],
    ids=["the hour asked for", "a longer one granted", "none said: the hour"],
)
def test_the_token_is_asked_for_again_at_80_percent_of_its_life(
    granted: int | None, refresh_at: float
) -> None:
    ask, conn = requester({"spec": {"expirationSeconds": granted}, "status": {"token": "T"}})
    got = ask(POD)
    assert (got.files.token, got.files.namespace, got.files.ca_pem) == ("T", "team-a", b"CA")
    assert got.refresh_at == refresh_at
    ((method, path, _),) = conn.calls
    assert (method, path) == ("POST", "/api/v1/namespaces/team-a/serviceaccounts/robot/token")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (ApiError(404, "NotFound", 'serviceaccounts "robot" not found'),
         'serviceaccounts "robot" not found'),
        ({"status": {}}, "the TokenRequest answer holds no token"),
    ],
    ids=["refused", "no token in the answer"],
)  # fmt: skip
def test_no_token_is_a_refusal_in_the_servers_words(answer: Any, message: str) -> None:
    ask, _ = requester(answer)
    with pytest.raises(TokenUnavailable) as caught:
        ask(POD)
    assert str(caught.value) == message

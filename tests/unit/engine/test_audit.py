"""Audit mode in the connectivity map: it holds what the dataplane enforces, as decide() does."""

from __future__ import annotations

import itertools

import pytest

from podwall.engine import Endpoint, Status, Traffic, connectivity, decide
from podwall.model.ports import Protocol
from tests.builders import cluster_policy, make_cluster, policy


def _audited(text: str) -> str:
    return text.replace(
        "metadata: {", "metadata: {annotations: {podwall.dev/enforcement: audit}, ", 1
    )


DENY_X = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress, Egress]")
BANP = cluster_policy(
    "b",
    "Baseline",
    1,
    "subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n"
    "ingress: [{action: Deny, from: [{namespaces: {}}]}]",
)
ALLOW_B = policy(
    "allow-b", "x", "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]"
)


@pytest.mark.parametrize(
    "policies",
    [
        pytest.param(_audited(DENY_X), id="an audited deny alone"),
        pytest.param(_audited(DENY_X) + ALLOW_B, id="an audited deny beside an enforced allow"),
        pytest.param(DENY_X + _audited(ALLOW_B), id="an enforced deny beside an audited allow"),
        pytest.param(_audited(DENY_X) + BANP, id="an audited deny over a baseline deny"),
    ],
)
def test_the_map_agrees_with_decide(policies: str) -> None:
    c = make_cluster(policies)
    cmap = connectivity(c)
    pods = list(cmap.pods)
    for (i, src), (j, dst) in itertools.permutations(enumerate(pods), 2):
        t = Traffic(src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=80)
        assert cmap.allowed(i, j, 80, Protocol.TCP) == decide(c, t).allowed, t.render()


def test_the_enforced_view_drops_only_audited_policies() -> None:
    c = make_cluster(_audited(DENY_X) + ALLOW_B)
    assert [p.key for p in c.enforced().policies] == ["x/allow-b"]
    plain = make_cluster(ALLOW_B)
    assert plain.enforced() is plain


def test_the_baseline_tier_decides_where_only_audited_policies_select() -> None:
    c = make_cluster(_audited(DENY_X) + BANP)
    decision = decide(
        c,
        Traffic(
            src=Endpoint.of_pod(c.pods_by_key["y/a"]),
            dst=Endpoint.of_pod(c.pods_by_key["x/a"]),
            port=80,
        ),
    )
    assert decision.ingress.status is Status.BASELINE_DENIED
    assert not decision.allowed
    c = make_cluster(_audited(DENY_X))
    alone = decide(
        c,
        Traffic(
            src=Endpoint.of_pod(c.pods_by_key["y/a"]),
            dst=Endpoint.of_pod(c.pods_by_key["x/a"]),
            port=80,
        ),
    )
    assert alone.ingress.status is Status.AUDITED

"""The connectivity map with tiers: whole matrices for the tier rules, read as the lab reads."""

from __future__ import annotations

import pytest

from podwall.engine import port_matrix
from tests.builders import cluster_policy, make_cluster, policy

PODS = ("x/a", "x/b", "y/a", "y/b", "y/host")
ADMIN_DENY_Y_TO_X = cluster_policy(
    "guard", "Admin", 1,
    "subject: {namespaces: {matchLabels: {team: red}}}\n"
    "ingress: [{action: Deny, from: [{namespaces: {matchLabels: {team: blue}}}]}]",
)  # fmt: skip
BASELINE_DENY = cluster_policy(
    "default-deny", "Baseline", 1000,
    "subject: {namespaces: {}}\ningress: [{action: Deny, from: [{namespaces: {}}]}]",
)  # fmt: skip
NP_ALLOW_Y_B = policy("allow", "y", "podSelector: {matchLabels: {app: b}}\ningress: [{}]")
EGRESS_ACCEPT_THEN_DENY = cluster_policy(
    "out", "Admin", 2,
    "subject: {namespaces: {matchLabels: {team: red}}}\n"
    "egress: [{action: Accept, to: [{pods: {podSelector: {matchLabels: {app: b}}}}]},"
    " {action: Deny, to: [{networks: [0.0.0.0/0]}]}]",
)  # fmt: skip


def _rows(objects: str, port: int = 80) -> list[str]:
    m = port_matrix(make_cluster(objects), port)
    assert m.pods == PODS
    return ["".join("." if cell else "X" for cell in row) for row in m.allowed]


@pytest.mark.parametrize(
    ("objects", "rows"),
    [
        ("", [".....", ".....", ".....", ".....", "....."]),
        (ADMIN_DENY_Y_TO_X, [".....", ".....", "XX...", "XX...", "....."]),
        # Baseline denies ingress between pods; the host-network pod is no subject and no
        # peer, and y/b's NetworkPolicy decides for it.
        (BASELINE_DENY, [".XXX.", "X.XX.", "XX.X.", "XXX..", "....."]),
        (BASELINE_DENY + NP_ALLOW_Y_B, [".XX..", "X.X..", "XX...", "XXX..", "....."]),
        # x's egress: Accept to app=b pods, then Deny to every IPv4 address (pods too).
        (EGRESS_ACCEPT_THEN_DENY, ["..X.X", "X.X.X", ".....", ".....", "....."]),
    ],
    ids=[
        "with no policy every pod reaches every pod",
        "an Admin Deny cuts y off from x",
        "a Baseline Deny isolates every pod but the host-network one",
        "a NetworkPolicy overrides the Baseline for the pods it selects",
        "an egress Accept comes before a later Deny",
    ],
)
def test_matrices(objects: str, rows: list[str]) -> None:
    assert _rows(objects) == rows

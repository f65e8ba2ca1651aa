"""Attribution phrases for sides a ClusterNetworkPolicy tier decided."""

from __future__ import annotations

from podwall.engine import decide
from podwall.review.attribution import phrase
from tests.builders import cluster_policy, make_cluster, traffic

GUARD = cluster_policy(
    "guard", "Admin", 5,
    "subject: {namespaces: {}}\n"
    "ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]",
)  # fmt: skip


def test_a_cluster_network_policy_that_decides_is_named_with_its_tier() -> None:
    c = make_cluster(GUARD)
    decision = decide(c, traffic(c, "y/a", "x/a", 80))
    assert phrase(decision.ingress) == "denied by admin/guard rule 'deny-all' (priority 5)"
    assert phrase(decision.egress) == "not isolated"

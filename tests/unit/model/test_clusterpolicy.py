"""How a cluster policy is named and ranked, by the kind it was read from."""

from __future__ import annotations

import pytest

from podwall.model.clusterpolicy import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_PRIORITY,
    KIND,
    Action,
    ClusterNetworkPolicy,
    Subject,
    Tier,
)
from podwall.model.labels import LabelSelector


def _policy(kind: str, tier: Tier, priority: int, name: str = "x") -> ClusterNetworkPolicy:
    return ClusterNetworkPolicy(
        name=name, tier=tier, priority=priority, subject=Subject(namespaces=LabelSelector()),
        kind=kind,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "tier", "priority", "key", "title", "ranking", "accept"),
    [
        pytest.param(KIND, Tier.ADMIN, 5, "admin/x", "admin/x", "priority 5", "Accept",
                     id="cnp-admin"),
        pytest.param(KIND, Tier.BASELINE, 5, "baseline/x", "baseline/x", "priority 5", "Accept",
                     id="cnp-baseline"),
        pytest.param(ADMIN_NETWORK_POLICY, Tier.ADMIN, 5, "anp/x", "AdminNetworkPolicy x",
                     "priority 5", "Allow", id="anp"),
        pytest.param(BASELINE_ADMIN_NETWORK_POLICY, Tier.BASELINE, BASELINE_ADMIN_PRIORITY,
                     "banp/x", "BaselineAdminNetworkPolicy x", "", "Allow", id="banp"),
    ],
)  # fmt: skip
def test_names_by_kind(
    kind: str, tier: Tier, priority: int, key: str, title: str, ranking: str, accept: str
) -> None:
    policy = _policy(kind, tier, priority)
    assert (policy.key, policy.title, policy.ranking) == (key, title, ranking)
    assert policy.action_name(Action.ACCEPT) == accept
    assert policy.action_name(Action.DENY) == "Deny"


def test_the_baseline_admin_network_policy_comes_after_every_baseline_cnp() -> None:
    banp = _policy(BASELINE_ADMIN_NETWORK_POLICY, Tier.BASELINE, BASELINE_ADMIN_PRIORITY, "a")
    last = _policy(KIND, Tier.BASELINE, 1000, "z")
    assert sorted([banp, last], key=lambda p: p.order) == [last, banp]


def test_equal_priorities_are_ordered_by_key_within_and_across_kinds() -> None:
    anp = _policy(ADMIN_NETWORK_POLICY, Tier.ADMIN, 3, "b")
    cnp_a = _policy(KIND, Tier.ADMIN, 3, "a")
    cnp_z = _policy(KIND, Tier.ADMIN, 3, "z")
    assert sorted([cnp_z, anp, cnp_a], key=lambda p: p.order) == [cnp_a, cnp_z, anp]

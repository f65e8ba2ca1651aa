"""The tier check objects: which rule decided, with which action, and how a rule is named."""

from __future__ import annotations

from podwall.engine.tierdecision import (
    ClusterPeerCheck,
    ClusterPolicyCheck,
    ClusterRuleCheck,
    TierCheck,
)
from podwall.model.clusterpolicy import (
    Action,
    ClusterNetworkPolicy,
    ClusterPeer,
    ClusterRule,
    Subject,
    Tier,
)
from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction

PEER = ClusterPeer(namespaces=LabelSelector())


def _rule(index: int, action: Action, matched: bool, name: str = "") -> ClusterRuleCheck:
    rule = ClusterRule(name=name, action=action, peers=(PEER,))
    return ClusterRuleCheck(
        index=index,
        direction=Direction.EGRESS,
        rule=rule,
        ports_matched=True,
        ports_reason="all ports",
        peers=(ClusterPeerCheck(index=0, peer=PEER, matched=matched, reason=""),),
    )


def _policy(*rules: ClusterRuleCheck) -> ClusterPolicyCheck:
    cnp = ClusterNetworkPolicy(
        name="p", tier=Tier.ADMIN, priority=1, subject=Subject(namespaces=LabelSelector())
    )
    return ClusterPolicyCheck(policy=cnp, rules=rules)


def test_a_tier_with_no_matching_rule_has_no_action() -> None:
    check = TierCheck(tier=Tier.ADMIN, policies=(_policy(_rule(0, Action.DENY, False)),))
    assert check.decision is None
    assert check.action is None


def test_the_first_matching_rule_decides() -> None:
    first, second = _policy(_rule(0, Action.DENY, False)), _policy(_rule(0, Action.PASS, True))
    check = TierCheck(tier=Tier.ADMIN, policies=(first, second))
    assert check.decision == (second, second.rules[0])
    assert check.action is Action.PASS


def test_a_rule_is_named_by_its_name_or_its_place() -> None:
    assert _rule(2, Action.DENY, True).label == "rule egress[2]"
    assert _rule(2, Action.DENY, True, name="dns").label == "rule 'dns'"
    assert _rule(0, Action.DENY, True).matching_peer is not None

"""The shared session of the real-packet conformance modules: its reset check can fail (a
policy's name is found in the rulesets while it is enforced) and passes once it is removed."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.model.ports import Protocol
from podwall.nft.flowlog import FlowLog
from podwall.nft.runner import list_ruleset
from tests.integration.conformance.sharedsession import SharedSession, named_in, policy_names


@pytest.mark.parametrize(
    ("name", "ruleset", "named"),
    [
        ("deny-all", 'comment "np default/deny-all ingress"', True),
        ("deny-all", "chain cnp-in_admin_deny-all {", True),
        ("deny-all", 'comment "np default/deny-all-but-dns"', False),
        ("deny-all", 'comment "np default/x-deny-all"', False),
        ("deny-all", 'comment "np default/deny-all.v2"', False),
        ("a.b", 'comment "np default/aXb"', False),
    ],
    ids=[
        "in-a-comment",
        "in-a-chain-name",
        "prefix-of-another",
        "suffix-of-another",
        "dotted",
        "literal-dot",
    ],
)
def test_a_policy_is_named_only_as_a_whole_word(name: str, ruleset: str, named: bool) -> None:
    assert named_in(name, ruleset) is named


def test_policy_names_are_those_of_every_policy_kind() -> None:
    manifests = [
        {"kind": "Pod", "metadata": {"name": "a"}},
        {"kind": "NetworkPolicy", "metadata": {"name": "np"}},
        {"kind": "ClusterNetworkPolicy", "metadata": {"name": "cnp"}},
        {"kind": "BaselineAdminNetworkPolicy", "metadata": {"name": "default"}},
    ]
    assert policy_names(manifests) == {"np", "cnp", "default"}


def _pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


DENY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "deny-to-b", "namespace": "default"},
    "spec": {"podSelector": {"matchLabels": {"app": "b"}}, "policyTypes": ["Ingress"]},
}


@pytest.mark.netns
def test_the_reset_check_sees_an_enforced_policy_and_passes_once_it_is_gone() -> None:
    pods = [_pod("a"), _pod("b")]
    flow_log = FlowLog(rate=1000, burst=1000)
    holder = SharedSession(pods, serve=[(80, Protocol.TCP)], nodes=2, flow_log=flow_log)
    try:
        s = holder.update([*pods, DENY])
        rulesets = [list_ruleset(n.network.netns) for n in s.sandbox.nodes.values()]
        assert any(named_in("deny-to-b", r) for r in rulesets)
        s = holder.update(pods)
        rulesets = [list_ruleset(n.network.netns) for n in s.sandbox.nodes.values()]
        assert not any(named_in("deny-to-b", r) for r in rulesets)
    finally:
        holder.discard()

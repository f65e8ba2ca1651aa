"""decide(): one row per NetworkPolicy rule of the API reference, ids read as sentences."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from podwall.engine import Status, decide
from podwall.engine.explain import full
from tests.builders import ON_N1, make_cluster, policy, traffic

DENY_INGRESS_X = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]")
DENY_EGRESS_X = policy("deny-out", "x", "podSelector: {}\npolicyTypes: [Egress]")


@dataclass(frozen=True)
class Case:
    id: str
    policies: str
    src: str
    dst: str
    port: int
    allowed: bool
    proto: str = "TCP"
    reason: str = ""  # a phrase the full explanation must contain


CASES = [
    Case("with no policy every connection is allowed", "", "y/a", "x/a", 80, True,
         reason="not isolated for ingress"),
    Case("a policy with no ingress rules denies all ingress (default deny)", DENY_INGRESS_X,
         "y/a", "x/a", 80, False, reason="default deny"),
    Case("an ingress-isolated pod still may send (egress is another direction)", DENY_INGRESS_X,
         "x/a", "y/a", 80, True),
    Case("policyTypes Egress only ignores the ingress rules it carries",
         policy("p", "x", "podSelector: {}\npolicyTypes: [Egress]\ningress: [{}]\negress: [{}]"),
         "y/a", "x/a", 80, True, reason="not isolated for ingress"),
    Case("without policyTypes, egress rules make the policy isolate egress",
         policy("p", "x", "podSelector: {}\negress: [{to: [{podSelector: {matchLabels: {app: b}}}]}]"),
         "x/a", "y/a", 80, False),
    Case("without policyTypes, an empty egress list does not isolate egress",
         policy("p", "x", "podSelector: {}\negress: []"), "x/a", "y/a", 80, True),
    Case("without policyTypes, a policy always isolates ingress",
         policy("p", "x", "podSelector: {}\negress: [{}]"), "y/a", "x/a", 80, False),
    Case("an empty ingress rule allows every source on every port",
         DENY_INGRESS_X + policy("all", "x", "podSelector: {}\ningress: [{}]"),
         "y/b", "x/a", 80, True),
    Case("an empty from list matches every source",
         policy("p", "x", "podSelector: {}\ningress: [{from: [], ports: [{port: 80}]}]"),
         "y/b", "x/a", 80, True),
    Case("an empty ports list matches every port",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}], ports: []}]"),
         "y/b", "x/a", 9999, True),
    Case("a podSelector alone selects pods of the policy's namespace only",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{podSelector: {}}]}]"),
         "y/a", "x/a", 80, False, reason="selects pods in namespace x only"),
    Case("a podSelector alone admits matching pods of the policy's namespace",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]"),
         "x/b", "x/a", 80, True),
    Case("an empty namespaceSelector admits pods of every namespace",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]"),
         "y/a", "x/a", 80, True),
    Case("a namespaceSelector matches namespace labels",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: red}}}]}]"),
         "y/a", "x/a", 80, False,
         reason="namespaceSelector {team: red} does not match namespace y {kubernetes.io/metadata.name: y, team: blue}"),
    Case("every namespace carries kubernetes.io/metadata.name",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: y}}}]}]"),
         "y/a", "x/a", 80, True),
    Case("namespaceSelector and podSelector in one peer must both match",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: b}}}]}]"),
         "y/a", "x/a", 80, False, reason="podSelector {app: b} does not match pod y/a"),
    Case("namespaceSelector and podSelector as two peers match either",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}, {podSelector: {matchLabels: {app: b}}}]}]"),
         "y/a", "x/a", 80, True),
    Case("NotIn matches a pod without the key",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}}]}]"),
         "y/a", "x/a", 80, True),
    Case("NotIn rejects a pod with a listed value",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: tier, operator: NotIn, values: [db]}]}}]}]"),
         "y/b", "x/a", 80, False, reason="tier notin (db)"),
    Case("DoesNotExist rejects a pod with the key",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchExpressions: [{key: tier, operator: DoesNotExist}]}}]}]"),
         "y/b", "x/a", 80, False),
    Case("an ipBlock matches a pod's address",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 198.18.1.0/24}}]}]"),
         "y/a", "x/a", 80, True, reason="contains 198.18.1.1"),
    Case("an ipBlock except removes addresses from the block",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 198.18.1.0/24, except: [198.18.1.0/31]}}]}]"),
         "y/a", "x/a", 80, False, reason="is in 198.18.1.0/31, an except"),
    Case("an ipBlock with host bits set matches its network",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 198.18.1.77/24}}]}]"),
         "y/b", "x/a", 80, True),
    Case("an ipBlock admits an address outside the cluster",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 203.0.113.0/24}}]}]"),
         "203.0.113.9", "x/a", 80, True),
    Case("selectors never match an address outside the cluster",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]"),
         "203.0.113.9", "x/a", 80, False, reason="selects pods only"),
    Case("an egress-isolated pod cannot reach outside addresses no rule names",
         DENY_EGRESS_X, "x/a", "203.0.113.9", 443, False),
    Case("egress to 0.0.0.0/0 reaches outside addresses",
         policy("p", "x", "podSelector: {}\npolicyTypes: [Egress]\negress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]"),
         "x/a", "203.0.113.9", 443, True),
    Case("a port without protocol means TCP",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: 53}]}]"),
         "y/a", "x/a", 53, False, proto="UDP", reason="protocol is not UDP"),
    Case("a UDP port admits UDP",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: 53, protocol: UDP}]}]"),
         "y/a", "x/a", 53, True, proto="UDP"),
    Case("an SCTP port admits SCTP",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: 7777, protocol: SCTP}]}]"),
         "y/a", "x/a", 7777, True, proto="SCTP"),
    Case("a protocol without a port admits every port of it",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{protocol: UDP}]}]"),
         "y/a", "x/a", 5353, True, proto="UDP"),
    Case("endPort ranges include both ends",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: 80, endPort: 90}]}]"),
         "y/a", "x/a", 90, True),
    Case("endPort ranges stop at endPort",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: 80, endPort: 90}]}]"),
         "y/a", "x/a", 91, False, reason="TCP 80-90 does not include 91"),
    Case("a named port resolves on the destination pod",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: http}]}]"),
         "y/a", "x/b", 8080, True, reason="named port http (TCP 8080 on x/b)"),
    Case("a named port does not admit another number",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: http}]}]"),
         "y/a", "x/b", 80, False, reason="named port http is TCP 8080 on x/b, not 80"),
    Case("a named port needs the protocol of the container port",
         policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: dns, protocol: TCP}]}]"),
         "y/a", "x/a", 53, False, reason="has no TCP container port named dns"),
    Case("an egress named port resolves on the destination pod",
         policy("p", "y", "podSelector: {}\npolicyTypes: [Egress]\negress: [{ports: [{port: dns, protocol: UDP}]}]"),
         "y/a", "x/a", 53, True, proto="UDP"),
    Case("an egress named port never matches an outside address",
         policy("p", "y", "podSelector: {}\npolicyTypes: [Egress]\negress: [{ports: [{port: http}]}]"),
         "y/a", "203.0.113.9", 80, False, reason="outside the cluster and has no named ports"),
    Case("a connection needs the source's egress too",
         DENY_EGRESS_X + policy("in", "y", "podSelector: {}\ningress: [{}]"),
         "x/a", "y/a", 80, False),
    Case("policies are additive: one allow beats a default deny",
         DENY_INGRESS_X + policy("allow", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{namespaceSelector: {}}]}]"),
         "y/b", "x/a", 80, True),
    Case("a policy of another namespace does not select the pod",
         policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress]"), "y/a", "x/a", 80, True),
    Case("a pod can always reach itself",
         DENY_INGRESS_X + DENY_EGRESS_X, "x/a", "x/a", 80, True, reason="cannot block traffic to itself"),
    Case("host-network pods are not subject to policy",
         policy("deny", "y", "podSelector: {}\npolicyTypes: [Ingress, Egress]"),
         "x/a", "y/host", 80, True, reason="host-network pods are not subject to NetworkPolicy"),
    Case("selectors do not match host-network pods",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]"),
         "y/host", "x/a", 80, False, reason="it uses the host network"),
    Case("an ipBlock matches a host-network pod's address",
         policy("p", "x", "podSelector: {}\ningress: [{from: [{ipBlock: {cidr: 198.19.255.0/24}}]}]"),
         "y/host", "x/a", 80, True),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decide(case: Case) -> None:
    c = make_cluster(case.policies)
    decision = decide(c, traffic(c, case.src, case.dst, case.port, case.proto))
    text = "\n".join(full(decision))
    assert decision.allowed is case.allowed, text
    assert case.reason in text


def test_default_deny_is_attributed_to_the_policy() -> None:
    c = make_cluster(DENY_INGRESS_X)
    decision = decide(c, traffic(c, "y/a", "x/a", 80))
    assert decision.ingress.status is Status.DENIED
    assert [p.policy.key for p in decision.ingress.policies] == ["x/deny"]
    assert decision.ingress.policies[0].rules == ()


def test_the_admitting_rule_and_peer_are_named() -> None:
    c = make_cluster(
        policy("p", "x", "podSelector: {}\ningress: [{ports: [{port: 1}]}, {from: [{podSelector: {}}, {namespaceSelector: {}}]}]")
    )  # fmt: skip
    decision = decide(c, traffic(c, "y/a", "x/a", 80))
    [(check, rule)] = decision.ingress.admitted_by
    assert (check.policy.key, rule.index) == ("x/p", 1)
    assert rule.admitting_peer is not None
    assert rule.admitting_peer.index == 1


def _audited(text: str) -> str:
    """A policy of `policy()` put in audit mode by podwall's annotation."""
    return text.replace(
        "metadata: {", "metadata: {annotations: {podwall.dev/enforcement: audit}, ", 1
    )


TRIAL_DENY = _audited(policy("trial", "x", "podSelector: {}\npolicyTypes: [Ingress]"))
TRIAL_ALLOW_B = _audited(
    policy(
        "trial-b",
        "x",
        "podSelector: {}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}]}]",
    )
)


def test_a_policy_in_audit_mode_alone_lets_through_what_it_would_deny() -> None:
    c = make_cluster(TRIAL_DENY)
    decision = decide(c, traffic(c, "y/a", "x/a", 80))
    assert decision.allowed
    assert (decision.ingress.status, decision.ingress.audit) == (Status.AUDITED, True)
    assert "allowed (audit mode): would be denied by the default deny of x/trial" in "\n".join(
        full(decision)
    )


def test_a_policy_in_audit_mode_says_which_rule_it_would_allow_by() -> None:
    c = make_cluster(TRIAL_DENY + TRIAL_ALLOW_B)
    decision = decide(c, traffic(c, "x/b", "x/a", 80))
    assert (decision.ingress.status, decision.ingress.audit) == (Status.ALLOWED, True)
    [(check, rule)] = decision.ingress.admitted_by
    assert (check.policy.key, rule.index) == ("x/trial-b", 0)
    assert "in audit mode, which decides nothing" in "\n".join(full(decision))


def test_an_enforced_policy_decides_and_audited_ones_are_not_consulted() -> None:
    c = make_cluster(DENY_INGRESS_X + TRIAL_ALLOW_B)
    decision = decide(c, traffic(c, "x/b", "x/a", 80))
    assert not decision.allowed
    assert (decision.ingress.status, decision.ingress.audit) == (Status.DENIED, False)
    assert [p.policy.key for p in decision.ingress.policies] == ["x/deny"]


# NetworkPolicySpec.ingress: "Traffic is allowed to a pod if there are no NetworkPolicies
# selecting the pod (and cluster policy otherwise allows the traffic), OR if the traffic source
# is the pod's local node, OR if the traffic matches at least one ingress rule ...".
DENY_ALL_X = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress, Egress]")


@pytest.mark.parametrize(
    ("src", "dst", "allowed", "status"),
    [
        ("x/host", "x/a", True, Status.LOCAL_NODE),
        ("198.18.255.1", "x/a", True, Status.LOCAL_NODE),
        ("x/host", "x/b", False, Status.DENIED),
        ("198.18.255.1", "x/b", False, Status.DENIED),
        ("x/b", "x/a", False, Status.DENIED),
    ],
    ids=[
        "a host-network pod reaches a pod on its node",
        "the node's own address reaches a pod on it",
        "a host-network pod on another node is subject to the policy",
        "another node's address is subject to the policy",
        "a pod on another node is subject to the policy",
    ],
)
def test_ingress_from_the_pods_own_node_is_always_allowed(
    src: str, dst: str, allowed: bool, status: Status
) -> None:
    c = make_cluster(DENY_ALL_X, base=ON_N1)
    decision = decide(c, traffic(c, src, dst, 80))
    assert (decision.ingress.allowed, decision.ingress.status) == (allowed, status)
    if status is Status.LOCAL_NODE:
        assert "traffic from a pod's own node is always allowed in" in "\n".join(full(decision))


def test_egress_to_the_pods_own_node_is_still_subject_to_policy() -> None:
    c = make_cluster(DENY_ALL_X, base=ON_N1)
    decision = decide(c, traffic(c, "x/a", "x/host", 80))
    assert decision.egress.status is Status.DENIED

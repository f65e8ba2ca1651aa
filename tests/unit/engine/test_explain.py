"""Explanations: the words `brief()` and `full()` print for each way a side is decided, and the
JSON the editor and `--output json` read."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from podwall.engine import decide
from podwall.engine.explain import brief, full, headline, to_json, verdict_word
from tests.builders import make_cluster, policy, traffic

DENY = policy("deny", "x", "podSelector: {}\npolicyTypes: [Ingress]")
WEB = policy("web", "x", "podSelector: {matchLabels: {app: a}}\ningress: [{from: [{podSelector: {matchLabels: {app: b}}}, {namespaceSelector: {matchLabels: {team: blue}}}], ports: [{port: 80}]}]")  # fmt: skip
ANY_80 = policy("any", "y", "podSelector: {}\npolicyTypes: [Egress]\negress: [{ports: [{port: 80}]}]")  # fmt: skip
NOT_ISOLATED_OUT = "allowed: not isolated for egress (no NetworkPolicy selects it with policyType Egress)"  # fmt: skip


@dataclass(frozen=True)
class Case:
    id: str
    src: str
    dst: str
    port: int
    lines: list[str]  # the brief explanation


CASES = [
    Case("a source outside the cluster has no egress policy", "203.0.113.9", "y/a", 80, [
        "ALLOWED  203.0.113.9 -> y/a:80/TCP",
        "  egress  203.0.113.9: allowed: outside the cluster, no NetworkPolicy applies to its egress",
        "  ingress y/a: allowed: not isolated for ingress (no NetworkPolicy selects it with policyType Ingress)",
    ]),
    Case("a host-network pod is not subject to policy", "y/host", "x/b", 80, [
        "DENIED  y/host -> x/b:80/TCP",
        "  egress  y/host: allowed: host-network pods are not subject to NetworkPolicy",
        "  ingress x/b: denied: isolated for ingress by x/deny; no rule allows it",
        "    x/deny: selects it by podSelector {} and has no ingress rules: default deny",
    ]),
    Case("a pod reaching itself is allowed on both sides", "x/a", "x/a", 9, [
        "ALLOWED  x/a -> x/a:9/TCP",
        "  egress  x/a: allowed: a pod cannot block traffic to itself",
        "  ingress x/a: allowed: a pod cannot block traffic to itself",
    ]),
    Case("an admitted connection names the policy, rule and peer", "y/a", "x/a", 80, [
        "ALLOWED  y/a -> x/a:80/TCP",
        "  egress  y/a: allowed by y/any egress[0] (every destination) (isolated for egress by y/any)",
        "  ingress x/a: allowed by x/web ingress[0] from[1] (namespaceSelector {team: blue} matches y/a) "
        "(isolated for ingress by x/deny, x/web)",
    ]),
    Case("a denied connection walks every rule of the isolating policies", "y/a", "x/a", 81, [
        "DENIED  y/a -> x/a:81/TCP",
        "  egress  y/a: denied: isolated for egress by y/any; no rule allows it",
        "    y/any: selects it by podSelector {}; 1 egress rule(s):",
        "      egress[0] does not match:",
        "        no  ports: TCP 80 does not include 81",
        "        ok  to: every peer (no to list)",
        "  ingress x/a: denied: isolated for ingress by x/deny, x/web; no rule allows it",
        "    x/deny: selects it by podSelector {} and has no ingress rules: default deny",
        "    x/web: selects it by podSelector {app: a}; 1 ingress rule(s):",
        "      ingress[0] does not match:",
        "        no  ports: TCP 80 does not include 81",
        "        no  from[0]: podSelector {app: b} selects pods in namespace x only; y/a is in namespace y",
        "        ok  from[1]: namespaceSelector {team: blue} matches y/a",
    ]),
    Case("a pod no policy selects is not isolated", "x/b", "y/b", 5, [
        "ALLOWED  x/b -> y/b:5/TCP",
        "  egress  x/b: " + NOT_ISOLATED_OUT,
        "  ingress y/b: allowed: not isolated for ingress (no NetworkPolicy selects it with policyType Ingress)",
    ]),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_brief(case: Case) -> None:
    c = make_cluster(DENY + WEB + ANY_80)
    assert brief(decide(c, traffic(c, case.src, case.dst, case.port))) == case.lines


def test_full_also_walks_the_rules_of_an_allowed_side() -> None:
    c = make_cluster(DENY + WEB + ANY_80)
    decision = decide(c, traffic(c, "x/b", "x/a", 80))
    lines = full(decision)
    assert lines[:3] == brief(decision)
    assert lines[3:] == [
        "    x/deny: selects it by podSelector {} and has no ingress rules: default deny",
        "    x/web: selects it by podSelector {app: a}; 1 ingress rule(s):",
        "      ingress[0] matches:",
        "        ok  ports: TCP 80",
        "        ok  from[0]: podSelector {app: b} matches x/b",
        "        no  from[1]: namespaceSelector {team: blue} does not match namespace x "
        "{kubernetes.io/metadata.name: x, team: red}",
    ]


@pytest.mark.parametrize(("allowed", "word"), [(True, "ALLOWED"), (False, "DENIED")])
def test_the_verdict_leads_the_headline(allowed: bool, word: str) -> None:
    c = make_cluster(DENY)
    decision = decide(c, traffic(c, "y/a", "x/a" if not allowed else "y/b", 53, "UDP"))
    assert verdict_word(decision.allowed) == word
    assert headline(decision).startswith(word + "  y/a -> ")
    assert headline(decision).endswith(":53/UDP")


def test_json_carries_every_check_with_its_reason() -> None:
    c = make_cluster(DENY + WEB)
    data = to_json(decide(c, traffic(c, "y/a", "x/a", 81)))
    assert (data["allowed"], data["from"], data["to"], data["port"], data["protocol"]) == (
        False, "y/a", "x/a", 81, "TCP",
    )  # fmt: skip
    assert data["egress"] == {
        "endpoint": "y/a", "allowed": True, "status": "not-isolated", "audit": False,
        "policies": [],
    }  # fmt: skip
    ingress = data["ingress"]
    assert (ingress["status"], ingress["allowed"]) == ("denied", False)
    deny, web = ingress["policies"]
    assert deny == {
        "policy": "x/deny", "audit": False, "allowed": False, "defaultDeny": True, "rules": [],
    }  # fmt: skip
    [rule] = web["rules"]
    assert rule["ports"] == {"matched": False, "reason": "TCP 80 does not include 81"}
    assert [(p["index"], p["matched"]) for p in rule["peers"]] == [(0, False), (1, True)]

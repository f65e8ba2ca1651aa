"""Explanations of sides the tiers took part in: tier, priority, policy, rule and action."""

from __future__ import annotations

from podwall.engine import decide
from podwall.engine.explain import brief, full, to_json
from tests.builders import cluster_policy, make_cluster, policy, traffic

X = "subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}"
PASS_DNS = cluster_policy(
    "allow-monitoring", "Admin", 10,
    f"{X}\ningress: [{{name: pass-dns, action: Pass, from: [{{namespaces: {{}}}}]}}]",
)  # fmt: skip
NP = policy("np", "x", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]")
DENY_ALL = cluster_policy(
    "default-deny", "Baseline", 1000,
    "subject: {namespaces: {}}\n"
    "ingress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]",
)  # fmt: skip
NOT_ISOLATED_OUT = (
    "  egress  y/a: allowed: not isolated for egress (no NetworkPolicy selects it with "
    "policyType Egress)"
)


def _brief(objects: str, src: str = "y/a", dst: str = "x/a") -> list[str]:
    c = make_cluster(objects)
    return brief(decide(c, traffic(c, src, dst, 80)))


def test_a_pass_then_a_network_policy_names_both() -> None:
    assert _brief(PASS_DNS + NP) == [
        "ALLOWED  y/a -> x/a:80/TCP",
        NOT_ISOLATED_OUT,
        "  ingress x/a: passed by admin/allow-monitoring rule 'pass-dns' (priority 10, "
        "ingress[0]: from[0] namespaces {} matches y/a; all ports), then allowed by x/np "
        "ingress[0] from[0] (namespaceSelector {} matches y/a) (isolated for ingress by x/np)",
    ]


def test_a_baseline_deny_names_the_tiers_it_went_through() -> None:
    assert _brief(PASS_DNS + DENY_ALL) == [
        "DENIED  y/a -> x/a:80/TCP",
        NOT_ISOLATED_OUT,
        "  ingress x/a: passed by admin/allow-monitoring rule 'pass-dns' (priority 10, "
        "ingress[0]: from[0] namespaces {} matches y/a; all ports), then no NetworkPolicy "
        "isolates it for ingress, then denied by baseline/default-deny rule 'deny-all' "
        "(priority 1000, ingress[0]: from[0] namespaces {} matches y/a; all ports)",
    ]


def test_an_unmatched_tier_is_named_and_the_default_allows() -> None:
    deny_red = cluster_policy(
        "red", "Admin", 3, f"{X}\ningress: [{{action: Deny, from: [{{namespaces: {{matchLabels: "
        "{team: red}}}]}]",
    )  # fmt: skip
    assert _brief(deny_red)[2] == (
        "  ingress x/a: no Admin rule matches (admin/red), then no NetworkPolicy isolates it "
        "for ingress, then allowed by default"
    )


def test_a_side_no_cluster_policy_selects_reads_as_before() -> None:
    other = cluster_policy(
        "y-only", "Admin", 1,
        "subject: {namespaces: {matchLabels: {team: blue}}}\n"
        "ingress: [{action: Deny, from: [{namespaces: {}}]}]",
    )  # fmt: skip
    assert _brief(other + NP) == _brief(NP)


def test_the_full_explanation_lists_every_rule_checked_per_tier() -> None:
    c = make_cluster(PASS_DNS + DENY_ALL)
    lines = full(decide(c, traffic(c, "y/a", "x/a", 80)))
    assert lines[3:] == [
        "    Admin tier:",
        "      admin/allow-monitoring (priority 10) selects it by namespaces "
        "{kubernetes.io/metadata.name: x}; 1 of 1 ingress rule(s) checked:",
        "        ingress[0] 'pass-dns' Pass: matches:",
        "          ok  ports: all ports",
        "          ok  from[0]: namespaces {} matches y/a",
        "    Baseline tier:",
        "      baseline/default-deny (priority 1000) selects it by namespaces {}; 1 of 1 ingress "
        "rule(s) checked:",
        "        ingress[0] 'deny-all' Deny: matches:",
        "          ok  ports: all ports",
        "          ok  from[0]: namespaces {} matches y/a",
    ]


def test_json_carries_the_tiers_only_where_they_took_part() -> None:
    c = make_cluster(PASS_DNS + DENY_ALL)
    out = to_json(decide(c, traffic(c, "y/a", "x/a", 80)))
    assert "admin" not in out["egress"]
    assert out["ingress"]["status"] == "baseline-denied"
    assert out["ingress"]["admin"]["action"] == "Pass"
    (rule,) = out["ingress"]["baseline"]["policies"][0]["rules"]
    assert (rule["name"], rule["action"], rule["matched"]) == ("deny-all", "Deny", True)


def test_a_final_tier_decision_reads_as_one_phrase() -> None:
    from podwall.engine.tierexplain import final_phrase

    c = make_cluster(PASS_DNS + DENY_ALL)
    decision = decide(c, traffic(c, "y/a", "x/a", 80))
    assert final_phrase(decision.ingress) == (
        "denied by baseline/default-deny rule 'deny-all' (priority 1000)"
    )
    assert final_phrase(decision.egress) is None

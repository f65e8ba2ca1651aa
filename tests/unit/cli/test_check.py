"""`podwall check` and `podwall explain` over the seed lab: verdicts, reasons, exit codes, JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import Result, invoke

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
APP = str(TUTORIAL / "simple-app.yaml")
DENY = str(TUTORIAL / "backend-ingress-deny.yaml")
ALLOW = str(TUTORIAL / "backend-allow-ingress-frontend.yaml")
FIXTURES = ROOT / "tests" / "fixtures"

BEFORE = (APP,)
DENIED = (APP, DENY)
BOTH = (APP, DENY, ALLOW)


def run(*args: str, stdin: str | None = None) -> Result:
    """Run podwall; an exception other than the exit is a bug, never a verdict."""
    return invoke(args, input=stdin)


def _files(paths: tuple[str, ...]) -> list[str]:
    return [arg for path in paths for arg in ("-f", path)]


VERDICTS = [
    ("before any policy the frontend reaches the backend", BEFORE, "deploy/frontend", 0,
     ["ALLOWED  default/frontend -> default/backend:8080/TCP",
      "ingress default/backend: allowed: not isolated for ingress"]),
    ("before any policy not-frontend reaches the backend too", BEFORE, "deploy/not-frontend", 0,
     ["ALLOWED  default/not-frontend -> default/backend:8080/TCP"]),
    ("the deny policy denies the frontend by default deny", DENIED, "deploy/frontend", 1,
     ["DENIED  default/frontend -> default/backend:8080/TCP",
      "isolated for ingress by default/backend-ingress-deny; no rule allows it",
      "default/backend-ingress-deny: selects it by podSelector {app: backend} and has no ingress "
      "rules: default deny"]),
    ("the deny policy denies not-frontend as well", DENIED, "deploy/not-frontend", 1,
     ["DENIED  default/not-frontend -> default/backend:8080/TCP", "default deny"]),
    ("with both policies the frontend is allowed by the allow rule", BOTH, "deploy/frontend", 0,
     ["ALLOWED  default/frontend -> default/backend:8080/TCP",
      "allowed by default/backend-allow-ingress-frontend ingress[0] from[0] "
      "(podSelector {app: frontend} matches default/frontend)"]),
    ("with both policies not-frontend is still denied", BOTH, "deploy/not-frontend", 1,
     ["DENIED  default/not-frontend -> default/backend:8080/TCP",
      "ingress[0] does not match:",
      "no  from[0]: podSelector {app: frontend} does not match pod default/not-frontend "
      "{app: not-frontend}",
      "default/backend-ingress-deny: selects it by podSelector {app: backend} and has no ingress "
      "rules: default deny"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("paths", "src", "code", "phrases"), [c[1:] for c in VERDICTS], ids=[c[0] for c in VERDICTS]
)
def test_check_the_tutorial(
    paths: tuple[str, ...], src: str, code: int, phrases: list[str]
) -> None:
    result = run("check", *_files(paths), "--from", src, "--to", "svc/backend:8080")
    assert result.exit_code == code, result.output
    for phrase in phrases:
        assert phrase in result.stdout
    assert result.stderr == ""


def test_check_matches_the_readme_word_for_word() -> None:
    result = run(
        "check", "-f", str(TUTORIAL), "--from", "deploy/not-frontend", "--to", "svc/backend:8080"
    )
    assert result.exit_code == 1
    assert result.stdout == (
        "DENIED  default/not-frontend -> default/backend:8080/TCP\n"
        "  egress  default/not-frontend: allowed: not isolated for egress (no NetworkPolicy "
        "selects it with policyType Egress)\n"
        "  ingress default/backend: denied: isolated for ingress by "
        "default/backend-allow-ingress-frontend, default/backend-ingress-deny; no rule allows it\n"
        "    default/backend-allow-ingress-frontend: selects it by podSelector {app: backend}; "
        "1 ingress rule(s):\n"
        "      ingress[0] does not match:\n"
        "        ok  ports: all ports\n"
        "        no  from[0]: podSelector {app: frontend} does not match pod "
        "default/not-frontend {app: not-frontend}\n"
        "    default/backend-ingress-deny: selects it by podSelector {app: backend} and has no "
        "ingress rules: default deny\n"
    )


REFERENCES = [
    ("a pod name and a service name with its named port", "frontend", "svc/backend:http", 0),
    ("a namespaced pod and a pod with its port", "default/frontend", "backend:8080", 0),
    ("a namespaced deployment", "default/deploy/not-frontend", "deploy/backend:8080", 1),
    ("a service with one port needs no port", "frontend", "svc/backend", 0),
    ("a pod with one container port needs no port", "not-frontend", "backend", 1),
    ("an address outside the cluster is denied by the allow-frontend rule", "192.0.2.1",
     "backend:8080", 1),
    ("a pod may send anywhere outside the cluster", "backend", "192.0.2.1:443", 0),
    ("a pod can always reach itself", "backend", "backend:8080", 0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("src", "dst", "code"), [c[1:] for c in REFERENCES], ids=[c[0] for c in REFERENCES]
)
def test_check_references(src: str, dst: str, code: int) -> None:
    result = run("check", "-f", str(TUTORIAL), "--from", src, "--to", dst)
    assert result.exit_code == code, result.output
    assert result.stdout.startswith("ALLOWED  " if code == 0 else "DENIED  ")


def test_check_json_is_parsable_and_names_the_policies() -> None:
    result = run(
        "check", *_files(BOTH), "--from", "deploy/frontend", "--to", "svc/backend:8080", "-o",
        "json",
    )  # fmt: skip
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["allowed"] is True
    (decision,) = data["decisions"]
    assert (decision["from"], decision["to"], decision["port"], decision["protocol"]) == (
        "default/frontend",
        "default/backend",
        8080,
        "TCP",
    )
    policies = decision["ingress"]["policies"]
    assert [p["policy"] for p in policies] == [
        "default/backend-allow-ingress-frontend",
        "default/backend-ingress-deny",
    ]
    assert [p["defaultDeny"] for p in policies] == [False, True]
    assert (decision["egress"]["status"], decision["egress"]["allowed"]) == ("not-isolated", True)


def test_check_json_when_denied_exits_1() -> None:
    result = run(
        "check", *_files(DENIED), "--from", "frontend", "--to", "backend:8080", "-o", "json"
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["allowed"] is False
    assert data["decisions"][0]["ingress"]["policies"][0]["policy"] == (
        "default/backend-ingress-deny"
    )


def test_a_service_with_several_pods_is_allowed_only_if_all_are() -> None:
    # Two real backend pods replace the Deployment's stand-in; one of them also admits
    # not-frontend.
    stdin = """
apiVersion: v1
kind: Pod
metadata: {name: backend-1, labels: {app: backend}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: backend-legacy, labels: {app: backend, legacy: "true"}}
spec: {containers: [{name: c, ports: [{containerPort: 8080}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: legacy-allows-everyone}
spec:
  podSelector: {matchLabels: {legacy: "true"}}
  ingress: [{}]
"""
    args = ["--from", "not-frontend", "--to", "svc/backend:8080", "-o", "json"]
    result = run("check", "-f", str(TUTORIAL), "-f", "-", *args, stdin=stdin)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["allowed"] is False
    assert [(d["to"], d["allowed"]) for d in data["decisions"]] == [
        ("default/backend-1", False),
        ("default/backend-legacy", True),
    ]
    text = run("check", "-f", str(TUTORIAL), "-f", "-", *args[:-2], stdin=stdin)
    assert text.exit_code == 1
    assert "DENIED  default/not-frontend -> default/backend-1:8080/TCP" in text.stdout
    assert "ALLOWED  default/not-frontend -> default/backend-legacy:8080/TCP" in text.stdout


def test_stdin_is_read_with_dash() -> None:
    stdin = Path(APP).read_text() + "\n---\n" + Path(DENY).read_text()
    result = run("check", "-f", "-", "--from", "frontend", "--to", "backend:8080", stdin=stdin)
    assert result.exit_code == 1
    assert "default/backend-ingress-deny" in result.stdout


def test_explain_walks_every_rule_even_when_allowed() -> None:
    result = run("explain", *_files(BOTH), "--from", "frontend", "--to", "svc/backend:8080")
    assert result.exit_code == 0
    assert result.stdout.startswith("ALLOWED  default/frontend -> default/backend:8080/TCP\n")
    assert "backend-allow-ingress-frontend ingress[0]" in result.stdout
    assert "default/backend-ingress-deny" in result.stdout


def test_explain_json_has_the_rules_and_peers() -> None:
    result = run(
        "explain", *_files(BOTH), "--from", "not-frontend", "--to", "backend:8080", "-o", "json"
    )
    assert result.exit_code == 1
    policy = json.loads(result.stdout)["decisions"][0]["ingress"]["policies"][0]
    assert policy["policy"] == "default/backend-allow-ingress-frontend"
    (rule,) = policy["rules"]
    assert rule["matched"] is False
    assert rule["peers"][0]["matched"] is False


NAMED = str(FIXTURES / "named-ports.yaml")


def test_a_named_target_port_is_resolved_on_each_pod() -> None:
    result = run("check", "-f", NAMED, "--from", "client", "--to", "svc/servers:web")
    assert result.exit_code == 0
    assert "ALLOWED  default/client -> default/old:8080/TCP" in result.stdout
    assert "ALLOWED  default/client -> default/new:9090/TCP" in result.stdout


def test_a_pod_lacking_the_named_port_is_noted_and_the_others_decided() -> None:
    result = run("check", "-f", NAMED, "--from", "client", "--to", "svc/servers:dns/udp")
    assert result.exit_code == 0
    assert result.stdout.startswith("ALLOWED  default/client -> default/old:53/UDP\n")
    assert "default/new" not in result.stdout
    assert "default/client -> default/new has no port dns: no connection possible" in (
        result.stderr
    )


HELP = [
    ("the top level lists the commands", (), ["check", "explain", "matrix"]),
    ("check documents its exit codes", ("check",),
     ["0 allowed, 1 denied, 2 bad input", "--from", "--to", "-f, --filename", "{text,json}"]),
    ("explain documents its exit codes as for check", ("explain",),
     ["Exit status as for `check`", "--from", "--to"]),
    ("matrix documents its JSON contract", ("matrix",),
     ['{"pods": ["ns/name", ...], "allowed": [[true, false, ...], ...]}', "--port", "--protocol"]),
]  # fmt: skip


@pytest.mark.parametrize(("command", "phrases"), [c[1:] for c in HELP], ids=[c[0] for c in HELP])
def test_help(command: tuple[str, ...], phrases: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    for phrase in phrases:
        assert phrase in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("podwall, version ")


# ClusterNetworkPolicy tiers around the lab (issue 11), as `make demo-engine` walks them.
TIERS = ROOT / "examples" / "tiers"
GUARD = str(TIERS / "admin-deny-not-frontend.yaml")
BASELINE = str(TIERS / "baseline-default-deny.yaml")
OPEN = str(TIERS / "backend-allow-all.yaml")

TIER_VERDICTS = [
    ("the Admin guardrail denies not-frontend", (APP, GUARD), "deploy/not-frontend", 1,
     "denied by admin/deny-not-frontend rule 'deny-not-frontend' (priority 10, ingress[0]"),
    ("the Admin guardrail lets frontend through to the default allow", (APP, GUARD),
     "deploy/frontend", 0, "no Admin rule matches (admin/deny-not-frontend), then no "
     "NetworkPolicy isolates it for ingress, then allowed by default"),
    ("the Baseline default deny closes backend", (APP, GUARD, BASELINE), "deploy/frontend", 1,
     "then denied by baseline/default-deny rule 'deny-all' (priority 1000"),
    ("the lab's policies decide for backend, as before", (APP, GUARD, BASELINE, DENY, ALLOW),
     "deploy/frontend", 0, "then allowed by default/backend-allow-ingress-frontend ingress[0]"),
    ("a NetworkPolicy cannot override the Admin Deny", (APP, GUARD, BASELINE, OPEN),
     "deploy/not-frontend", 1, "denied by admin/deny-not-frontend"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("paths", "src", "code", "phrase"),
    [c[1:] for c in TIER_VERDICTS],
    ids=[c[0] for c in TIER_VERDICTS],
)
def test_check_the_tutorial_with_tiers(
    paths: tuple[str, ...], src: str, code: int, phrase: str
) -> None:
    result = run("check", *_files(paths), "--from", src, "--to", "svc/backend:8080")
    assert result.exit_code == code, result.output
    assert phrase in result.stdout
    assert result.stderr == ""


def test_check_json_carries_the_tiers() -> None:
    args = [*_files((APP, GUARD)), "--from", "deploy/not-frontend", "--to", "svc/backend:8080"]
    result = run("check", *args, "-o", "json")
    assert result.exit_code == 1
    ingress = json.loads(result.stdout)["decisions"][0]["ingress"]
    assert ingress["status"] == "admin-denied"
    assert ingress["admin"]["action"] == "Deny"
    assert ingress["admin"]["policies"][0]["policy"] == "deny-not-frontend"


# The same tiers written in the v1alpha1 API (AdminNetworkPolicy, BaselineAdminNetworkPolicy):
# the same verdicts, each named by the object that was written.
ANP = ROOT / "examples" / "anp"
ANP_GUARD = str(ANP / "admin-deny-not-frontend.yaml")
BANP = str(ANP / "baseline-default-deny.yaml")

ANP_VERDICTS = [
    ("the AdminNetworkPolicy denies not-frontend", (APP, ANP_GUARD), "deploy/not-frontend", 1,
     "denied by AdminNetworkPolicy deny-not-frontend rule 'deny-not-frontend' (priority 10, "
     "ingress[0]"),
    ("the AdminNetworkPolicy lets frontend through to the default allow", (APP, ANP_GUARD),
     "deploy/frontend", 0, "no Admin rule matches (AdminNetworkPolicy deny-not-frontend), then "
     "no NetworkPolicy isolates it for ingress, then allowed by default"),
    ("the BaselineAdminNetworkPolicy closes backend", (APP, ANP_GUARD, BANP), "deploy/frontend",
     1, "then denied by BaselineAdminNetworkPolicy default rule 'deny-all' (ingress[0]: from[0] "
     "namespaces {} matches default/frontend"),
    ("the lab's policies decide for backend, before the baseline",
     (APP, ANP_GUARD, BANP, DENY, ALLOW), "deploy/frontend", 0,
     "then allowed by default/backend-allow-ingress-frontend ingress[0]"),
    ("a NetworkPolicy cannot override the AdminNetworkPolicy's Deny",
     (APP, ANP_GUARD, BANP, OPEN), "deploy/not-frontend", 1,
     "denied by AdminNetworkPolicy deny-not-frontend"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("paths", "src", "code", "phrase"),
    [c[1:] for c in ANP_VERDICTS],
    ids=[c[0] for c in ANP_VERDICTS],
)
def test_check_the_tutorial_with_admin_network_policies(
    paths: tuple[str, ...], src: str, code: int, phrase: str
) -> None:
    result = run("check", *_files(paths), "--from", src, "--to", "svc/backend:8080")
    assert result.exit_code == code, result.output
    assert phrase in result.stdout
    assert result.stderr == ""


def test_explain_says_allow_for_an_admin_network_policy_rule(tmp_path: Path) -> None:
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\n"
        "metadata: {name: allow-frontend}\nspec:\n  priority: 5\n"
        "  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: backend}}}}\n"
        "  ingress:\n  - name: frontend\n    action: Allow\n"
        "    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: frontend}}}}]\n"
        "    ports: [{portNumber: {port: 8080}}]\n"
    )
    args = [*_files((APP, BANP, str(allow))), "--from", "deploy/frontend"]
    result = run("explain", *args, "--to", "svc/backend:8080")
    assert result.exit_code == 0, result.output
    assert (
        "allowed by AdminNetworkPolicy allow-frontend rule 'frontend' (priority 5, ingress[0]: "
        "from[0] pods {app: frontend} in namespaces {} matches default/frontend; TCP 8080)"
    ) in result.stdout
    assert "ingress[0] 'frontend' Allow: matches:" in result.stdout


def test_check_json_names_the_admin_network_policy_kind() -> None:
    args = [*_files((APP, ANP_GUARD)), "--from", "deploy/not-frontend", "--to", "svc/backend:8080"]
    result = run("check", *args, "-o", "json")
    assert result.exit_code == 1
    admin = json.loads(result.stdout)["decisions"][0]["ingress"]["admin"]
    assert admin["policies"][0]["kind"] == "AdminNetworkPolicy"
    assert admin["policies"][0]["policy"] == "deny-not-frontend"

"""Explanations as a user reads them, held in golden files (`make golden` rewrites them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podwall.cli.resolve import connections
from podwall.engine import decide
from podwall.engine.explain import full
from podwall.manifests import load_paths
from podwall.model.convert import cluster

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "examples" / "tutorial"
HERE = Path(__file__).parent

STAGES = {
    "no-policy": ["simple-app.yaml"],
    "deny": ["simple-app.yaml", "backend-ingress-deny.yaml"],
    "deny-and-allow": [
        "simple-app.yaml",
        "backend-ingress-deny.yaml",
        "backend-allow-ingress-frontend.yaml",
    ],
}
CASES = [
    (stage, client) for stage in STAGES for client in ("deploy/frontend", "deploy/not-frontend")
]


@pytest.mark.parametrize(
    ("stage", "client"), CASES, ids=[f"{s}-{c.split('/')[1]}" for s, c in CASES]
)
def test_tutorial_explanations(
    stage: str, client: str, golden: Callable[[Path, str], None]
) -> None:
    snapshot = cluster(load_paths([str(TUTORIAL / f) for f in STAGES[stage]]).objects).cluster
    traffic, missing = connections(snapshot, client, "svc/backend:8080", "default")
    assert not missing
    text = "\n".join(line for t in traffic for line in full(decide(snapshot, t))) + "\n"
    golden(HERE / "explain" / f"tutorial-{stage}-{client.split('/')[1]}.txt", text)


# The second walkthrough of `make demo-engine`: ClusterNetworkPolicy tiers around the lab.
TIERS = ROOT / "examples" / "tiers"
TIER_STAGES = {
    "admin": ["admin-deny-not-frontend.yaml"],
    "admin-baseline": ["admin-deny-not-frontend.yaml", "baseline-default-deny.yaml"],
    "admin-baseline-lab": [
        "admin-deny-not-frontend.yaml",
        "baseline-default-deny.yaml",
        "../tutorial/backend-ingress-deny.yaml",
        "../tutorial/backend-allow-ingress-frontend.yaml",
    ],
}
TIER_CASES = [
    (stage, client)
    for stage in TIER_STAGES
    for client in ("deploy/frontend", "deploy/not-frontend")
]


@pytest.mark.parametrize(
    ("stage", "client"), TIER_CASES, ids=[f"{s}-{c.split('/')[1]}" for s, c in TIER_CASES]
)
def test_tier_explanations(stage: str, client: str, golden: Callable[[Path, str], None]) -> None:
    files = [str(TUTORIAL / "simple-app.yaml"), *(str(TIERS / f) for f in TIER_STAGES[stage])]
    snapshot = cluster(load_paths(files).objects).cluster
    traffic, missing = connections(snapshot, client, "svc/backend:8080", "default")
    assert not missing
    text = "\n".join(line for t in traffic for line in full(decide(snapshot, t))) + "\n"
    golden(HERE / "explain" / f"tiers-{stage}-{client.split('/')[1]}.txt", text)


# The same walkthrough with the v1alpha1 kinds (examples/anp): AdminNetworkPolicy and
# BaselineAdminNetworkPolicy, named as written, Allow where ClusterNetworkPolicy says Accept.
ANP = ROOT / "examples" / "anp"
ANP_STAGES = {
    "admin": ["admin-deny-not-frontend.yaml"],
    "admin-baseline": ["admin-deny-not-frontend.yaml", "baseline-default-deny.yaml"],
    "admin-baseline-lab": [
        "admin-deny-not-frontend.yaml",
        "baseline-default-deny.yaml",
        "../tutorial/backend-ingress-deny.yaml",
        "../tutorial/backend-allow-ingress-frontend.yaml",
    ],
}
ANP_CASES = [
    (stage, client) for stage in ANP_STAGES for client in ("deploy/frontend", "deploy/not-frontend")
]


@pytest.mark.parametrize(
    ("stage", "client"), ANP_CASES, ids=[f"{s}-{c.split('/')[1]}" for s, c in ANP_CASES]
)
def test_admin_network_policy_explanations(
    stage: str, client: str, golden: Callable[[Path, str], None]
) -> None:
    files = [str(TUTORIAL / "simple-app.yaml"), *(str(ANP / f) for f in ANP_STAGES[stage])]
    snapshot = cluster(load_paths(files).objects).cluster
    traffic, missing = connections(snapshot, client, "svc/backend:8080", "default")
    assert not missing
    text = "\n".join(line for t in traffic for line in full(decide(snapshot, t))) + "\n"
    golden(HERE / "explain" / f"anp-{stage}-{client.split('/')[1]}.txt", text)

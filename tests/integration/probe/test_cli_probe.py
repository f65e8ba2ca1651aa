"""`podwall probe --nodes 3`: the lab's pods on three nodes, the `matrix` JSON contract and the
exit status unchanged, what was observed equal to what the engine predicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podwall.cli.probe import EXIT_AGREE
from tests.clirunner import invoke

LAB = Path(__file__).resolve().parents[3] / "examples" / "tutorial"
FILES = ["simple-app.yaml", "backend-ingress-deny.yaml", "backend-allow-ingress-frontend.yaml"]


@pytest.mark.netns
def test_probe_over_three_nodes_keeps_the_matrix_contract() -> None:
    paths = [arg for name in FILES for arg in ("-f", str(LAB / name))]
    probed = invoke(["probe", *paths, "--port", "8080", "--nodes", "3", "-o", "json"])
    assert probed.exit_code == EXIT_AGREE, probed.output
    predicted = invoke(["matrix", *paths, "--port", "8080", "-o", "json"])
    assert json.loads(probed.stdout) == json.loads(predicted.stdout)
    # Round-robin in file order: the three pods of simple-app.yaml, one per node.
    placed = [line for line in probed.stderr.splitlines() if line.startswith("node-")]
    assert len(placed) == 3
    assert all("default/" in line for line in placed)


@pytest.mark.netns
def test_probe_flows_prints_what_the_nodes_reported() -> None:
    paths = [arg for name in FILES for arg in ("-f", str(LAB / name))]
    text = invoke(["probe", *paths, "--port", "8080", "--nodes", "2", "--flows"])
    assert text.exit_code == EXIT_AGREE, text.output
    assert "flows the nodes reported" in text.stdout
    assert (
        "INGRESS ALLOWED: allowed by default/backend-allow-ingress-frontend ingress[0] from[0]"
        in text.stdout
    )
    as_json = invoke(["probe", *paths, "--port", "8080", "--flows", "-o", "json"])
    data = json.loads(as_json.stdout)
    assert set(data) == {"pods", "allowed", "flows"}  # the matrix contract, and the flows
    verdicts = {(f["source"]["pod"], f["verdict"]) for f in data["flows"]}
    assert {("frontend", "ALLOWED"), ("not-frontend", "DENIED")} <= verdicts


TIERS = LAB.parent / "tiers"
TIER_FILES = [
    TIERS / "admin-deny-not-frontend.yaml",
    TIERS / "baseline-default-deny.yaml",
    LAB / "backend-ingress-deny.yaml",
    LAB / "backend-allow-ingress-frontend.yaml",
]


@pytest.mark.netns
def test_probe_enforces_the_tiers_of_the_second_walkthrough() -> None:
    """The lab with the Admin deny-not-frontend and the Baseline default deny: probed as
    `podwall matrix` predicts, and each denial reported by the rule that decided it."""
    paths = [arg for p in [LAB / "simple-app.yaml", *TIER_FILES] for arg in ("-f", str(p))]
    probed = invoke(["probe", *paths, "--port", "8080", "--nodes", "2", "--flows", "-o", "json"])
    assert probed.exit_code == EXIT_AGREE, probed.output
    data = json.loads(probed.stdout)
    predicted = invoke(["matrix", *paths, "--port", "8080", "-o", "json"])
    assert {k: data[k] for k in ("pods", "allowed")} == json.loads(predicted.stdout)
    index = {pod: i for i, pod in enumerate(data["pods"])}
    row = data["allowed"][index["default/not-frontend"]]
    assert row[index["default/backend"]] is False
    assert data["allowed"][index["default/frontend"]][index["default/backend"]] is True
    reasons = {(f["source"]["pod"], f["destination"]["pod"]): f["reason"] for f in data["flows"]}
    assert reasons[("not-frontend", "backend")] == (
        "denied by admin/deny-not-frontend rule 'deny-not-frontend' (ingress[0] from[0])"
    )
    assert reasons[("backend", "frontend")] == (
        "denied by baseline/default-deny rule 'deny-all' (ingress[0] from[0])"
    )

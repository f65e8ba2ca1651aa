"""The seed lab with real packets: curl-equivalents by service name through cluster DNS."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.manifests import load_paths
from podwall.model.convert import cluster
from podwall.runtime.probe import run_probe

LAB = Path(__file__).resolve().parents[3] / "examples" / "tutorial"
STAGES = {
    "no policy": (["simple-app.yaml"], {"frontend": True, "not-frontend": True}),
    "backend-ingress-deny": (
        ["simple-app.yaml", "backend-ingress-deny.yaml"],
        {"frontend": False, "not-frontend": False},
    ),
    "and backend-allow-ingress-frontend": (
        ["simple-app.yaml", "backend-ingress-deny.yaml", "backend-allow-ingress-frontend.yaml"],
        {"frontend": True, "not-frontend": False},
    ),
}


@pytest.mark.netns
@pytest.mark.parametrize("stage", list(STAGES))
def test_clients_reach_backend_by_name_as_the_lab_shows(stage: str) -> None:
    files, expected = STAGES[stage]
    snapshot = cluster(load_paths([str(LAB / f) for f in files]).objects).cluster
    result = run_probe(snapshot, port=8080)
    by_name = {s.src.split("/")[1]: s for s in result.services if s.service == "default/backend"}
    assert {k: v.name for k, v in by_name.items()} == {k: "backend" for k in expected}
    assert {k: v.observed for k, v in by_name.items()} == expected
    assert {k: v.predicted for k, v in by_name.items()} == expected
    direct = {p.src.split("/")[1]: p.observed for p in result.probes if p.dst == "default/backend"}
    assert direct == expected
    assert not result.disagreements

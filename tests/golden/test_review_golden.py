"""Diffs and drawings as a reviewer reads them, held in golden files (`make golden`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from podwall.engine import connectivity
from podwall.manifests import load_paths
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster
from podwall.review import diffreport
from podwall.review.diff import diff
from podwall.review.graph import connectivity_dot, diff_dot

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "examples" / "tutorial"
HERE = Path(__file__).parent
APP = TUTORIAL / "simple-app.yaml"
DENY = TUTORIAL / "backend-ingress-deny.yaml"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"


def _load(*paths: Path) -> Cluster:
    # Relative names, so the golden files do not depend on where the checkout is.
    return cluster(load_paths([str(p.relative_to(ROOT)) for p in paths]).objects).cluster


@pytest.fixture(autouse=True)
def _at_the_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


DIFFS = {
    "deny-added": ((APP,), (APP, DENY)),
    "allow-added": ((APP, DENY), (APP, DENY, ALLOW)),
    "allow-removed": ((APP, DENY, ALLOW), (APP, DENY)),
}


@pytest.mark.parametrize("name", DIFFS)
def test_diff_text_and_markdown(name: str, golden: Callable[[Path, str], None]) -> None:
    before, after = DIFFS[name]
    d = diff(_load(*before), _load(*after))
    golden(HERE / "review" / f"diff-{name}.txt", "\n".join(diffreport.text(d)) + "\n")
    golden(HERE / "review" / f"diff-{name}.md", "\n".join(diffreport.markdown(d)) + "\n")
    golden(HERE / "review" / f"diff-{name}.dot", diff_dot(d))


DRAWINGS = {
    "tutorial": (TUTORIAL,),
    "shop-50": (ROOT / "tests" / "fixtures" / "shop-50.yaml",),
}


@pytest.mark.parametrize("name", DRAWINGS)
def test_matrix_drawing(name: str, golden: Callable[[Path, str], None]) -> None:
    dot = connectivity_dot(connectivity(_load(*DRAWINGS[name])))
    golden(HERE / "review" / f"matrix-{name}.dot", dot)

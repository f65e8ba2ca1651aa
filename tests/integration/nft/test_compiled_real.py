"""The kernel accepts every compiled ruleset: loaded for real into a throwaway namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.nft import runner

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "nft"
CASES = sorted(GOLDEN.glob("*.nft"))


@pytest.mark.netns
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_kernel_loads_compiled_ruleset(path: Path) -> None:
    listing = runner.trial(path.read_text())
    assert "table inet podwall" in listing
    assert "ip daddr vmap @in-pods" in listing

"""`podwall down` when this state directory has no cluster but other podwall namespaces exist:
it says that its own cluster is not there before listing the others, and touches nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.runtime import netns
from tests.clirunner import invoke


def test_down_without_a_cluster_says_so_before_listing_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(netns, "leftovers", lambda *a: ["pw-0ee4-fabric"])
    monkeypatch.setattr(
        netns, "remove_leftovers", lambda *a: pytest.fail("removed without --force")
    )
    result = invoke(["down", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"no cluster in {tmp_path}",
        "other podwall namespaces on this host: pw-0ee4-fabric",
        "run `podwall down --force` to remove them, if no other podwall sandbox is running",
    ]

"""Which cluster --cluster, --kubeconfig and --context name, if any."""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.cli.livetarget import LiveTarget

TARGETS = [
    ("nothing: files only", (None, None, False), None),
    ("--kubeconfig", ("k", None, False), LiveTarget(kubeconfig=Path("k"), context=None)),
    ("--context alone: the client's default kubeconfig", (None, "prod", False),
     LiveTarget(kubeconfig=None, context="prod")),
    ("--cluster with --kubeconfig: that kubeconfig", ("k", None, True),
     LiveTarget(kubeconfig=Path("k"), context=None)),
]  # fmt: skip


@pytest.mark.parametrize(("given", "target"), [c[1:] for c in TARGETS], ids=[c[0] for c in TARGETS])
def test_live_target(given: tuple[str | None, str | None, bool], target: LiveTarget | None) -> None:
    assert LiveTarget.of(*given) == target


def test_cluster_without_a_local_cluster_says_how_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from podwall.manifests.reader import LoadError

    monkeypatch.setenv("PODWALL_STATE_DIR", str(tmp_path))
    with pytest.raises(LoadError, match=r"no local cluster runs in .*start one with `podwall up`"):
        LiveTarget.of(None, None, True)
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    assert LiveTarget.of(None, None, True) == LiveTarget(
        kubeconfig=tmp_path / "kubeconfig", context=None
    )

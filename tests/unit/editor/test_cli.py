"""`podwall editor` refuses what it must before it listens."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirunner import invoke


def test_beyond_loopback_is_refused_without_listen_any() -> None:
    result = invoke(["editor", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output


def test_a_missing_manifest_is_bad_input() -> None:
    result = invoke(["editor", "-f", "/nonexistent/x.yaml"])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_attaching_without_a_cluster_says_how(tmp_path: Path) -> None:
    result = invoke(["editor", "--kubeconfig", str(tmp_path / "kubeconfig")])
    assert result.exit_code == 2
    assert "no kubeconfig there (is `podwall up` running?)" in result.output


def test_cluster_attaches_to_podwall_ups_kubeconfig(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PODWALL_STATE_DIR", str(tmp_path))
    result = invoke(["editor", "--cluster"])
    assert result.exit_code == 2
    assert f"{tmp_path / 'kubeconfig'}: no kubeconfig there" in result.output
    assert "start one with `podwall up`" in result.output

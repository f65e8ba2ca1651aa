"""--cluster, --kubeconfig and --context without a cluster to reach: clear bad input (exit 2).

Reading a running cluster is tested against `podwall up`'s own cluster in
tests/e2e/kubectl/test_review_live.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from podwall.cli import daemon
from tests.clirunner import Result, invoke


def run(*args: str) -> Result:
    return invoke(args)


COMMANDS = [
    ["check", "--from", "a", "--to", "b:80"],
    ["explain", "--from", "a", "--to", "b:80"],
    ["matrix"],
    ["lint"],
    ["exposure", "--all"],
    ["diff", "after.yaml"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_kubeconfig_that_does_not_exist(command: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = run(*command, "--kubeconfig", str(missing))
    assert result.exit_code == 2
    assert f"{missing}: no kubeconfig there" in result.stderr


def test_a_kubeconfig_that_is_not_one(tmp_path: Path) -> None:
    bad = tmp_path / "config"
    bad.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    result = run("matrix", "--kubeconfig", str(bad))
    assert result.exit_code == 2
    assert f"{bad}: cannot use this kubeconfig" in result.stderr


def test_cluster_without_podwall_up_names_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(daemon.ENV_STATE_DIR, str(tmp_path))
    result = run("matrix", "--cluster")
    assert result.exit_code == 2
    assert f"{tmp_path / 'kubeconfig'}: no kubeconfig there" in result.stderr


def test_diff_on_a_cluster_needs_what_to_apply(tmp_path: Path) -> None:
    result = run("diff", "--kubeconfig", str(tmp_path / "k"))
    assert result.exit_code == 2
    assert "with a cluster, give what to apply on it: AFTER paths or --git REV:PATH" in (
        result.stderr
    )

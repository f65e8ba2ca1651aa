"""check, explain, matrix, lint and exposure on a git revision (`--git REV:PATH`), alone and
with -f files layered on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import Result, invoke
from tests.unit.cli.gitrepo import git, make_repo

TUTORIAL = Path(__file__).parents[3] / "examples" / "tutorial"
APP = TUTORIAL / "simple-app.yaml"
DENY = TUTORIAL / "backend-ingress-deny.yaml"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"
CONNECTION = ("--from", "deploy/frontend", "--to", "svc/backend:8080")


def run(*args: str) -> Result:
    return invoke(args)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    top = make_repo(tmp_path / "repo", (APP, DENY))
    monkeypatch.chdir(top)
    return top


def test_check_and_explain_read_the_revision(repo: Path) -> None:
    denied = run("check", "--git", "HEAD:k8s", *CONNECTION)
    assert denied.exit_code == 1, denied.output
    assert "default/backend-ingress-deny" in denied.stdout
    assert run("explain", "--git", "HEAD:k8s", *CONNECTION).exit_code == 1


def test_files_layer_on_the_revision(repo: Path) -> None:
    assert run("check", "--git", "HEAD:k8s", "-f", str(ALLOW), *CONNECTION).exit_code == 0


def test_matrix_on_the_revision(repo: Path) -> None:
    data = json.loads(run("matrix", "--git", "HEAD:k8s", "--port", "8080", "-o", "json").stdout)
    assert data["pods"] == ["default/backend", "default/frontend", "default/not-frontend"]
    assert data["allowed"][1][0] is False


def test_lint_names_the_revision_and_line(repo: Path) -> None:
    bad = repo / "k8s" / "bad.yaml"
    bad.write_text(ALLOW.read_text().replace("app: backend", "app: backnd"))
    assert run("lint", "--git", "HEAD:k8s").exit_code == 0  # not committed: not in HEAD
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "typo")
    result = run("lint", "--git", "HEAD:k8s")
    assert result.exit_code == 1
    assert result.stdout.startswith("HEAD:k8s/bad.yaml:7: warning: NetworkPolicy default/")
    doc = json.loads(run("lint", "--git", "HEAD:k8s", "-o", "sarif").stdout)
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "k8s/bad.yaml"}


def test_exposure_on_the_revision(repo: Path) -> None:
    result = run("exposure", "--git", "HEAD:k8s", "deploy/backend")
    assert result.exit_code == 0
    assert "from pods: none" in result.stdout

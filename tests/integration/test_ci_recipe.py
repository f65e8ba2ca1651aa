"""The README's GitHub Actions recipe, run as the job would run it on a pull request.

The recipe's YAML is taken from README.md as it is; its `run` steps execute with bash
`-eo pipefail` (GitHub's default shell) in a repository whose `origin/main` is the base, with
`${{ ... }}` expressions filled in, `podwall` this checkout's, and `gh` a stub that keeps the
comment. So a flag, an exit status or an output format the CLI no longer has fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.cli.gitrepo import git, make_repo

ROOT = Path(__file__).parents[2]
TUTORIAL = ROOT / "examples" / "tutorial"
APP = TUTORIAL / "simple-app.yaml"
DENY = TUTORIAL / "backend-ingress-deny.yaml"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"
EXPRESSIONS = {
    "github.base_ref": "main",
    "github.token": "token",
    "github.event.pull_request.number": "7",
}


def recipe() -> list[dict[str, Any]]:
    """The steps of the job in the README's "In CI" section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### In CI") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None, "README: no yaml block in the CI section"
    job: dict[str, Any] = yaml.safe_load(block.group(1))
    steps: list[dict[str, Any]] = job["jobs"]["podwall"]["steps"]
    return steps


def _filled(script: str) -> str:
    def value(match: re.Match[str]) -> str:
        return EXPRESSIONS[match.group(1)]

    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", value, script)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """`podwall` (this checkout's, through the interpreter running the tests) and a `gh`."""
    folder = tmp_path / "bin"
    folder.mkdir()
    podwall = folder / "podwall"
    podwall.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m podwall "$@"\n')
    gh = folder / "gh"  # `gh pr comment N --body-file F`: keep F as comment.md
    gh.write_text('#!/bin/sh\n[ "$1 $2 $4" = "pr comment --body-file" ] && cp "$5" comment.md\n')
    for tool in (podwall, gh):
        tool.chmod(0o755)
    return folder


def run_steps(repo: Path, bin_dir: Path) -> list[subprocess.CompletedProcess[str]]:
    """Each `run` step in order (the install step is skipped: podwall is this checkout);
    stops after the first failing step, as a job does."""
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    src = str(ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    done = []
    for step in recipe():
        script = step.get("run")
        if script is None or script.startswith("pip install"):
            continue
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _filled(script)],
            cwd=repo, env={**env, **step.get("env", {})}, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        done.append(result)
        if result.returncode:
            break
    return done


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A pull request: origin/main has the app and the deny policy, HEAD adds the allow."""
    top = make_repo(tmp_path / "repo", (APP, DENY))
    git(top, "update-ref", "refs/remotes/origin/main", "HEAD")
    shutil.copy(ALLOW, top / "k8s" / ALLOW.name)
    git(top, "add", ".")
    git(top, "commit", "-qm", "allow frontend")
    return top


def test_a_pull_request_that_changes_connectivity(repo: Path, bin_dir: Path) -> None:
    steps = run_steps(repo, bin_dir)
    assert [s.returncode for s in steps] == [0, 0, 0], [s.stderr for s in steps]
    diff_step = steps[0]
    assert "::warning::this pull request changes who can reach whom" in diff_step.stdout
    comment = (repo / "comment.md").read_text()
    assert "default/frontend" in comment
    assert "default/backend" in comment
    assert json.loads((repo / "podwall.sarif").read_text())["version"] == "2.1.0"


def test_no_change_comments_and_does_not_warn(repo: Path, bin_dir: Path) -> None:
    git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    steps = run_steps(repo, bin_dir)
    assert [s.returncode for s in steps] == [0, 0, 0], [s.stderr for s in steps]
    assert "::warning::" not in steps[0].stdout
    assert (repo / "comment.md").read_text().startswith("### podwall diff: no change")


def test_bad_input_fails_the_job(repo: Path, bin_dir: Path) -> None:
    (repo / "k8s" / "bad.yaml").write_text("kind: [\n")
    (diff_step,) = run_steps(repo, bin_dir)
    assert diff_step.returncode == 2
    assert "k8s/bad.yaml" in diff_step.stderr
    assert not (repo / "comment.md").exists()


def test_a_lint_finding_fails_the_job_after_the_upload(repo: Path, bin_dir: Path) -> None:
    typo = ALLOW.read_text().replace("app: backend", "app: backnd")
    (repo / "k8s" / ALLOW.name).write_text(typo)
    steps = run_steps(repo, bin_dir)
    assert [s.returncode for s in steps] == [0, 0, 1]
    sarif = json.loads((repo / "podwall.sarif").read_text())
    assert sarif["runs"][0]["results"], "the finding reaches code scanning"
    assert "PW001" in steps[2].stdout

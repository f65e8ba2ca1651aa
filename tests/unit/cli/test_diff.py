"""`podwall diff` on files and on a git revision: words, markdown, JSON and exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.clirunner import Result, invoke
from tests.unit.cli.gitrepo import git, make_repo

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
APP = TUTORIAL / "simple-app.yaml"
DENY = TUTORIAL / "backend-ingress-deny.yaml"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"


def run(*args: str) -> Result:
    return invoke(["diff", *args])


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Path, Path]:
    """BEFORE: the app with the deny policy; AFTER: the allow policy added."""
    before, after = tmp_path / "before", tmp_path / "after"
    for folder, files in ((before, (APP, DENY)), (after, (APP, DENY, ALLOW))):
        folder.mkdir()
        for f in files:
            shutil.copy(f, folder / f.name)
    return before, after


def test_text_names_the_pair_the_ports_and_the_rule_responsible(
    sides: tuple[Path, Path],
) -> None:
    before, after = sides
    result = run(str(before), str(after))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "pod pairs: 1 newly allowed, 0 newly denied",
        "",
        "newly allowed:",
        "  default/frontend -> default/backend: all ports",
        "      allowed by egress: not isolated; ingress: default/backend-allow-ingress-frontend "
        f"ingress[0] ({after / ALLOW.name}:2)",
    ]


def test_newly_denied_says_what_allowed_it_and_what_denies_it_now(
    sides: tuple[Path, Path],
) -> None:
    before, after = sides
    result = run(str(after), str(before))
    assert result.exit_code == 1
    assert "newly denied:" in result.stdout
    assert (
        "was allowed by egress: not isolated; ingress: default/backend-allow-ingress-frontend"
        in result.stdout
    )
    assert (
        "now ingress denied (isolated by default/backend-ingress-deny; no rule allows it)"
        in result.stdout
    )


def test_json_is_the_contract(sides: tuple[Path, Path]) -> None:
    before, after = sides
    result = run(str(before), str(after), "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "newly_allowed": [{"src": "default/frontend", "dst": "default/backend", "ports": "all"}],
        "newly_denied": [],
    }


def test_json_with_a_port_may_leave_ports_out(sides: tuple[Path, Path]) -> None:
    before, after = sides
    result = run(str(before), str(after), "-o", "json", "--port", "8080")
    assert json.loads(result.stdout)["newly_allowed"] == [
        {"src": "default/frontend", "dst": "default/backend"}
    ]


def test_markdown_is_a_table_for_a_pull_request(sides: tuple[Path, Path]) -> None:
    before, after = sides
    lines = run(str(before), str(after), "-o", "markdown").stdout.splitlines()
    assert lines[0] == "### podwall diff: pod pairs: 1 newly allowed, 0 newly denied"
    assert "| from | to | ports | allowed by |" in lines
    row = next(line for line in lines if line.startswith("| default/frontend"))
    assert row.startswith("| default/frontend | default/backend | all ports | egress: not isolated")


def test_no_change_exits_0(sides: tuple[Path, Path]) -> None:
    before, _ = sides
    result = run(str(before), str(before))
    assert result.exit_code == 0
    assert result.stdout.startswith("no change")


BAD = [
    ("one side only", ["only-one"], "give BEFORE and AFTER"),
    ("a path that does not exist", ["nope", "nope2"], "nope: no such file or directory"),
    ("a bad port", ["a", "b", "--port", "99999"], "port 99999 is not between 1 and 65535"),
]


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_an_invalid_policy_on_either_side_exits_2(sides: tuple[Path, Path]) -> None:
    before, after = sides
    (after / "bad.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad}\n"
        "spec: {podSelector: {}, ingress: [{ports: [{port: 0}]}]}\n"
    )
    result = run(str(before), str(after))
    assert result.exit_code == 2
    assert "bad.yaml:4: NetworkPolicy default/bad: spec.ingress[0].ports[0].port" in result.stderr


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose HEAD holds the app and the deny policy under k8s/; cwd is its top;
    the working tree adds the allow policy."""
    top = make_repo(tmp_path / "repo", (APP, DENY))
    shutil.copy(ALLOW, top / "k8s" / ALLOW.name)
    monkeypatch.chdir(top)
    return top


def test_git_revision_against_the_working_tree(repo: Path) -> None:
    result = run("--git", "HEAD:k8s", "-o", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["newly_allowed"] == [
        {"src": "default/frontend", "dst": "default/backend", "ports": "all"}
    ]


def test_git_revision_against_a_path_names_the_revision_in_errors(repo: Path) -> None:
    (repo / "k8s" / "bad.yaml").write_text("kind: [\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "broken")
    result = run("--git", "HEAD:k8s", "k8s")
    assert result.exit_code == 2
    assert "HEAD:k8s/bad.yaml:" in result.stderr


def test_git_revision_that_does_not_exist(repo: Path) -> None:
    result = run("--git", "no-such-branch:k8s")
    assert result.exit_code == 2
    assert "no-such-branch:k8s" in result.stderr


def test_git_revision_of_one_file(repo: Path) -> None:
    result = run("--git", f"HEAD:k8s/{APP.name}", str(TUTORIAL), "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "newly_allowed": [],
        "newly_denied": [{"src": "default/not-frontend", "dst": "default/backend", "ports": "all"}],
    }


def test_two_git_revisions(repo: Path) -> None:
    """`--git BASE:k8s --git HEAD:k8s`, as a CI job compares a branch with its base."""
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "allow frontend")
    result = run("--git", "HEAD~1:k8s", "--git", "HEAD:k8s", "-o", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout) == {
        "newly_allowed": [{"src": "default/frontend", "dst": "default/backend", "ports": "all"}],
        "newly_denied": [],
    }
    backwards = json.loads(run("--git", "HEAD:k8s", "--git", "HEAD~1:k8s", "-o", "json").stdout)
    assert backwards["newly_denied"] == [
        {"src": "default/frontend", "dst": "default/backend", "ports": "all"}
    ]
    assert run("--git", "HEAD:k8s", "--git", "HEAD:k8s").exit_code == 0


def test_an_error_in_the_second_revision_names_it(repo: Path) -> None:
    (repo / "k8s" / "bad.yaml").write_text("kind: [\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "broken")
    result = run("--git", "HEAD~1:k8s", "--git", "HEAD:k8s")
    assert result.exit_code == 2
    assert "HEAD:k8s/bad.yaml:" in result.stderr


GIT_MISUSE = [
    (
        "two revisions and a path",
        ["--git", "HEAD:k8s", "--git", "HEAD:k8s", "k8s"],
        "give no paths",
    ),
    ("three revisions", ["--git", "HEAD:k8s"] * 3, "got 3 revisions"),
    ("a revision and two paths", ["--git", "HEAD:k8s", "k8s", "k8s"], "at most one AFTER path"),
]


@pytest.mark.parametrize(
    ("args", "message"), [c[1:] for c in GIT_MISUSE], ids=[c[0] for c in GIT_MISUSE]
)
def test_git_misuse_exits_2(repo: Path, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr

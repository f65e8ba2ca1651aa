"""`podwall lint` on files: findings at file:line, --disable, --explain, JSON, SARIF, exits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import Result, invoke

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
SPLIT = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - namespaceSelector:
        matchLabels: {team: monitoring}
    - podSelector:
        matchLabels: {app: prometheus}
"""
PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: monitoring, labels: {team: monitoring}}
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus, namespace: monitoring, labels: {app: prometheus}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec: {containers: [{name: c}]}
"""


def run(*args: str) -> Result:
    return invoke(["lint", *args])


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(SPLIT)
    (tmp_path / "pods.yaml").write_text(PODS)
    return tmp_path


def test_a_finding_at_the_line_of_its_field(repo: Path) -> None:
    result = run(str(repo))
    assert result.exit_code == 1
    assert result.stdout == (
        f"{repo / 'policy.yaml'}:10: warning: NetworkPolicy shop/web: spec.ingress[0].from[1]: "
        "from[0] and from[1] are two peers (namespaceSelector {team: monitoring}; podSelector "
        "{app: prometheus} in namespace shop); if one peer was meant (namespaceSelector "
        "{team: monitoring} and podSelector {app: prometheus}), write them as one item "
        "[PW005 split-peer]\n"
    )
    assert "1 warning(s)" in result.stderr


def test_the_tutorial_is_clean() -> None:
    result = run("-f", str(TUTORIAL))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no findings" in result.stderr


def test_disable_by_id_name_or_comma_list(repo: Path) -> None:
    for off in ("PW005", "split-peer", "PW001,PW005"):
        result = run(str(repo), "--disable", off)
        assert result.exit_code == 0, off
        assert result.stdout == ""


def test_fail_on_error_passes_warnings(repo: Path) -> None:
    assert run(str(repo), "--fail-on", "error").exit_code == 0
    assert run(str(repo), "--fail-on", "note").exit_code == 1


def test_json(repo: Path) -> None:
    data = json.loads(run(str(repo), "-o", "json").stdout)
    assert data["skipped"] == []
    (finding,) = data["findings"]
    assert finding | {"message": ""} == {
        "id": "PW005",
        "name": "split-peer",
        "severity": "warning",
        "object": "NetworkPolicy shop/web",
        "path": "spec.ingress[0].from[1]",
        "message": "",
        "file": str(repo / "policy.yaml"),
        "line": 10,
    }


def test_sarif_names_the_file_relative_to_the_current_directory_and_the_line(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    doc = json.loads(run(".", "-o", "sarif").stdout)
    (result,) = doc["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": "policy.yaml"}, "region": {"startLine": 10}}


def test_sarif_names_an_absolute_path_as_a_file_uri(repo: Path) -> None:
    doc = json.loads(run(str(repo), "-o", "sarif").stdout)
    location = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == (repo / "policy.yaml").as_uri()


def test_policies_without_pods_skip_the_checks_that_need_them(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(SPLIT)
    result = run(str(tmp_path))
    assert result.exit_code == 1
    assert "[PW005 split-peer]" in result.stdout
    assert "no pods or workloads given: skipped PW001, PW002, PW003, PW004, PW006, PW007" in (
        result.stderr
    )


def test_explain_prints_the_documentation() -> None:
    result = run("--explain", "PW005")
    assert result.exit_code == 0
    assert result.stdout.startswith("PW005 split-peer (warning): ")
    assert "no `-` before podSelector" in result.stdout


def test_list_names_every_check() -> None:
    lines = run("--list").stdout.splitlines()
    assert [line.split()[0] for line in lines] == [f"PW00{i}" for i in range(1, 10)]


BAD = [
    ("an unknown check to explain", ["--explain", "PW999"], "PW999: no such check"),
    ("an unknown check to disable", ["--disable", "nope", "x"], "--disable nope: no such check"),
    ("nothing to lint", [], "no manifests given"),
]


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_list_as_json() -> None:
    result = run("--list", "-o", "json")
    assert result.exit_code == 0
    checks = json.loads(result.stdout)
    assert [c["id"] for c in checks] == [f"PW00{i}" for i in range(1, 10)]
    assert checks[4] == {
        "id": "PW005",
        "name": "split-peer",
        "severity": "warning",
        "summary": "a namespaceSelector item and a podSelector item probably meant as one peer",
    }


def test_a_directory_without_manifests_is_said(tmp_path: Path) -> None:
    # A mistyped directory must not read as a clean run without a word.
    result = run(str(tmp_path))
    assert result.exit_code == 0
    assert f"{tmp_path}: no manifests in this directory (.yaml, .yml, .json)" in result.stderr

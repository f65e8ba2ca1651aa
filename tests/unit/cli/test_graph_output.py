"""`-o dot` and `-o svg` on matrix and diff; svg through Graphviz's `dot` when installed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.clirunner import Result, invoke

TUTORIAL = Path(__file__).parents[3] / "examples" / "tutorial"
APP = str(TUTORIAL / "simple-app.yaml")


def run(*args: str) -> Result:
    return invoke(args)


@pytest.mark.parametrize(
    "args",
    [["matrix", "-f", str(TUTORIAL)], ["matrix", "-f", str(TUTORIAL), "--port", "8080"],
     ["diff", APP, str(TUTORIAL)]],
    ids=["matrix", "matrix on one port", "diff"],
)  # fmt: skip
def test_dot_is_a_digraph(args: list[str]) -> None:
    result = run(*args, "-o", "dot")
    assert result.exit_code in (0, 1)
    assert result.stdout.startswith('digraph "podwall')
    assert result.stdout.rstrip().endswith("}")


def _fake_dot(folder: Path, script: str) -> None:
    dot = folder / "dot"
    dot.write_text("#!/bin/sh\n" + script)
    dot.chmod(dot.stat().st_mode | stat.S_IEXEC)


def test_svg_hands_the_drawing_to_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for Graphviz that shows what it was given, to test the hand-over alone.
    _fake_dot(tmp_path, 'test "$1" = -Tsvg || exit 9\necho "<svg>"; /bin/cat; echo "</svg>"\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("matrix", "-f", str(TUTORIAL), "-o", "svg")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith('<svg>\ndigraph "podwall"')


def test_svg_without_graphviz_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("diff", APP, str(TUTORIAL), "-o", "svg")
    assert result.exit_code == 2
    assert "-o svg needs Graphviz (the `dot` program): install graphviz, or use -o dot" in (
        result.stderr
    )


def test_a_failing_dot_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dot(tmp_path, 'echo "Error: syntax error in line 1" >&2; exit 1\n')
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("matrix", "-f", str(TUTORIAL), "-o", "svg")
    assert result.exit_code == 2
    assert "Graphviz failed: Error: syntax error in line 1" in result.stderr

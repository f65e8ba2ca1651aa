"""Tables on a narrow terminal: a pod name too long for its column wraps, it is never cut off
with an ellipsis (two pods cut to the same prefix would read as one)."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any, cast

import pytest
from rich.console import Console

from podwall.cli import output

LONG = "default/not-frontend-f646c9c96-dd65m"
PODS = ["default/backend-66964cdff8-tfjl2", LONG, "kube-system/coredns-7bcfcdfd5b-45w6z"]


@pytest.fixture
def narrow(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    out = io.StringIO()
    console = Console(file=out, width=60, highlight=False, emoji=False, color_system=None)
    monkeypatch.setattr(output, "_console", lambda: console)
    return out


def test_port_matrix_wraps_names_instead_of_cutting_them(narrow: io.StringIO) -> None:
    allowed = [[True] * len(PODS) for _ in PODS]
    matrix = SimpleNamespace(protocol="TCP", port=8080, pods=PODS, allowed=allowed)
    output.port_matrix_table(cast(Any, matrix))
    text = narrow.getvalue()
    assert "…" not in text
    assert all(len(line) <= 60 for line in text.splitlines())
    # The row names, read column by column, are whole again.
    first = "".join(line.split("│")[1].strip() for line in text.splitlines() if "│" in line)
    assert LONG in first


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"pods": [f"ns/p{i}" for i in range(40000)], "x": [[]] * 3}, id="large"),
        pytest.param({"a": [], "b": {}, "c": 'é\u2028"\\\n\t', "d": 1.5e16, "e": 1e-7}, id="small"),
        pytest.param({"n": [float("nan")] + [f"p{i}" for i in range(40000)]}, id="large-with-nan"),
        pytest.param({"s": ["é" * 30] * 20000, "t": None, "u": True}, id="large-non-ascii"),
    ],
)
def test_json_is_what_json_dumps_indents(data: object, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    output.emit_json(data)
    assert capsys.readouterr().out == json.dumps(data, indent=2) + "\n"

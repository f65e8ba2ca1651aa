"""Mutated real manifests never end in an internal error: every command exits 0, 1 or 2.

Each example takes the tutorial's manifests plus pods, services and a workload of every kind
podwall reads, replaces or deletes one to three fields anywhere in them with values of the
wrong type or range, and runs `check`, `matrix`, `diff`, `lint` and `exposure` on the result.
An exception escaping a command fails the test with its traceback (`catch_exceptions=False`).
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clirunner import invoke

ROOT = Path(__file__).parents[3]
SOURCES = [
    *sorted((ROOT / "examples" / "tutorial").glob("*.yaml")),
    ROOT / "tests" / "fixtures" / "named-ports.yaml",
    ROOT / "tests" / "fixtures" / "fuzz-kinds.yaml",
]
DOCUMENTS: list[dict[str, Any]] = [
    d for path in SOURCES for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)
]
ODD_VALUES = [
    None, True, False, 0, -1, 3.5, 70000, 2**40, "", "x", "UDP", "-1", "None", "a/b",
    [], [1], [None], ["x"], {}, {"a": 1}, {"": None}, [{"a": None}], [{}], {"x": [1]},
]  # fmt: skip

Path_ = tuple[str | int, ...]


def _paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    out: list[Path_] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


def _mutate(doc: dict[str, Any], path: Path_, value: Any, delete: bool) -> None:
    parent: Any = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(value)


@st.composite
def mutated(draw: st.DrawFn) -> list[dict[str, Any]]:
    docs = copy.deepcopy(DOCUMENTS)
    for _ in range(draw(st.integers(1, 3))):
        doc = draw(st.sampled_from(docs))
        paths = _paths(doc)
        if not paths:
            continue
        path = draw(st.sampled_from(paths))
        value = draw(st.sampled_from(ODD_VALUES))
        _mutate(doc, path, value, draw(st.booleans()))
    return docs


def _commands(before: str, after: str) -> list[list[str]]:
    return [
        ["check", "-f", after, "--from", "deploy/frontend", "--to", "svc/backend:8080"],
        ["explain", "-f", after, "--from", "client", "--to", "svc/servers:web"],
        ["matrix", "-f", after],
        ["matrix", "-f", after, "--port", "http"],
        ["diff", before, after],
        ["lint", after],
        ["exposure", "-f", after, "--all"],
        ["exposure", "-f", after, "svc/servers"],
    ]


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_no_mutation_ends_in_an_internal_error(docs: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before.yaml", Path(tmp) / "after.yaml"
        before.write_text(yaml.safe_dump_all(DOCUMENTS))
        after.write_text(yaml.safe_dump_all(docs))
        for args in _commands(str(before), str(after)):
            result = invoke(args)
            assert result.exit_code in (0, 1, 2), (args, result.output)

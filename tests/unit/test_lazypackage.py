"""The lazy packages' exported names mean the same thing whatever was imported before.

Each case runs in a fresh interpreter, since the order of first imports is the point."""

from __future__ import annotations

import subprocess
import sys

import pytest

# (package, exported name, a submodule imported first, the module defining the name)
CASES = [
    ("podwall.nft", "trace", "podwall.nft.trace", "podwall.nft.trace"),
    ("podwall.nft", "trace", "podwall.nft.fake", "podwall.nft.trace"),
    (
        "podwall.engine",
        "connectivity",
        "podwall.engine.connectivity",
        "podwall.engine.connectivity",
    ),
    ("podwall.engine", "decide", "podwall.engine.decide", "podwall.engine.decide"),
    ("podwall.engine", "decide", "podwall.engine.explain", "podwall.engine.decide"),
]


@pytest.mark.parametrize(
    ("package", "name", "first", "home"), CASES, ids=[f"{c[1]} after {c[2]}" for c in CASES]
)
def test_an_exported_function_stays_the_function_after_its_submodule_is_imported(
    package: str, name: str, first: str, home: str
) -> None:
    program = (
        f"import importlib, sys, types\n"
        f"importlib.import_module({first!r})\n"
        f"from {package} import {name} as got\n"
        f"assert not isinstance(got, types.ModuleType), got\n"
        f"assert got is getattr(sys.modules[{home!r}], {name!r})\n"
        f"assert isinstance(sys.modules[{home!r}], types.ModuleType)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

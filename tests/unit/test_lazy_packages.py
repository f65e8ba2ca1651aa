"""`podwall.nft` and `podwall.engine` import their public names on first use.

The node agent imports `podwall.nft.compile` and `runner` only; the fake, the tracer and the
engine's maps (~0.3 s of the agent's start) must stay unimported, and the names must still be
the very objects of their home modules.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")

# Modules the agent has no use for, imported by the packages' `__init__` before.
NOT_FOR_THE_AGENT = (
    "podwall.nft.fake",
    "podwall.nft.trace",
    "podwall.nft.checks",
    "podwall.engine.connectivity",
    "podwall.engine.decide",
    "podwall.engine.matrix",
    "podwall.apiserver.tables",
)


def test_the_agent_does_not_import_what_it_does_not_use() -> None:
    probe = (
        "import sys, podwall.cli.agent, podwall.agent.run; "
        f"print([m for m in {NOT_FOR_THE_AGENT!r} if m in sys.modules])"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("package", "name", "home"),
    [
        ("podwall.nft", "FakeNFT", "podwall.nft.fake"),
        ("podwall.nft", "NftError", "podwall.nft.errors"),
        ("podwall.nft", "trace_path", "podwall.nft.trace"),
        ("podwall.nft", "Transaction", "podwall.nft.transaction"),
        ("podwall.engine", "decide", "podwall.engine.decide"),
        ("podwall.engine", "ConnectivityMap", "podwall.engine.connectivity"),
        ("podwall.engine", "Traffic", "podwall.engine.endpoints"),
        ("podwall.engine", "port_matrix", "podwall.engine.matrix"),
    ],
    ids=lambda v: str(v),
)
def test_each_public_name_is_its_home_modules_object(package: str, name: str, home: str) -> None:
    assert getattr(importlib.import_module(package), name) is getattr(
        importlib.import_module(home), name
    )


@pytest.mark.parametrize("package", ["podwall.nft", "podwall.engine"])
def test_every_listed_name_resolves_and_unknown_ones_raise(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = module.no_such_name


def test_submodules_still_import_through_the_package() -> None:
    from podwall.engine import explain
    from podwall.nft import runner

    assert explain.__name__ == "podwall.engine.explain"
    assert runner.__name__ == "podwall.nft.runner"

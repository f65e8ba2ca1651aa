"""The command registry imports a command's module only when it runs, so each command pays only
for what it uses: a budget of what the review commands must never import, checked in a fresh
interpreter (`python -X importtime` lists every module a run imported, nested or not).

Not timing: start-up is measured in bench/bench_review.py. A module that lands in this list
costs every CI job and editor keystroke its import time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
CONNECTION = ("--from", "deploy/frontend", "--to", "svc/backend:8080")

# Modules (and their submodules) that no review command on files needs, and why.
NEVER = {
    "kubernetes": "the API client: only with --cluster/--kubeconfig",
    "urllib3": "HTTP: only with a cluster",
    "pyroute2": "netlink: only probe, the node agent and the sandbox",
    "asyncio": "servers",
    "ssl": "servers and clients",
    "http": "servers and clients",
    "sqlite3": "the API server's store",
    "subprocess": "git (only with --git) and the sandbox",
    "podwall.runtime": "the sandbox",
    "podwall.nft": "the dataplane",
    "podwall.apiserver": "the API server",
    "podwall.agent": "the node agent",
    "podwall.cluster": "`podwall up`",
    "podwall.editor": "the web editor",
    "podwall.flows": "flow logs",
    "podwall.live": "only with a cluster",
    "podwall.manifests.git": "only with --git",
    "podwall.model.cnpvalidation": "only when a ClusterNetworkPolicy is read",
}
RICH = {"rich": "tables: only `matrix` draws one"}
REVIEW = {"podwall.review": "diff, lint and exposure"}

COMMANDS = [
    ("check", ["check", "-f", str(TUTORIAL), *CONNECTION], NEVER | RICH | REVIEW),
    ("explain", ["explain", "-f", str(TUTORIAL), *CONNECTION], NEVER | RICH | REVIEW),
    ("lint", ["lint", str(TUTORIAL)], NEVER | RICH),
    ("diff", ["diff", str(TUTORIAL / "simple-app.yaml"), str(TUTORIAL)], NEVER | RICH),
    ("exposure", ["exposure", "-f", str(TUTORIAL), "--all"], NEVER | RICH),
    ("matrix as json", ["matrix", "-f", str(TUTORIAL), "-o", "json"], NEVER | RICH | REVIEW),
    ("matrix", ["matrix", "-f", str(TUTORIAL)], NEVER | REVIEW),
]


def imported(args: list[str]) -> set[str]:
    """Every module a run of `podwall ARGS` imported, from `-X importtime`'s report."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPROFILEIMPORTTIME"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "podwall", *args],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    names = {line.rsplit("|", 1)[1].strip() for line in lines[1:]}  # [0] is the header
    assert "podwall.cli.main" in names
    return names


def _within(name: str, top: str) -> bool:
    return name == top or name.startswith(f"{top}.")


@pytest.mark.parametrize(("args", "never"), [c[1:] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_a_command_imports_only_what_it_uses(args: list[str], never: dict[str, str]) -> None:
    names = imported(args)
    found = {top: why for top, why in never.items() if any(_within(n, top) for n in names)}
    assert not found, f"podwall {args[0]} imported modules it never uses: {found}"

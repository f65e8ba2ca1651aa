"""The command registry imports a command's module only when it runs, so each command pays only
for what it uses: a budget of what the review commands must never import, checked in a fresh
interpreter that lists `sys.modules` as it exits: every module the run imported, nested or not,
also those imported by `importlib.import_module` (the lazy command registry, the engine's lazy
names), which `python -X importtime` does not report.

Not timing: start-up is measured in bench/bench_review.py. A module that lands in this list
costs every CI job and editor keystroke its import time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from podwall.cli import main as cli_main
from tests.clirunner import invoke

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
TIERS = ROOT / "examples" / "tiers"
ANP = ROOT / "examples" / "anp"
CONNECTION = ("--from", "deploy/frontend", "--to", "svc/backend:8080")

# Modules (and their submodules) that no review command on files needs, and why.
NEVER = {
    "click": "the command line is argparse (uvicorn brings click along, for servers only)",
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
    "podwall.cli.livetarget": "only with --cluster, --kubeconfig or --context",
    "pathlib": "its import pulls urllib.parse and fnmatch; the reader lists files with os",
    "urllib": "pathlib's file:// URIs: only SARIF names files so",
    "fnmatch": "pathlib's globs",
    "podwall.manifests.docindex": "document spans: kind: List, errors and findings (none here)",
    "rich._emoji_codes": "every emoji name: podwall's tables have no `:name:` codes",
}
# The ClusterNetworkPolicy model and the tiers: only when the input holds a ClusterNetworkPolicy
# (the tutorial holds none; `CNP_RUN` below checks that they do load when it does).
CNP = {
    "podwall.model.clusterpolicy": "the ClusterNetworkPolicy model",
    "podwall.model.cnpconvert": "ClusterNetworkPolicy manifests to the model",
    "podwall.model.cnpvalidation": "the ClusterNetworkPolicy CRD's validation",
    "podwall.model.cnpschema": "the ClusterNetworkPolicy CRD's schema",
    "podwall.engine.tiers": "the tiers' verdict on one connection",
    "podwall.engine.tierdecision": "the tiers' reasons",
    "podwall.engine.tierexplain": "the tiers' reasons in words",
    "podwall.engine.clusterpeers": "ClusterNetworkPolicy peers",
    "podwall.engine.tierrules": "the tiers compiled for the maps",
    "podwall.engine.tierconnectivity": "the tiers in the maps",
}
MAPS = {
    "podwall.engine.connectivity": "the whole-cluster map: matrix, diff, exposure",
    "podwall.engine.identities": "the maps' pod groups",
    "podwall.engine.matrix": "the port matrix",
}
RICH = {"rich": "tables: only `matrix` draws one"}
TEXT = {"json": "only -o json writes JSON (JSON manifests read it; the tutorial is YAML)"}
REVIEW = {"podwall.review": "diff, lint and exposure"}

VERDICT = NEVER | CNP | MAPS | RICH | REVIEW  # check and explain decide one connection

COMMANDS = [
    ("check", ["check", "-f", str(TUTORIAL), *CONNECTION], VERDICT | TEXT),
    ("explain", ["explain", "-f", str(TUTORIAL), *CONNECTION], VERDICT | TEXT),
    ("check as json", ["check", "-f", str(TUTORIAL), *CONNECTION, "-o", "json"], VERDICT),
    ("lint", ["lint", str(TUTORIAL)], NEVER | CNP | MAPS | RICH | TEXT),
    ("diff", ["diff", str(TUTORIAL / "simple-app.yaml"), str(TUTORIAL)], NEVER | CNP | RICH | TEXT),
    ("exposure", ["exposure", "-f", str(TUTORIAL), "--all"], NEVER | CNP | RICH | TEXT),
    ("matrix as json", ["matrix", "-f", str(TUTORIAL), "-o", "json"], NEVER | CNP | RICH | REVIEW),
    ("matrix", ["matrix", "-f", str(TUTORIAL)], NEVER | CNP | REVIEW | TEXT),
]  # fmt: skip

# Lists the modules loaded when the process ends, one a line: at the interpreter's exit, or
# when a one-shot command ends it with os._exit (cli.main.program), which skips atexit.
_LISTING = (
    "import atexit, os, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "def listing(): open(out, 'w').write('\\n'.join(sorted(sys.modules)))\n"
    "atexit.register(listing)\n"
    "exit_now = os._exit\n"
    "os._exit = lambda status: (listing(), exit_now(status))\n"
    "runpy.run_module('podwall', run_name='__main__', alter_sys=True)\n"
)


def imported(args: list[str], tmp_path: Path) -> set[str]:
    """Every module a run of `podwall ARGS` had imported when it exited."""
    listing = tmp_path / "modules.txt"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", _LISTING, str(listing), *args],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    names = set(listing.read_text().splitlines())
    assert "podwall.cli.main" in names
    return names


def _within(name: str, top: str) -> bool:
    return name == top or name.startswith(f"{top}.")


@pytest.mark.parametrize(("args", "never"), [c[1:] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_a_command_imports_only_what_it_uses(
    args: list[str], never: dict[str, str], tmp_path: Path
) -> None:
    names = imported(args, tmp_path)
    found = {top: why for top, why in never.items() if any(_within(n, top) for n in names)}
    assert not found, f"podwall {args[0]} imported modules it never uses: {found}"


CNP_RUNS = [
    ("check", ["check", "-f", str(TUTORIAL), "-f", str(TIERS), *CONNECTION]),
    ("matrix as json", ["matrix", "-f", str(TUTORIAL), "-f", str(TIERS), "-o", "json"]),
    ("check v1alpha1", ["check", "-f", str(TUTORIAL), "-f", str(ANP), *CONNECTION]),
]


@pytest.mark.parametrize("args", [c[1] for c in CNP_RUNS], ids=[c[0] for c in CNP_RUNS])
def test_the_tiers_load_when_the_input_holds_a_cluster_network_policy(
    args: list[str], tmp_path: Path
) -> None:
    """The other side of the budget: the listing sees the modules a ClusterNetworkPolicy needs."""
    names = imported(args, tmp_path)
    assert {"podwall.model.clusterpolicy", "podwall.model.cnpvalidation"} <= names
    v1alpha1 = {"podwall.model.anpvalidation", "podwall.model.anpconvert"}
    assert (v1alpha1 <= names) is (str(ANP) in args)
    tiers = "podwall.engine.tiers" if args[0] == "check" else "podwall.engine.tierconnectivity"
    assert tiers in names


def test_the_top_level_help_lists_every_command_and_imports_none(tmp_path: Path) -> None:
    names = imported(["--help"], tmp_path)
    modules = {spec.partition(":")[0] for spec, _ in cli_main.COMMANDS.values()}
    assert not modules & names
    assert "podwall.cli.command" in names  # its formatter: the help was formatted


def test_the_top_level_help_names_every_command_with_its_summary() -> None:
    text = invoke(["--help"]).stdout
    for name in cli_main.listed():
        summary = cli_main.COMMANDS[name][1]
        assert summary is not None
        assert f"  {name:<12}{summary}\n" in text or f"  {name}  {summary}\n" in text
    assert "apiserver" not in text


@pytest.mark.parametrize(("args", "never"), [c[1:] for c in COMMANDS], ids=[c[0] for c in COMMANDS])
def test_importtime_shows_no_click_and_rich_only_where_a_table_is_drawn(
    args: list[str], never: dict[str, str]
) -> None:
    """The same budget through `python -X importtime`, as a reader of start-up sees it."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "podwall", *args],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "podwall.cli.main" in names
    assert not any(_within(n, "click") for n in names)
    assert any(_within(n, "rich") for n in names) is ("rich" not in never)

"""The review commands start without `dataclasses`, `msgspec`, `typing_extensions` or
`inspect`: their records are podwall.model.record's Records.

Creating a dataclass compiles its generated methods (about 0.7 ms a class here, some 70 classes
on the review commands' path); importing msgspec brings typing_extensions and with it inspect
(ast, dis, tokenize): ~10 ms; see podwall/model/__init__.py. This guards what the review
commands (check, explain, matrix, diff, lint, exposure) import outside podwall.cli, as one
import that must load none of them, and each command as it runs.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# What podwall/cli's review commands import, outside cli/: at module level ...
REVIEW_IMPORTS = (
    "podwall.engine.connectivity",
    "podwall.engine.decide",
    "podwall.engine.explain",
    "podwall.engine.matrix",
    "podwall.engine.targets",
    "podwall.manifests.reader",
    "podwall.model.convert",
    "podwall.model.kindvalidation",
    "podwall.model.strictfields",
    "podwall.model.validation",
    "podwall.review.diff",
    "podwall.review.diffreport",
    "podwall.review.exposure",
    "podwall.review.exposurereport",
    "podwall.review.lint.registry",
    "podwall.review.lint.sarif",
    # ... and inside functions: tiered policies (ANP, BANP, CNP), their validation, --git,
    # `-o dot`, and the line of a field in an error or finding.
    "podwall.engine.tierconnectivity",
    "podwall.engine.tierexplain",
    "podwall.engine.tierrules",
    "podwall.engine.tiers",
    "podwall.manifests.docindex",
    "podwall.manifests.git",
    "podwall.model.anpconvert",
    "podwall.model.anpvalidation",
    "podwall.model.cnpconvert",
    "podwall.model.cnpvalidation",
    "podwall.review.graph",
)

# Each review command on inputs that reach its lazy imports (tiers, ANPs, dot, SARIF).
TUTORIAL, TIERS, ANP = (str(EXAMPLES / d) for d in ("tutorial", "tiers", "anp"))
BOTH = ["-f", TUTORIAL, "-f", TIERS]
PAIR = ["--from", "deploy/frontend", "--to", "svc/backend:8080"]
COMMANDS = {
    "check": ["check", *BOTH, *PAIR],
    "explain": ["explain", *BOTH, *PAIR],
    "matrix": ["matrix", *BOTH],
    "matrix-dot": ["matrix", *BOTH, "-o", "dot"],
    "diff": ["diff", str(EXAMPLES / "tutorial" / "simple-app.yaml"), TUTORIAL],
    "diff-dot": ["diff", TUTORIAL, TIERS, TUTORIAL, "-o", "dot"],
    "lint": ["lint", TUTORIAL, TIERS],
    "lint-sarif": ["lint", TUTORIAL, ANP, "--format", "sarif"],
    "exposure": ["exposure", "-f", ANP, "-f", TUTORIAL, "deploy/backend"],
    "exposure-all": ["exposure", *BOTH, "--all"],
}


def _imported(args: list[str]) -> list[tuple[int, str]]:
    """The modules a fresh interpreter imports running `args`, each with its depth in the
    import tree, in the order `-X importtime` prints them (a module after its imports)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    found = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and not line.endswith("| imported package"):
            name = line.rsplit("|", 1)[1]
            found.append(((len(name) - len(name.lstrip())) // 2, name.strip()))
    assert found, done.stderr
    return found


def _importers(tree: list[tuple[int, str]], module: str) -> list[str]:
    """Who imported `module`: the chain of modules above it, outermost first."""
    for i, (depth, name) in enumerate(tree):
        if name == module:
            chain, want = [name], depth - 1
            for d, above in tree[i + 1 :]:  # an importer is printed after what it imports
                if d == want:
                    chain.append(above)
                    want -= 1
            return chain[::-1]
    return []


@pytest.fixture(scope="module")
def guarded() -> list[tuple[int, str]]:
    return _imported(["-c", "import " + ", ".join(REVIEW_IMPORTS)])


# What a review command's records must not cost at start-up.
FORBIDDEN = ("dataclasses", "msgspec", "typing_extensions", "inspect")


@pytest.mark.parametrize("module", FORBIDDEN)
def test_the_review_commands_records_need_none_of_the_costly_modules(
    guarded: list[tuple[int, str]], module: str
) -> None:
    chain = _importers(guarded, module)
    assert not chain, " imports ".join(chain)


@functools.cache
def _command_imports(command: str) -> list[tuple[int, str]]:
    return _imported(["-m", "podwall", *COMMANDS[command]])


@pytest.mark.parametrize("command", COMMANDS)
def test_the_guarded_imports_hold_all_a_review_command_imports(
    guarded: list[tuple[int, str]], command: str
) -> None:
    """REVIEW_IMPORTS stays complete: a command imports nothing outside cli/ that they miss."""
    used = {name for _, name in _command_imports(command)}
    outside_cli = {n for n in used if n.startswith("podwall") and not n.startswith("podwall.cli")}
    assert outside_cli - {name for _, name in guarded} == set()


# `matrix` draws its table with rich, whose Table is a dataclass (and dataclasses imports
# inspect); msgspec and typing_extensions it must still do without.
@pytest.mark.parametrize(
    ("command", "module"),
    [
        (c, m)
        for c in COMMANDS
        for m in FORBIDDEN
        if not (c == "matrix" and m in ("dataclasses", "inspect"))
    ],
)
def test_a_review_command_starts_without_the_costly_modules(command: str, module: str) -> None:
    chain = _importers(_command_imports(command), module)
    assert not chain, " imports ".join(chain)

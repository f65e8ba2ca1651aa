"""Load conformance scenarios: a base cluster plus steps of manifest changes and expected tables.

A scenario file names a cluster (`clusters/<name>.yaml`, multi-document YAML) and lists steps.
Each step applies manifests (replacing an object with the same kind/namespace/name, or adding
it) and deletes objects, on top of the state the previous step left; then it states the
expected reachability for one or more (port, protocol) probes.

Tables use upstream's truthtable.go convention: rows are sources, columns destinations,
'.' = connected, 'X' = blocked. Mismatches are printed as upstream prints them (expected,
observed) plus a comparison table where '!' marks each cell that disagrees.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
SCENARIO_DIR = HERE / "scenarios"
CLUSTER_DIR = HERE / "clusters"

ALLOWED = "."
BLOCKED = "X"
DISAGREE = "!"
CELLS = {ALLOWED: True, BLOCKED: False}

Manifest = dict[str, Any]
ObjectKey = tuple[str, str, str]
Table = dict[tuple[str, str], bool]


class ScenarioError(ValueError):
    """A scenario or cluster file that does not follow the format."""


@dataclass(frozen=True, slots=True)
class Expectation:
    port: int
    protocol: str
    pods: tuple[str, ...]
    table: Table

    @property
    def label(self) -> str:
        return f"{self.protocol}-{self.port}"


@dataclass(frozen=True, slots=True)
class Step:
    number: int
    description: str
    manifests: tuple[Manifest, ...]
    expectations: tuple[Expectation, ...]


@dataclass(frozen=True, slots=True)
class Scenario:
    slug: str
    path: Path
    name: str
    context: str
    cluster: str
    raw: Mapping[str, Any]
    steps: tuple[Step, ...]


# ----------------------------------------------------------------------------- objects
def object_key(manifest: Mapping[str, Any]) -> ObjectKey:
    """(kind, namespace, name); cluster-scoped Namespaces have namespace ''."""
    kind = str(manifest.get("kind", ""))
    meta = manifest.get("metadata") or {}
    namespace = "" if kind == "Namespace" else str(meta.get("namespace") or "default")
    return kind, namespace, str(meta.get("name", ""))


def _delete_key(ref: Mapping[str, Any]) -> ObjectKey:
    kind = str(ref.get("kind", ""))
    namespace = "" if kind == "Namespace" else str(ref.get("namespace") or "default")
    return kind, namespace, str(ref.get("name", ""))


def apply_changes(
    state: Sequence[Manifest],
    apply: Iterable[Manifest] = (),
    delete: Iterable[Mapping[str, Any]] = (),
) -> list[Manifest]:
    """A new state: `apply` replaces objects in place (or appends them), `delete` removes them."""
    out = list(state)
    for manifest in apply:
        key = object_key(manifest)
        index = next((i for i, m in enumerate(out) if object_key(m) == key), None)
        if index is None:
            out.append(manifest)
        else:
            out[index] = manifest
    for ref in delete:
        key = _delete_key(ref)
        kept = [m for m in out if object_key(m) != key]
        if len(kept) == len(out):
            raise ScenarioError(f"delete: no {'/'.join(key)} to delete")
        out = kept
    return out


def load_cluster(name: str) -> list[Manifest]:
    """The cluster's manifests (parsed once; treat them as read-only)."""
    return list(_load_cluster(name))


@functools.cache
def _load_cluster(name: str) -> tuple[Manifest, ...]:
    path = CLUSTER_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(f"no cluster file {path}")
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    if not all(isinstance(d, dict) for d in docs):
        raise ScenarioError(f"{path}: every document must be a mapping")
    return tuple(docs)


def cluster_pods(manifests: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    """Pod keys "ns/name" sorted by namespace then name, as the engine orders them."""
    keys = [object_key(m) for m in manifests if m.get("kind") == "Pod"]
    return tuple(f"{ns}/{name}" for _, ns, name in sorted(keys))


# ----------------------------------------------------------------------------- tables
def parse_table(text: str) -> tuple[tuple[str, ...], Table]:
    """Parse an upstream-style truth table; rows are sources, columns destinations."""
    lines = [line.split() for line in text.strip().splitlines() if line.strip()]
    if not lines or lines[0][0] != "-":
        raise ScenarioError("a reachability table starts with a '-' header row")
    pods = tuple(lines[0][1:])
    rows = lines[1:]
    if tuple(row[0] for row in rows) != pods:
        raise ScenarioError(f"rows {[row[0] for row in rows]} must be the columns {list(pods)}")
    table: Table = {}
    for row in rows:
        if len(row) != len(pods) + 1:
            raise ScenarioError(f"row {row[0]} has {len(row) - 1} cells, not {len(pods)}")
        for dst, cell in zip(pods, row[1:], strict=True):
            if cell not in CELLS:
                raise ScenarioError(f"cell {row[0]} -> {dst} is {cell!r}, not '.' or 'X'")
            table[row[0], dst] = CELLS[cell]
    return pods, table


def _render(pods: Sequence[str], mark: Mapping[tuple[str, str], str]) -> str:
    width = max(len(p) for p in pods) + 1
    lines = ["-".ljust(width) + " ".join(p.ljust(width - 1) for p in pods).rstrip()]
    for src in pods:
        cells = " ".join(mark[src, dst].ljust(width - 1) for dst in pods)
        lines.append((src.ljust(width) + cells).rstrip())
    return "\n".join(lines)


def render_table(pods: Sequence[str], table: Table) -> str:
    return _render(pods, {k: ALLOWED if v else BLOCKED for k, v in table.items()})


def disagreements(pods: Sequence[str], expected: Table, observed: Table) -> list[tuple[str, str]]:
    return [(s, d) for s in pods for d in pods if expected[s, d] != observed[s, d]]


def render_mismatch(pods: Sequence[str], expected: Table, observed: Table) -> str:
    """Expected, observed and a comparison table ('!' = disagreement), plus the cells."""
    wrong = disagreements(pods, expected, observed)
    comparison = {
        k: DISAGREE if k in wrong else (ALLOWED if v else BLOCKED) for k, v in expected.items()
    }
    cells = [
        f"  {s} -> {d}: expected {_mark(expected[s, d])}, observed {_mark(observed[s, d])}"
        for s, d in wrong
    ]
    return "\n\n".join(
        [
            f"reachability: correct:{len(pods) ** 2 - len(wrong)}, incorrect:{len(wrong)}",
            "expected:\n" + render_table(pods, expected),
            "observed:\n" + render_table(pods, observed),
            f"comparison ('{DISAGREE}' = disagreement):\n" + _render(pods, comparison),
            "disagreeing cells:\n" + "\n".join(cells),
        ]
    )


def _mark(value: bool) -> str:
    return ALLOWED if value else BLOCKED


# ----------------------------------------------------------------------------- scenarios
def _expectation(raw: Mapping[str, Any]) -> Expectation:
    port, protocol = raw.get("port"), raw.get("protocol")
    if not isinstance(port, int) or isinstance(port, bool):
        raise ScenarioError(f"expect.port must be a number, not {port!r}")
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise ScenarioError(f"expect.protocol must be TCP, UDP or SCTP, not {protocol!r}")
    pods, table = parse_table(str(raw.get("reachability", "")))
    return Expectation(port=port, protocol=protocol, pods=pods, table=table)


def _steps(raw_steps: Sequence[Mapping[str, Any]], base: list[Manifest]) -> tuple[Step, ...]:
    state, steps = base, []
    for number, raw in enumerate(raw_steps, start=1):
        state = apply_changes(state, raw.get("apply") or (), raw.get("delete") or ())
        expectations = tuple(_expectation(e) for e in raw.get("expect") or ())
        if not expectations:
            raise ScenarioError(f"step {number} has no expect")
        steps.append(Step(number, str(raw.get("description", "")), tuple(state), expectations))
    return tuple(steps)


def load_scenario(path: Path) -> Scenario:
    try:
        raw = yaml.safe_load(path.read_text())
        if not isinstance(raw, dict) or not raw.get("steps"):
            raise ScenarioError("a scenario is a mapping with a non-empty `steps` list")
        base = load_cluster(str(raw.get("cluster", "")))
        steps = _steps(raw["steps"], base)
    except (ScenarioError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path.name}: {err}") from err
    return Scenario(
        slug=path.stem,
        path=path,
        name=str(raw.get("name", "")),
        context=str(raw.get("context", "")),
        cluster=str(raw["cluster"]),
        raw=raw,
        steps=steps,
    )


def scenario_paths() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yaml"))


def load_all() -> list[Scenario]:
    return [load_scenario(p) for p in scenario_paths()]

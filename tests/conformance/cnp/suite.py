"""Load the translated ClusterNetworkPolicy conformance suite: the topology, each test's
upstream manifests, and its subtests as cumulative steps of changes and expected rows.

A row is one PokeServer call of upstream: `CLIENT -> SERVER PROTO/PORT CELL`, pods by name
(unique in the topology), CELL '.' (connects) or 'X' (blocked), as truthtable.go prints them.
Changes are the subtests' mutations, in a small vocabulary:

- `{policy: NAME, swap: spec.ingress, i: 0, j: 1}`: swap two rules of a ClusterNetworkPolicy
  (or, in the v1alpha1 suite of ../anp, an AdminNetworkPolicy or BaselineAdminNetworkPolicy)
- `{policy: NAME, set: 'spec.egress[5].protocols', value: ...}`: set a field
- `{policy: NAME, insert: spec.egress, index: 0, value: ...}`: insert a rule
- `{namespace: NAME, labels: {...}}`: replace a namespace's labels (SetLabels)
- `{delete: {kind: K, namespace: NS, name: N}}`: delete an object
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
TESTS = HERE / "tests"
UPSTREAM = HERE / "upstream" / "base"
TOPOLOGY = HERE / "topology.yaml"
# The suite's default host-network ports (HostNetworkPortRangeStart 34345, 8 of them).
HOST_NETWORK_PORTS = tuple(range(34345, 34353))
_TEMPLATE = re.compile(r"\{\{ index \.HostNetworkPorts (\d) \}\}")
_ROW = re.compile(r"(\S+) -> (\S+) (tcp|udp|sctp)/(\d+) ([.X])")

Manifest = dict[str, Any]
POLICY_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


class SuiteError(ValueError):
    """A test file that does not follow the format."""


@dataclass(frozen=True, slots=True)
class Row:
    client: str
    server: str
    protocol: str  # TCP, UDP or SCTP
    port: int
    allowed: bool

    def render(self) -> str:
        cell = "." if self.allowed else "X"
        return f"{self.client} -> {self.server} {self.protocol.lower()}/{self.port} {cell}"


@dataclass(frozen=True, slots=True)
class Step:
    subtest: str
    number: int  # within the subtest, from 1
    manifests: tuple[Manifest, ...]
    rows: tuple[Row, ...]

    @property
    def label(self) -> str:
        return f"{self.subtest} (step {self.number})"


@dataclass(frozen=True, slots=True)
class ConformanceTest:
    name: str
    path: Path
    raw: Mapping[str, Any]
    steps: tuple[Step, ...]


def render_template(text: str) -> str:
    """The suite's Go template over HostNetworkPorts, with its default ports."""
    return _TEMPLATE.sub(lambda m: str(HOST_NETWORK_PORTS[int(m.group(1))]), text)


@functools.cache
def _documents(path: Path) -> tuple[Manifest, ...]:
    docs = yaml.safe_load_all(render_template(path.read_text()))
    return tuple(d for d in docs if d)


def topology(path: Path = TOPOLOGY) -> list[Manifest]:
    return copy.deepcopy(list(_documents(path)))


def upstream_manifests(name: str, base: Path = UPSTREAM) -> list[Manifest]:
    return copy.deepcopy(list(_documents(base / name)))


def parse_row(text: str) -> Row:
    match = _ROW.fullmatch(text.strip())
    if match is None:
        raise SuiteError(f"row {text!r} is not 'CLIENT -> SERVER proto/port .|X'")
    client, server, proto, port, cell = match.groups()
    return Row(client, server, proto.upper(), int(port), cell == ".")


# ----------------------------------------------------------------------------- changes
def _find(
    state: list[Manifest], kind: str | tuple[str, ...], name: str, namespace: str | None = None
) -> Manifest:
    kinds = (kind,) if isinstance(kind, str) else kind
    for manifest in state:
        meta = manifest.get("metadata") or {}
        same = manifest.get("kind") in kinds and meta.get("name") == name
        if same and namespace in (None, meta.get("namespace")):
            return manifest
    raise SuiteError(f"no {kind} {name} to change")


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _walk(target: Any, path: str) -> tuple[Any, str | int]:
    """The container of the last step of `path` (`spec.egress[5].protocols`) and that step."""
    steps: list[str | int] = [name if name else int(number) for name, number in _STEP.findall(path)]
    for step in steps[:-1]:
        target = target[step]
    return target, steps[-1]


def apply_change(state: list[Manifest], change: Mapping[str, Any]) -> list[Manifest]:
    state = copy.deepcopy(state)
    if "delete" in change:
        ref = change["delete"]
        victim = _find(state, ref["kind"], ref["name"], ref.get("namespace"))
        return [m for m in state if m is not victim]
    if "namespace" in change:
        ns = _find(state, "Namespace", change["namespace"])
        ns["metadata"]["labels"] = dict(change["labels"])
        return state
    policy = _find(state, POLICY_KINDS, change["policy"])
    if "swap" in change:
        container, last = _walk(policy, change["swap"])
        rules = container[last]
        i, j = change["i"], change["j"]
        rules[i], rules[j] = rules[j], rules[i]
    elif "set" in change:
        container, last = _walk(policy, change["set"])
        container[last] = copy.deepcopy(change["value"])
    elif "insert" in change:
        container, last = _walk(policy, change["insert"])
        container[last].insert(change["index"], copy.deepcopy(change["value"]))
    else:
        raise SuiteError(f"unknown change {dict(change)}")
    return state


# ----------------------------------------------------------------------------- tests
def load_file(path: Path, base: Path = UPSTREAM, topology_path: Path = TOPOLOGY) -> ConformanceTest:
    """One test file, over the topology at `topology_path` and the upstream manifests under
    `base` (the defaults are this suite's; ../anp passes its own)."""
    try:
        raw = yaml.safe_load(path.read_text())
        state = topology(topology_path)
        for name in raw["manifests"]:
            state += upstream_manifests(name, base)
        steps: list[Step] = []
        for subtest in raw["subtests"]:
            for number, raw_step in enumerate(subtest["steps"], start=1):
                for change in raw_step.get("change") or ():
                    state = apply_change(state, change)
                rows = tuple(parse_row(r) for r in raw_step["expect"])
                steps.append(Step(subtest["name"], number, tuple(copy.deepcopy(state)), rows))
    except (KeyError, TypeError, IndexError, yaml.YAMLError) as err:
        raise SuiteError(f"{path.name}: {err!r}") from err
    return ConformanceTest(name=str(raw["name"]), path=path, raw=raw, steps=tuple(steps))


def file_paths(tests: Path = TESTS) -> list[Path]:
    return sorted(tests.glob("*.yaml"))


def load_all(
    tests: Path = TESTS, base: Path = UPSTREAM, topology_path: Path = TOPOLOGY
) -> list[ConformanceTest]:
    return [load_file(p, base, topology_path) for p in file_paths(tests)]


def pods(manifests: Sequence[Manifest]) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m.get("kind") == "Pod"}

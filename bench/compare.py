"""Compare podwall's full connectivity map with NCA's, pair by pair.

podwall's map (`podwall matrix -f DIR -o json`) partitions pods into `groups` and lists
`connections` between groups; it is normalised here to the form NCA's map is parsed to:
`(src "ns/name", dst "ns/name") -> Conn` (see `conns`). Every ordered pair of distinct pods is
compared; a pair that neither lists has no connection on either side.

Excluded on purpose (systematic, documented in bench/README.md):
- a pod's connection to itself: NCA never prints it, podwall allows every port to self.
- protocols other than TCP/UDP/SCTP: NCA's "All connections" also means ICMP & co.,
  podwall's ports only cover the three NetworkPolicy protocols.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.conns import NONE, Conn, make_conn, render, subtract, union
from bench.nca_output import NcaMap, Pair, parse_nca_file

DETAILS = 20


@dataclass
class PodwallMap:
    """podwall's JSON map, indexed: `conns[(src group, dst group)]` for distinct pods."""

    pods: list[str]
    group_of: list[int]
    conns: dict[tuple[int, int], Conn]
    self_note: str | None = None
    repeated_entries: int = 0

    def conn(self, src: int, dst: int) -> Conn:
        return self.conns.get((self.group_of[src], self.group_of[dst]), NONE)

    def pairs(self) -> Iterator[tuple[Pair, Conn]]:
        """Every ordered pair of distinct pods with a connection, as `(pair, conn)`."""
        for i, src in enumerate(self.pods):
            for j, dst in enumerate(self.pods):
                conn = self.conn(i, j) if i != j else NONE
                if conn:
                    yield (src, dst), conn


@dataclass(frozen=True)
class Difference:
    src: str
    dst: str
    nca: Conn
    podwall: Conn

    def kind(self) -> str:
        if not subtract(self.nca, self.podwall):
            return "podwall allows more"
        if not subtract(self.podwall, self.nca):
            return "NCA allows more"
        return "neither includes the other"

    def render(self) -> str:
        return f"{self.src} -> {self.dst}: NCA {render(self.nca)} | podwall {render(self.podwall)}"


@dataclass
class Comparison:
    pairs_compared: int = 0
    self_pairs_excluded: int = 0
    differences: int = 0
    details: list[Difference] = field(default_factory=list)
    classes: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str, str], Difference] = field(default_factory=dict)
    pods_only_in_nca: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.differences == 0 and not self.pods_only_in_nca

    def add(self, diff: Difference) -> None:
        self.differences += 1
        if len(self.details) < DETAILS:
            self.details.append(diff)
        key = (diff.kind(), render(diff.nca), render(diff.podwall))
        self.classes[key] += 1
        self.examples.setdefault(key, diff)


def load_podwall(data: dict[str, Any]) -> PodwallMap:
    """Index podwall's `matrix -o json` document; checks that `groups` partition the pods."""
    pods = [str(p) for p in data["pods"]]
    group_of = _group_index(data["groups"], len(pods))
    conns: dict[tuple[int, int], Conn] = {}
    repeated = 0
    for entry in data["connections"]:
        conn = _ports_to_conn(entry["ports"])
        for src in entry["from"]:
            for dst in entry["to"]:
                key = (int(src), int(dst))
                repeated += key in conns
                conns[key] = union(conns.get(key, NONE), conn)
    return PodwallMap(pods, group_of, conns, data.get("self"), repeated)


def load_podwall_file(path: Path) -> PodwallMap:
    with path.open(encoding="utf-8") as f:
        return load_podwall(json.load(f))


def check_podwall_file(path: Path) -> int:
    """The pod count of podwall's map, checked for form without expanding its pairs (a 10k-pod
    map has 100M of them): groups partition the pods, every connection names pods that exist
    and port ranges that parse."""
    with path.open(encoding="utf-8") as f:
        data = json.load(f)
    pods = len(data["pods"])
    _group_index(data["groups"], pods)
    for entry in data["connections"]:
        _ports_to_conn(entry["ports"])
        for index in (*entry["from"], *entry["to"]):
            if not 0 <= int(index) < pods:
                raise ValueError(f"connection names pod {index} of {pods}")
    return pods


def _group_index(groups: list[list[int]], n_pods: int) -> list[int]:
    group_of = [-1] * n_pods
    for g, members in enumerate(groups):
        for pod in members:
            if group_of[pod] != -1:
                raise ValueError(f"pod {pod} is in groups {group_of[pod]} and {g}")
            group_of[pod] = g
    missing = [i for i, g in enumerate(group_of) if g == -1]
    if missing:
        raise ValueError(f"{len(missing)} pods are in no group, e.g. {missing[:5]}")
    return group_of


def _ports_to_conn(ports: dict[str, list[list[int]]]) -> Conn:
    return make_conn((proto, lo, hi) for proto, ranges in ports.items() for lo, hi in ranges)


def compare(nca: NcaMap, podwall: PodwallMap) -> Comparison:
    """Compare every ordered pair of distinct pods of podwall's map with NCA's answer."""
    result = Comparison()
    known = set(podwall.pods)
    result.pods_only_in_nca = sorted(nca.pods - known)
    _check_pod_counts(nca, podwall, result)
    for i, src in enumerate(podwall.pods):
        for j, dst in enumerate(podwall.pods):
            if i == j:
                result.self_pairs_excluded += 1
                continue
            result.pairs_compared += 1
            theirs = nca.pairs.get((src, dst), NONE)
            ours = podwall.conn(i, j)
            if theirs != ours:
                result.add(Difference(src, dst, theirs, ours))
    return result


def _check_pod_counts(nca: NcaMap, podwall: PodwallMap, result: Comparison) -> None:
    if nca.endpoints is not None and nca.endpoints != len(podwall.pods):
        result.notes.append(f"NCA has {nca.endpoints} endpoints, podwall {len(podwall.pods)} pods")
    if nca.workload_lines:
        result.notes.append(f"{nca.workload_lines} NCA lines name non-Pod workloads (not compared)")
    if podwall.repeated_entries:
        result.notes.append(f"{podwall.repeated_entries} group pairs repeated in podwall's map")


def report(result: Comparison, out: Any = sys.stdout) -> None:
    """Print counts, every class of difference with one example, and the first details."""
    verdict = "identical" if result.identical else f"{result.differences} differences"
    print(f"pairs compared: {result.pairs_compared} ({verdict})", file=out)
    print(f"self pairs excluded: {result.self_pairs_excluded}", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    if result.pods_only_in_nca:
        print(f"pods only in NCA's map: {result.pods_only_in_nca[:DETAILS]}", file=out)
    for (kind, theirs, ours), count in result.classes.most_common():
        example = result.examples[(kind, theirs, ours)]
        print(f"  {count:8d} x {kind}: NCA {theirs} | podwall {ours}", file=out)
        print(f"             e.g. {example.src} -> {example.dst}", file=out)
    if result.details:
        print(f"first {len(result.details)} differences:", file=out)
    for diff in result.details:
        print(f"  {diff.render()}", file=out)


def main(argv: list[str]) -> int:
    """`python -m bench.compare NCA_OUTPUT.txt PODWALL_MATRIX.json`; exit 1 on differences."""
    if len(argv) != 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    result = compare(parse_nca_file(Path(argv[0])), load_podwall_file(Path(argv[1])))
    report(result)
    return 0 if result.identical else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

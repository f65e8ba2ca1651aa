"""DOT output: every allowed connection of the map is on the drawing, and nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from podwall.engine import ConnectivityMap, connectivity
from podwall.manifests import load_paths
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster
from podwall.model.ports import PortSet, Protocol
from podwall.review.graph import connectivity_dot, quote
from tests.conftest import REQUIRE_ALL
from tests.strategies import objects, to_cluster

ROOT = Path(__file__).parents[3]
EDGE = re.compile(r'^  ("?[\w:.-]+"?) -> g(\d+) \[label="([^"]*)"(?:, lhead=cluster_(\d+))?\];$')
NODE = re.compile(r'^    g(\d+) \[label=.*?(xlabel="open to every pod")?\];$')


def _load(*paths: Path) -> Cluster:
    return cluster(load_paths([str(p) for p in paths]).objects).cluster


def _ports(text: str) -> PortSet:
    if text == "all ports":
        return PortSet.everything()
    items = []
    for part in text.split(", "):
        proto, _, span = part.partition(" ")
        if span == "all":
            lo, hi = 1, 65535
        else:
            lo_text, _, hi_text = span.partition("-")
            lo, hi = int(lo_text), int(hi_text or lo_text)
        items.append((Protocol(proto), lo, hi))
    return PortSet.of(items)


def _drawn(cmap: ConnectivityMap, dot: str) -> dict[tuple[int, int], PortSet]:
    """(source group, destination group) -> ports, read back from the drawing."""
    idents = cmap.identities
    namespaces = sorted({i.namespace for i in idents})
    found: dict[tuple[int, int], list[Any]] = {}
    open_nodes = set()
    for line in dot.splitlines():
        node = NODE.match(line)
        if node and node.group(2):
            open_nodes.add(int(node.group(1)))
        edge = EDGE.match(line)
        if not edge:
            continue
        tail, head, label, box = edge.groups()
        if tail.startswith('"every:'):
            ns = tail[len('"every:') : -1]
            tails = [i.index for i in idents if i.namespace == ns]
        else:
            tails = [int(tail[1:])]
        heads = [int(head)]
        if box is not None:
            heads = [i.index for i in idents if i.namespace == namespaces[int(box)]]
        for s in tails:
            for d in heads:
                found.setdefault((s, d), []).append(_ports(label))
    for d in open_nodes:
        for s in range(len(idents)):
            found.setdefault((s, d), []).append(PortSet.everything())
    return {
        key: PortSet.of((p, lo, hi) for ps in sets for p, rs in ps.ranges for lo, hi in rs)
        for key, sets in found.items()
    }


def _expected(cmap: ConnectivityMap) -> dict[tuple[int, int], PortSet]:
    idents = cmap.identities
    out = {}
    for d in idents:
        for bits, mask in cmap.per_dst[d.index]:
            for s in idents:
                if bits >> s.index & 1 and (s.index != d.index or len(cmap.groups[d.index]) > 1):
                    out[s.index, d.index] = cmap.atoms.port_set(mask)
    return out


def _assert_drawing_is_the_map(c: Cluster) -> str:
    cmap = connectivity(c)
    dot = connectivity_dot(cmap)
    drawn = _drawn(cmap, dot)
    for (s, d), ports in _expected(cmap).items():
        assert drawn.pop((s, d), PortSet()) == ports, (s, d)
    # What remains is a lone pod and itself through an "every pod of" or box edge.
    assert all(s == d for s, d in drawn), drawn
    return dot


@pytest.mark.parametrize(
    "paths",
    [
        (ROOT / "examples" / "tutorial",),
        (ROOT / "examples" / "tutorial" / "simple-app.yaml",),
        (ROOT / "tests" / "fixtures" / "shop-50.yaml",),
        (ROOT / "tests" / "fixtures" / "named-ports.yaml",),
    ],
    ids=["tutorial", "no policy", "a 50-pod namespace", "named ports"],
)
def test_the_drawing_is_the_map(paths: tuple[Path, ...]) -> None:
    _assert_drawing_is_the_map(_load(*paths))


@settings(max_examples=100, deadline=None)
@given(objects(max_pods=6, max_policies=3))
def test_the_drawing_is_the_map_for_any_cluster(objs: list[dict[str, Any]]) -> None:
    _assert_drawing_is_the_map(to_cluster(objs))


def test_a_50_pod_namespace_stays_small() -> None:
    dot = connectivity_dot(connectivity(_load(ROOT / "tests" / "fixtures" / "shop-50.yaml")))
    edges = [line for line in dot.splitlines() if " -> " in line]
    assert len(edges) <= 16  # eleven calls, the open web service, one for monitoring


@pytest.mark.parametrize(
    ("text", "quoted"),
    [("a", '"a"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("a\nb", '"a\\nb"')],
    ids=["plain", "a quote", "a backslash", "a newline"],
)
def test_quote(text: str, quoted: str) -> None:
    assert quote(text) == quoted


def test_graphviz_reads_the_drawing_without_a_warning() -> None:
    if shutil.which("dot") is None:
        if REQUIRE_ALL:  # CI installs graphviz: a missing dot there is a failure, not a skip
            pytest.fail("needs Graphviz's dot (required in CI: install graphviz in .ci/run)")
        pytest.skip("needs Graphviz's dot")
    dot = connectivity_dot(connectivity(_load(ROOT / "tests" / "fixtures" / "shop-50.yaml")))
    done = subprocess.run(
        ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.lstrip().startswith("<?xml")

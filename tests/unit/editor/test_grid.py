"""The grid against the reference: every cell agrees with `decide()` on its pod pairs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from podwall.cli.loading import load
from podwall.editor.grid import Grid, counted, suggested_port
from podwall.engine import Endpoint, Traffic, connectivity, decide
from podwall.engine.atoms import Atoms
from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from podwall.model.ports import ContainerPort, Protocol
from podwall.review.diff import diff

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    out = tmp_path_factory.mktemp("cluster")
    args = ["--namespaces", "4", "--pods", "3-5", "--policies", "1-3", "--seed", "3"]
    script = str(ROOT / "bench" / "gen_cluster.py")
    subprocess.run([sys.executable, script, *args, "--out", str(out)], check=True)
    return load([str(out)]).cluster


def allowed(cluster: Cluster, src: Pod, dst: Pod, proto: Protocol, port: int) -> bool:
    traffic = Traffic(src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=proto)
    return decide(cluster, traffic).allowed


@pytest.mark.parametrize("by", ["workload", "namespace"])
def test_cells_agree_with_decide(small: Cluster, by: str) -> None:
    grid = Grid(cmap=connectivity(small))
    groups = grid.groups(by)
    pods = grid.cmap.pods
    for row in groups:
        for col in groups:
            cell = grid.cell(row, col, [])
            pairs = list(grid.pairs(row, col))
            if not pairs:
                assert cell["state"] == "self"
                continue
            seen = set()
            for s, d in pairs:
                verdicts = tuple(
                    allowed(small, pods[s], pods[d], p.protocol, p.port) for p in pods[d].ports
                )
                seen.add(verdicts)
                if cell["state"] == "none":
                    assert not any(verdicts)
                if cell["state"] == "allowed" and cell["text"] == "all":
                    assert all(verdicts)
            if cell["state"] == "allowed":
                assert len(seen) == 1  # every pair alike on its declared ports


def test_marks_are_the_diffs_pairs(small: Cluster) -> None:
    victim = small.policies[0]
    after = Cluster.build(
        namespaces=small.namespaces.values(),
        pods=small.pods,
        services=small.services,
        policies=[p for p in small.policies if p.key != victim.key],
        workloads=small.workloads,
    )
    bmap, amap = connectivity(small), connectivity(after)
    d = diff(small, after, maps=(bmap, amap))
    assert d.changed
    grid = Grid(cmap=amap, diff=d)
    changed = {(s.key, t.key) for c in d.newly_allowed for s, t in c.pairs()}
    assert counted(d.newly_allowed) == len(changed)
    groups = grid.groups("workload")
    marks = grid.marks("workload")
    for row in groups:
        for col in groups:
            keys = {(amap.pods[s].key, amap.pods[t].key) for s, t in grid.pairs(row, col)}
            assert ("gained" in grid.cell(row, col, marks)) == bool(keys & changed)


@pytest.mark.parametrize(
    ("ports", "mask_ports", "expected"),
    [
        pytest.param(
            [(Protocol.TCP, 80), (Protocol.TCP, 443)], [443], (Protocol.TCP, 443),
            id="allowed-declared",
        ),
        pytest.param([(Protocol.TCP, 80)], [], (Protocol.TCP, 80), id="declared"),
        pytest.param([], [443], (Protocol.TCP, 443), id="first-allowed"),
        pytest.param([], [], (Protocol.TCP, 80), id="fallback"),
    ],
)  # fmt: skip
def test_suggested_port(
    ports: list[tuple[Protocol, int]], mask_ports: list[int], expected: tuple[Protocol, int]
) -> None:
    atoms = Atoms([(Protocol.TCP, 80, 80), (Protocol.TCP, 443, 443)])
    mask = 0
    for port in mask_ports:
        mask |= atoms.port_mask(Protocol.TCP, port)
    dst = Pod(
        namespace="x",
        name="y",
        labels=Labels({}),
        ports=tuple(ContainerPort(port=n, protocol=p) for p, n in ports),
    )
    assert suggested_port(atoms, mask, dst) == expected

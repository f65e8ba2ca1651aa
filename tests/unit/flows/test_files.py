from __future__ import annotations

from pathlib import Path

from podwall.flows import files
from podwall.flows.ring import RingFile
from tests.unit.flows.samples import flow


def test_the_flows_directory_is_under_podwall_ups_run_root() -> None:
    from podwall.cluster.local import RUN_ROOT

    assert files.RUN_ROOT == RUN_ROOT
    assert files.flows_dir("abcd") == RUN_ROOT / "abcd" / "flows"


def test_history_merges_nodes_by_time(tmp_path: Path) -> None:
    for node, times in (("node-1", (1.0, 3.0)), ("node-2", (2.0,))):
        ring = RingFile(files.ring_path(tmp_path, node), 10)
        ring.append([flow(t, node=node) for t in times])
        ring.close()
    assert [(f.node, f.time) for f in files.history(tmp_path)] == [
        ("node-1", 1.0),
        ("node-2", 2.0),
        ("node-1", 3.0),
    ]


def test_a_follower_from_start_returns_the_older_half_too(tmp_path: Path) -> None:
    ring = RingFile(files.ring_path(tmp_path, "node-1"), 4)
    ring.append([flow(float(t)) for t in range(3)])  # 0, 1 in the older file; 2 current
    follower = files.Follower(tmp_path, from_start=True)
    first = [f.time for f in follower.poll()]
    ring.append([flow(3.0)])
    second = [f.time for f in follower.poll()]
    ring.close()
    follower.close()
    assert (first, second) == ([0.0, 1.0, 2.0], [3.0])


def test_an_empty_directory_has_no_history(tmp_path: Path) -> None:
    assert files.history(tmp_path / "missing") == []

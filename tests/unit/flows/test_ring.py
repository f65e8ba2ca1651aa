from __future__ import annotations

import threading
from pathlib import Path

import pytest

from podwall.flows.ring import FlowRing, RingFile, Tail, older, read_ring
from tests.unit.flows.samples import flow, hop


def test_a_ring_keeps_the_newest_and_numbers_them() -> None:
    ring: FlowRing[int] = FlowRing(3)
    ring.extend(range(5))
    assert ring.snapshot() == [2, 3, 4]
    assert ring.since(0) == ([2, 3, 4], 5)
    assert ring.since(4) == ([4], 5)
    assert ring.since(5) == ([], 5)


def test_a_follower_wakes_when_items_come() -> None:
    ring: FlowRing[int] = FlowRing(3)
    timer = threading.Timer(0.05, ring.extend, ([7],))
    timer.start()
    try:
        assert ring.since(0, timeout=10.0) == ([7], 1)
    finally:
        timer.cancel()


def test_a_ring_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FlowRing(0)


def test_a_ring_file_keeps_flows_and_hops_in_order(tmp_path: Path) -> None:
    ring = RingFile(tmp_path / "node-1.jsonl", capacity=100)
    entries = [hop(1.0), flow(2.0), flow(3.0)]
    ring.append(entries)
    ring.close()
    assert list(read_ring(tmp_path / "node-1.jsonl")) == entries


def test_a_ring_file_never_holds_more_than_its_capacity(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    ring = RingFile(path, capacity=4)
    ring.append([flow(float(t)) for t in range(11)])
    ring.close()
    kept = [f.time for f in read_ring(path)]
    assert kept == [8.0, 9.0, 10.0]  # the older half (8, 9) and the current one (10)
    assert older(path).exists()


def test_a_reopened_ring_file_counts_what_it_already_holds(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    for t in range(3):
        ring = RingFile(path, capacity=4)
        ring.append([flow(float(t))])
        ring.close()
    assert [f.time for f in read_ring(path)] == [0.0, 1.0, 2.0]
    assert [f.time for f in read_ring(older(path))] == [0.0, 1.0]


def test_a_half_written_last_line_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    ring = RingFile(path, capacity=10)
    ring.append([flow(1.0)])
    ring.close()
    with path.open("a") as f:
        f.write('{"time": "1970')
    assert [f.time for f in read_ring(path)] == [1.0]


def test_a_tail_sees_appends_across_rotations_without_a_gap(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    ring = RingFile(path, capacity=4)
    ring.append([flow(0.0)])
    tail = Tail(path)  # from the end: 0.0 is history
    seen: list[float] = []
    for t in range(1, 9):
        ring.append([flow(float(t))])
        if t % 2 == 0:
            seen += [e.time for e in tail.poll()]
    seen += [e.time for e in tail.poll()]
    ring.close()
    tail.close()
    assert seen == [float(t) for t in range(1, 9)]


def test_a_tail_of_a_file_not_yet_written_starts_at_its_beginning(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    tail = Tail(path)
    assert tail.poll() == []
    ring = RingFile(path, capacity=10)
    ring.append([flow(1.0)])
    ring.close()
    assert [e.time for e in tail.poll()] == [1.0]
    tail.close()


def test_a_tail_polled_too_rarely_counts_the_files_it_missed(tmp_path: Path) -> None:
    path = tmp_path / "n.jsonl"
    ring = RingFile(path, capacity=4)
    tail = Tail(path)
    ring.append([flow(float(t)) for t in range(9)])  # files 0..4, two lines each
    seen = [e.time for e in tail.poll()]
    ring.close()
    tail.close()
    assert tail.missed_files == 2  # files 1 and 2 came and went between two polls
    assert seen == [0.0, 1.0, 6.0, 7.0, 8.0]

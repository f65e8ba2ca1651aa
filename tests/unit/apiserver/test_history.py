"""The watch cache: what changed since a resourceVersion, and what keys held then."""

from __future__ import annotations

import pytest

from podwall.apiserver.history import ADDED, DELETED, MODIFIED, Change, History, TooOld
from podwall.apiserver.objectindex import OpCounts, Stored, stored


def _obj(name: str, rv: int, label: str = "") -> Stored:
    meta = {"name": name, "namespace": "ns", "resourceVersion": str(rv), "labels": {"l": label}}
    return stored({"metadata": meta}, OpCounts())


def _change(rv: int, kind: str, name: str, previous: Stored | None = None) -> Change:
    return Change(rv, kind, "pods", "ns", name, _obj(name, rv), previous)


def test_since_returns_the_later_changes_of_one_resource() -> None:
    history = History(capacity=10, floor=0)
    history.append(_change(1, ADDED, "a"))
    history.append(Change(2, ADDED, "services", "ns", "s", _obj("s", 2), None))
    history.append(_change(3, ADDED, "b"))
    assert [c.resource_version for c in history.since("pods", 1)] == [3]
    assert [c.resource_version for c in history.since("pods", 0)] == [1, 3]
    assert history.since("configmaps", 0) == []


def test_a_full_history_raises_its_floor_per_resource() -> None:
    history = History(capacity=2, floor=5)
    with pytest.raises(TooOld, match=r"too old resource version: 4 \(5\)"):
        history.since("pods", 4)
    for rv in (6, 7, 8):
        history.append(_change(rv, ADDED, f"p{rv}"))
    assert history.floor("pods") == 6
    assert history.floor("services") == 5
    with pytest.raises(TooOld):
        history.since("pods", 5)
    assert [c.resource_version for c in history.since("pods", 6)] == [7, 8]


def test_state_at_gives_what_changed_keys_held_then() -> None:
    history = History(capacity=10, floor=0)
    a1 = _obj("a", 1)
    history.append(_change(1, ADDED, "a"))
    history.append(_change(2, MODIFIED, "a", previous=a1))
    history.append(_change(3, MODIFIED, "a", previous=_obj("a", 2)))
    history.append(_change(4, ADDED, "b"))
    history.append(_change(5, DELETED, "c", previous=_obj("c", 0)))
    then = history.state_at("pods", 1, "ns")
    assert then[("ns", "a")] is a1  # the state before the first change after RV 1
    assert then[("ns", "b")] is None  # did not exist yet
    assert then[("ns", "c")] is not None  # existed, deleted since
    assert history.state_at("pods", 1, "elsewhere") == {}

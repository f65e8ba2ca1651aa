"""A watch over pushed changes: predicate transitions, the initial-events end, shared objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from podwall.apiserver.history import ADDED, DELETED, MODIFIED, Change
from podwall.apiserver.objectindex import OpCounts, Stored, stored
from podwall.apiserver.watch import InitialEnd, Watch


def _obj(rv: int, tier: str) -> Stored:
    meta = {"name": "a", "namespace": "ns", "resourceVersion": str(rv), "labels": {"tier": tier}}
    return stored({"metadata": meta}, OpCounts())


def _web(obj: Mapping[str, Any]) -> bool:
    return bool(obj["metadata"]["labels"]["tier"] == "web")


def _watch(predicate: Any = None) -> Watch:
    return Watch("pods", None, predicate, lambda w: 7, lambda w: None)


TRANSITIONS = {
    "starts matching: ADDED": ("db", "web", ADDED),
    "stops matching: DELETED": ("web", "db", DELETED),
    "keeps matching: MODIFIED": ("web", "web", MODIFIED),
    "never matches: nothing": ("db", "db", None),
}


@pytest.mark.parametrize(("before", "after", "seen"), TRANSITIONS.values(), ids=list(TRANSITIONS))
def test_a_modification_is_seen_through_the_predicate(
    before: str, after: str, seen: str | None
) -> None:
    watch = _watch(_web)
    new = _obj(2, after)
    watch.push([Change(2, MODIFIED, "pods", "ns", "a", new, _obj(1, before))])
    event = watch.get(timeout=0.01)
    assert (event.type if event else None) == seen
    if event is not None:
        assert event.object is new.obj  # the shared object, not a copy
        assert event.text == new.text


def test_the_initial_events_end_is_a_bookmark_with_the_annotation() -> None:
    watch = _watch()
    watch.push([InitialEnd(5)])
    event = watch.get(timeout=0.01)
    assert event is not None
    assert event.type == "BOOKMARK"
    assert event.object["metadata"] == {
        "resourceVersion": "5",
        "annotations": {"k8s.io/initial-events-end": "true"},
    }
    assert watch.progress() == 7


def test_a_closed_watch_hands_out_nothing() -> None:
    watch = _watch()
    watch.push([Change(1, ADDED, "pods", "ns", "a", _obj(1, "web"), None)])
    watch.close()
    assert watch.get(timeout=0.01) is None

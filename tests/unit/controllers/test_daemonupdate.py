"""The DaemonSet update strategy: budgets, current and old pods per node, one step of a rollout."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import daemonupdate as du
from podwall.controllers.daemonpods import GENERATION_LABEL, HASH_LABEL, revision_hash

from .cluster import T0
from .daemons import node, prepared


def rolling(**values: Any) -> dict[str, Any]:
    return {"type": "RollingUpdate", "rollingUpdate": values}


BUDGETS: list[tuple[str, dict[str, Any], int, tuple[int, int, bool]]] = [
    ("defaults: one down at a time", rolling(maxUnavailable=1), 10, (1, 0, False)),
    ("a percentage rounds up", rolling(maxUnavailable="25%"), 10, (3, 0, False)),
    ("both zero: one down anyway", rolling(maxUnavailable=0, maxSurge=0), 10, (1, 0, False)),
    ("surge alone", rolling(maxUnavailable=0, maxSurge="20%"), 10, (0, 2, True)),
    ("no nodes, no budget", rolling(maxUnavailable=0), 0, (0, 0, False)),
    ("OnDelete: the floor of one, never used", {"type": "OnDelete"}, 10, (1, 0, False)),
]  # fmt: skip


@pytest.mark.parametrize(("strategy", "desired", "expected"), [c[1:] for c in BUDGETS],
                         ids=[c[0] for c in BUDGETS])  # fmt: skip
def test_the_budgets_of_a_rollout(
    strategy: dict[str, Any], desired: int, expected: tuple[int, int, bool]
) -> None:
    ds = prepared(updateStrategy=strategy)
    got = (du.max_unavailable(ds, desired), du.max_surge(ds, desired), du.allows_surge(ds))
    assert got == expected


def pod(name: str, revision: str, *, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": {HASH_LABEL: revision}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-26T10:00:00Z"
    return {"metadata": metadata}


ON_NODE: list[tuple[str, list[dict[str, Any]], tuple[str | None, str | None, bool]]] = [
    ("nothing", [], (None, None, True)),
    ("one old", [pod("a", "old")], (None, "a", True)),
    ("one of each", [pod("a", "old"), pod("b", "new")], ("b", "a", True)),
    ("two new: the manage loop's to clean up", [pod("a", "new"), pod("b", "new")],
     (None, None, False)),
    ("one being deleted is not counted", [pod("a", "old", deleting=True), pod("b", "old")],
     (None, "b", True)),
]  # fmt: skip


@pytest.mark.parametrize(("pods", "expected"), [c[1:] for c in ON_NODE],
                         ids=[c[0] for c in ON_NODE])  # fmt: skip
def test_the_current_and_old_pod_of_a_node(
    pods: list[dict[str, Any]], expected: tuple[str | None, str | None, bool]
) -> None:
    new, old, ok = du.updated_pods_on_node(pods, "new", None)
    names = tuple(p["metadata"]["name"] if p else None for p in (new, old))
    assert (*names, ok) == expected


def running(name: str, revision: str, node_name: str, *, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {HASH_LABEL: revision, GENERATION_LABEL: "0"}},
        "spec": {"nodeName": node_name},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def test_one_step_deletes_an_unavailable_old_pod_and_as_many_more_as_the_budget_allows() -> None:
    ds = prepared(updateStrategy=rolling(maxUnavailable=1))
    nodes = [node("n1"), node("n2"), node("n3")]
    by_node = {
        "n1": [running("a", "old", "n1")],
        "n2": [running("b", "old", "n2", ready=False)],
        "n3": [running("c", "old", "n3")],
    }
    assert du.rolling_update(ds, nodes, by_node, T0) == (["b", "a"], [])


def test_one_surge_step_starts_new_pods_and_retires_old_ones_whose_successor_is_available() -> None:
    ds = prepared(updateStrategy=rolling(maxUnavailable=0, maxSurge=1))
    current = revision_hash(ds)
    nodes = [node("n1"), node("n2"), node("n3")]
    by_node = {
        "n1": [running("a", "old", "n1"), running("a2", current, "n1")],
        "n2": [running("b", "old", "n2")],
        "n3": [running("c", "old", "n3", ready=False)],
    }
    # a's successor is available: a goes; c is down anyway: n3 gets its new pod at once; one
    # surge for n2, since no other node is surging.
    assert du.rolling_update(ds, nodes, by_node, T0) == (["a"], ["n3", "n2"])

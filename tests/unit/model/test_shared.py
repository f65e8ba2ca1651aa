from __future__ import annotations

import textwrap

import pytest

from podwall.manifests.reader import load_text
from podwall.model import shared
from podwall.model.cluster import Pod
from podwall.model.convert import cluster
from podwall.model.shared import Shared


def _pods(text: str) -> tuple[Pod, ...]:
    return cluster(load_text(textwrap.dedent(text)).objects).cluster.pods


def _pod(name: str, labels: str, port: int) -> str:
    return f"""
        apiVersion: v1
        kind: Pod
        metadata: {{name: {name}, namespace: x, labels: {labels}}}
        spec:
          containers:
          - name: c
            ports: [{{containerPort: {port}, name: http}}]
        ---"""


def test_equal_pods_loaded_apart_hold_the_same_labels_and_ports() -> None:
    (before,) = _pods(_pod("a", "{app: web, tier: x}", 80))
    (after,) = _pods(_pod("a", "{tier: x, app: web}", 80))
    assert before == after
    assert before.labels is after.labels
    assert before.ports is after.ports


@pytest.mark.parametrize(
    ("labels", "port"),
    [("{app: web, tier: y}", 80), ("{app: web}", 80), ("{app: web, tier: x}", 81)],
    ids=["a label value differs", "a label is missing", "a port differs"],
)
def test_different_values_stay_apart(labels: str, port: int) -> None:
    (before,) = _pods(_pod("a", "{app: web, tier: x}", 80))
    (after,) = _pods(_pod("a", labels, port))
    assert before != after
    assert (before.labels == after.labels) is (before.labels is after.labels)
    assert (before.ports == after.ports) is (before.ports is after.ports)


def test_a_full_table_starts_again_and_still_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "_LIMIT", 2)
    table: Shared[list[int]] = Shared()
    first = table.get(1, lambda: [1])
    assert table.get(1, lambda: [99]) is first
    table.get(2, lambda: [2])
    assert len(table) == 2
    assert table.get(3, lambda: [3]) == [3]  # cleared, then kept
    assert len(table) == 1
    assert table.get(1, lambda: [1]) == [1]
    assert table.get(1, list) is not first

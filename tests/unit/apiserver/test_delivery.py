"""The listener thread: changes in order, failures logged, acknowledgements after delivery."""

from __future__ import annotations

import pytest

from podwall.apiserver.ack import Ack
from podwall.apiserver.delivery import Delivery, Listener
from podwall.apiserver.history import ADDED, Change
from podwall.apiserver.objectindex import OpCounts, stored
from podwall.apiserver.watch import WatchEvent


def _change(rv: int) -> Change:
    obj = {"metadata": {"name": f"c{rv}", "resourceVersion": str(rv)}}
    return Change(rv, ADDED, "configmaps", "default", f"c{rv}", stored(obj, OpCounts()), None)


def test_changes_reach_every_listener_in_order_before_the_acknowledgement(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[str, int]] = []

    def first(resource: str, event: WatchEvent) -> None:
        seen.append(("first", event.resource_version))

    def broken(resource: str, event: WatchEvent) -> None:
        raise RuntimeError("boom")

    def last(resource: str, event: WatchEvent) -> None:
        seen.append(("last", event.resource_version))

    listeners: list[Listener] = [first, broken, last]
    delivery = Delivery(lambda: listeners)
    acks = [Ack() for _ in range(2)]
    delivery.put([_change(1), _change(2)], [acks[0]])
    delivery.put([_change(3)], [acks[1]])
    acks[1].wait(timeout=10)
    assert acks[0].done()
    assert seen == [(who, rv) for rv in (1, 2, 3) for who in ("first", "last")]
    assert caplog.text.count("store listener failed") == 3
    delivery.stop()
    late = Ack()
    delivery.put([_change(4)], [late])  # after stop: acknowledged, not delivered
    assert late.done()
    assert ("first", 4) not in seen

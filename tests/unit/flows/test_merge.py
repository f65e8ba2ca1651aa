from __future__ import annotations

from podwall.flows.merge import Joiner, by_time
from podwall.flows.ring import Entry
from tests.unit.flows.samples import flow, hop


def test_streams_merge_in_time_order() -> None:
    one: list[Entry] = [flow(1.0), flow(4.0)]
    two: list[Entry] = [hop(2.0), flow(3.0)]
    assert [e.time for e in by_time([one, two])] == [1.0, 2.0, 3.0, 4.0]


def test_a_hop_on_the_client_node_names_the_service_of_a_flow_decided_elsewhere() -> None:
    joined = Joiner().feed([flow(1000.0, node="node-2"), hop(1000.1, node="node-1")])
    assert [f.service for f in joined] == ["default/backend"]


def test_a_hop_too_far_in_time_names_nothing() -> None:
    joined = Joiner().feed([hop(1.0), flow(1000.0)])
    assert [f.service for f in joined] == [None]


def test_hops_are_remembered_between_batches() -> None:
    joiner = Joiner()
    assert joiner.feed([hop(1000.0)]) == []
    assert [f.service for f in joiner.feed([flow(1000.2)])] == ["default/backend"]


def test_a_flow_that_names_its_service_keeps_it() -> None:
    joined = Joiner().feed([hop(1000.0), flow(1000.0, service="other/svc")])
    assert [f.service for f in joined] == ["other/svc"]

"""The agent's flow reader: a busy log group leaves it without flows, then retried with
back-off until it binds; the late reader gets the last synced cluster at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pytest

from podwall.agent.backoff import Backoff
from podwall.agent.flowreading import FlowReading
from podwall.flows.reader import LogGroupBusy
from podwall.model.cluster import Cluster
from podwall.runtime.flowlog import NodeFlows


@dataclass
class FakeFlows:
    updates: list[Cluster] = field(default_factory=list)
    stopped: bool = False

    def update(self, cluster: Cluster) -> None:
        self.updates.append(cluster)

    def stop(self) -> None:
        self.stopped = True


@dataclass
class Starts:
    """Refuses the first `busy` starts as a held log group does, then gives a reader."""

    busy: int
    calls: int = 0
    made: list[FakeFlows] = field(default_factory=list)

    def __call__(self) -> NodeFlows:
        self.calls += 1
        if self.calls <= self.busy:
            raise LogGroupBusy("pw-n1: log group 7 is already read by another socket")
        self.made.append(FakeFlows())
        return cast(NodeFlows, self.made[-1])


@dataclass
class Clock:
    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def cluster() -> Cluster:
    return Cluster(namespaces=(), pods=())


def reading(starts: Starts, clock: Clock) -> FlowReading:
    no_jitter = Backoff(1.0, 8.0, draw=lambda _low, high: high)
    return FlowReading(starts, "network namespace pw-n1", clock=clock, backoff=no_jitter)


def test_a_free_group_is_read_from_the_start() -> None:
    starts, clock = Starts(busy=0), Clock()
    flows = reading(starts, clock)
    flows.start()
    assert starts.calls == 1
    assert flows.flows is starts.made[0]
    clock.now += 1000
    flows.retry()
    assert starts.calls == 1


def test_a_busy_group_says_why_and_is_retried_with_back_off() -> None:
    starts, clock = Starts(busy=2), Clock()
    flows = reading(starts, clock)
    flows.start()
    found = flows.ring()
    assert isinstance(found, str)
    assert "already read by another socket" in found
    assert "retrying" in found
    flows.retry()  # too early: the back-off (1 s) has not passed
    assert starts.calls == 1
    clock.now += 1.0
    flows.retry()  # refused again: the next wait doubles
    assert starts.calls == 2
    clock.now += 1.9
    flows.retry()
    assert starts.calls == 2
    clock.now += 0.1
    flows.retry()
    assert starts.calls == 3
    assert flows.flows is starts.made[0]


def test_a_late_reader_gets_the_last_synced_cluster() -> None:
    starts, clock = Starts(busy=1), Clock()
    flows = reading(starts, clock)
    flows.start()
    first, second = cluster(), cluster()
    flows.update(first)
    flows.update(second)
    clock.now += 1.0
    flows.retry()
    assert starts.made[0].updates == [second]
    third = cluster()
    flows.update(third)
    assert starts.made[0].updates == [second, third]


def test_stop_stops_the_reader_and_any_retry() -> None:
    starts, clock = Starts(busy=1), Clock()
    flows = reading(starts, clock)
    flows.start()
    flows.stop()
    clock.now += 1000
    flows.retry()
    assert starts.calls == 1
    started = reading(Starts(busy=0), Clock())
    started.start()
    started.stop()
    assert cast(FakeFlows, started.flows).stopped


@pytest.mark.parametrize("error", [OSError(1, "Operation not permitted")], ids=["os-error"])
def test_other_failures_are_retried_too(error: Exception) -> None:
    calls: list[int] = []

    def start() -> NodeFlows:
        calls.append(1)
        raise error

    clock = Clock()
    flows = FlowReading(start, "this network namespace", clock=clock)
    flows.start()
    assert "Operation not permitted" in str(flows.ring())
    clock.now += 120
    flows.retry()
    assert len(calls) == 2

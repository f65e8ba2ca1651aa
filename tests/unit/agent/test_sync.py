"""The sync loop over a recording nft: one batch replaces the table first, refused batches
keep the loaded rules and are retried, latencies and sizes are measured."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from podwall.agent import kinds
from podwall.agent.backoff import Backoff
from podwall.agent.cache import Cache
from podwall.agent.metrics import Metrics
from podwall.agent.sync import SyncLoop, local_pods
from podwall.model.convert import pod as to_pod
from podwall.model.rawobject import RawObject
from podwall.nft.errors import NftError
from podwall.runtime.dataplane import Dataplane
from tests.unit.agent.objects import DENY_ALL, namespace, pod, policy


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Nft:
    """Records each batch; refuses the next `refuse` ones as nft would, applying nothing."""

    def __init__(self) -> None:
        self.batches: list[str] = []
        self.refuse = 0

    def __call__(self, script: str, netns: str | None) -> None:
        if self.refuse:
            self.refuse -= 1
            raise NftError("Error: Could not process rule: No such file or directory")
        self.batches.append(script)


def loop(nft: Nft, clock: Clock | None = None) -> tuple[SyncLoop, Cache, Metrics]:
    clock = clock or Clock()
    cache = Cache(kinds.watched(service_dnat=False), clock=clock)
    for kind, items in (
        (kinds.NAMESPACES, [namespace("default")]),
        (kinds.PODS, [pod("web", "198.18.0.5", app="web")]),
        (kinds.NETWORK_POLICIES, [policy("deny", DENY_ALL)]),
        (kinds.NODES, []),
    ):
        relist = cache.relist(kind)
        for item in items:
            relist.add(item)
        relist.commit("10")
    metrics = Metrics()
    sync = SyncLoop(
        cache,
        Dataplane("pw-test", "node-1", apply=nft),
        metrics,
        threading.Event(),
        backoff=Backoff(draw=lambda low, high: 0.0),
        clock=clock,
    )
    return sync, cache, metrics


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_the_first_sync_replaces_the_table_in_one_batch() -> None:
    nft = Nft()
    sync, _, metrics = loop(nft)
    assert sync.sync_once()
    (batch,) = nft.batches
    assert batch.startswith(
        "add table inet podwall\ndelete table inet podwall\nadd table inet podwall"
    )
    assert "198.18.0.5" in batch
    assert sync.status.ready
    assert (sync.status.policies, sync.status.local_pods, sync.status.pods) == (1, 1, 1)
    assert sample(metrics, "podwall_agent_ready") == 1
    assert sample(metrics, "podwall_agent_ruleset_objects", object="rules") > 0
    assert sample(metrics, "podwall_agent_synced_resource_version", kind="pods") == 10


def test_a_refused_batch_keeps_the_last_state_and_the_retry_brings_the_change() -> None:
    nft = Nft()
    clock = Clock()
    sync, cache, metrics = loop(nft, clock)
    sync.sync_once()
    cache.apply(kinds.PODS, "ADDED", pod("db", "198.18.0.6", rv="11", app="db"))
    nft.refuse = 1
    assert not sync.sync_once()
    assert len(nft.batches) == 1  # nothing of the refused batch was applied
    assert sync.status.last_error.startswith("NftError: Error: Could not process rule")
    assert sync.status.errors == 1
    assert sample(metrics, "podwall_agent_nft_errors_total") == 1
    assert cache.changed.is_set()  # the retry is due even if nothing else changes
    clock.now += 0.25
    assert sync.sync_once()
    assert "198.18.0.6" in nft.batches[-1]
    assert not nft.batches[-1].startswith("add table")  # an update, diffed from what is loaded
    assert sync.status.last_error == ""
    assert sample(metrics, "podwall_agent_enforce_latency_seconds_sum") == 0.25


def test_the_loop_retries_refused_batches_until_one_commits() -> None:
    nft = Nft()
    nft.refuse = 2
    sync, _, metrics = loop(nft)
    thread = threading.Thread(target=sync.run)
    thread.start()
    try:
        deadline = time.monotonic() + 60  # bounded in time: the retries back off
        while not sync.status.ready and time.monotonic() < deadline:
            sync.stop.wait(0.02)
    finally:
        sync.stop.set()
        sync.cache.changed.set()
        thread.join(timeout=10)
    assert sync.status.ready
    assert sample(metrics, "podwall_agent_nft_errors_total") == 2
    assert len(nft.batches) == 1


def test_nothing_changed_nothing_is_sent() -> None:
    nft = Nft()
    sync, cache, _ = loop(nft)
    sync.sync_once()
    cache.apply(kinds.PODS, "MODIFIED", pod("web", "198.18.0.5", rv="12", app="web"))
    assert sync.sync_once()
    assert len(nft.batches) == 1


def test_local_pods_are_the_node_s_own_not_on_the_host_network() -> None:
    pods = tuple(
        to_pod(RawObject(body=body))
        for body in (
            pod("a", "198.18.0.5"),
            pod("b", "198.18.1.5", node="node-2"),
            pod("c", "198.18.255.1", host_network=True),
        )
    )
    assert local_pods(pods, "node-1") == 1


def test_an_ipv6_address_on_a_local_pod_is_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync, cache, _ = loop(Nft())
    caplog.set_level(logging.WARNING, "podwall.agent.sync")
    sync.sync_once()
    assert caplog.records == []
    for i, ip in enumerate(("fd00::5", "fd00::6")):
        cache.apply(kinds.PODS, "ADDED", pod(f"v6-{i}", ip, rv=str(20 + i), app="v6"))
        sync.sync_once()
    (record,) = caplog.records
    assert record.getMessage().startswith("pod default/v6-0 has an IPv6 address")


def test_each_enforced_snapshot_is_handed_on_and_a_refused_one_is_not() -> None:
    nft = Nft()
    sync, cache, _ = loop(nft)
    handed: list[list[str]] = []
    sync.on_synced = lambda cluster: handed.append(sorted(p.key for p in cluster.pods))
    sync.sync_once()
    cache.apply(kinds.PODS, "ADDED", pod("db", "198.18.0.6", rv="11", app="db"))
    cache.apply(kinds.PODS, "ADDED", pod("far", "198.18.1.6", rv="12", node="node-2", app="x"))
    nft.refuse = 1
    assert not sync.sync_once()
    assert handed == [["default/web"]]
    assert sync.sync_once()
    assert handed[-1] == ["default/db", "default/far", "default/web"]  # every node's pods

"""One node's collector with a fake reader: records in, flows in both rings, counts kept."""

from __future__ import annotations

from pathlib import Path

from podwall.flows.collector import Collector
from podwall.flows.flow import Flow, Verdict
from podwall.flows.nflog import LogRecord
from podwall.flows.packet import TCP, parse_ipv4
from podwall.flows.reader import NflogReader
from podwall.flows.ring import read_ring
from podwall.model.policy import Direction
from podwall.nft.logtags import LogTag, TagKind, TagTable
from tests.unit.flows.wire import ipv4

DENY = LogTag(kind=TagKind.DENY, direction=Direction.INGRESS, policies=("default/deny",))
SERVICE = LogTag(kind=TagKind.SERVICE, service="default/backend")


class FakeReader:
    def __init__(self, batches: list[list[LogRecord]]) -> None:
        self.batches = batches
        self.closed = False

    def read(self, timeout: float = 0.5) -> list[LogRecord]:
        return self.batches.pop(0) if self.batches else []

    def close(self) -> None:
        self.closed = True


def _record(prefix: str, dst: str = "198.18.0.3", dport: int = 8080) -> LogRecord:
    return LogRecord(
        group=1, prefix=prefix, seq=None, hook=2, mark=0, indev=None, outdev=None,
        timestamp=None, packet=parse_ipv4(ipv4("198.18.0.2", dst, TCP, 40000, dport)),
    )  # fmt: skip


def _collector(reader: FakeReader, ring: Path | None = None) -> Collector:
    tags = TagTable()
    tags.add(DENY)
    tags.add(SERVICE)
    fake: NflogReader = reader  # type: ignore[assignment]
    return Collector(fake, "node-1", tags, ring_path=ring, clock=lambda: 42.0)


def test_records_become_flows_in_the_rings_and_foreign_ones_are_counted(tmp_path: Path) -> None:
    batch = [
        _record(SERVICE.prefix, "198.19.0.20", 80),
        _record(DENY.prefix),
        _record("not ours"),
    ]
    seen: list[Flow] = []
    collector = _collector(FakeReader([batch]), tmp_path / "node-1.jsonl")
    collector._on_flow = seen.append
    collector.drain(0.0)
    _hop, flow = collector.ring.snapshot()
    assert isinstance(flow, Flow)
    assert (flow.verdict, flow.time, flow.service) == (Verdict.DENIED, 42.0, "default/backend")
    assert seen == [flow]
    assert (collector.stats.flows, collector.stats.service_hops, collector.attributor.foreign) == (
        {"DENIED": 1},
        1,
        1,
    )
    collector.stop()
    assert [type(e).__name__ for e in read_ring(tmp_path / "node-1.jsonl")] == [
        "ServiceHop",
        "Flow",
    ]


def test_the_thread_reads_until_stopped_and_then_unbinds() -> None:
    reader = FakeReader([[_record(DENY.prefix)]])
    collector = _collector(reader)
    collector.start()
    deadline = 200
    while not collector.ring.snapshot() and deadline:
        collector.ring.since(0, timeout=0.05)
        deadline -= 1
    collector.stop()
    assert len(collector.ring.snapshot()) == 1
    assert reader.closed


def test_a_collector_never_started_still_releases_its_reader() -> None:
    reader = FakeReader([])
    _collector(reader).stop()
    assert reader.closed

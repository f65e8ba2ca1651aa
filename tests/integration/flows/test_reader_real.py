"""The reader against the real kernel: a log group bound inside a node namespace."""

from __future__ import annotations

import functools
import socket
import time
from collections.abc import Callable

import pytest

from podwall.flows.nflog import LogRecord
from podwall.flows.packet import UDP
from podwall.flows.reader import LogGroupBusy, NflogReader
from podwall.nft import runner
from podwall.runtime.namespaces import run_in_netns

GROUP = 7
TABLE = """
table ip flowtest {
  chain out {
    type filter hook output priority 0; policy accept;
    udp dport 9 log prefix "pwai:0123456789abcdef" group 7
  }
}
"""


def _send(netns: str, count: int) -> None:
    def work() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(count):
                sock.sendto(b"x", ("127.0.0.1", 9))
                del i

    run_in_netns(netns, work)


def _read(reader: NflogReader, count: int, limit: float = 5.0) -> list[LogRecord]:
    found: list[LogRecord] = []
    deadline = time.monotonic() + limit
    while len(found) < count and time.monotonic() < deadline:
        found += reader.read(0.2)
    return found


def _reader(netns: str) -> NflogReader:
    return NflogReader(GROUP, functools.partial(run_in_netns, netns), name=netns)


@pytest.mark.netns
def test_the_reader_decodes_what_the_ruleset_logs(make_node: Callable[[], str]) -> None:
    node = make_node()
    runner.run(TABLE, netns=node)
    reader = _reader(node)
    try:
        _send(node, 3)
        records = _read(reader, 3)
    finally:
        reader.close()
    assert [r.prefix for r in records] == ["pwai:0123456789abcdef"] * 3
    packet = records[0].packet
    assert packet is not None
    assert (str(packet.dst), packet.protocol, packet.dport) == ("127.0.0.1", UDP, 9)
    assert [r.seq for r in records] == [0, 1, 2]
    assert (reader.stats.records, reader.stats.lost) == (3, 0)


@pytest.mark.netns
def test_one_group_has_one_reader_per_namespace(make_node: Callable[[], str]) -> None:
    node = make_node()
    first = _reader(node)
    try:
        with pytest.raises(LogGroupBusy):
            _reader(node)
    finally:
        first.close()
    _reader(node).close()  # free again once the first unbound it


@pytest.mark.netns
def test_a_reader_sees_only_its_own_namespace(make_node: Callable[[], str]) -> None:
    here, there = make_node(), make_node()
    for node in (here, there):
        runner.run(TABLE, netns=node)
    mine, theirs = _reader(here), _reader(there)
    try:
        _send(there, 2)
        assert len(_read(theirs, 2)) == 2
        assert mine.read(0.3) == []
    finally:
        mine.close()
        theirs.close()

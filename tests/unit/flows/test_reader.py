"""The reader over a fake netlink socket: what it asks, and how it counts what it lost."""

from __future__ import annotations

import errno
import struct
from collections.abc import Callable

import pytest

from podwall.flows import nflog
from podwall.flows.reader import LogGroupBusy, NflogReader, ReaderError
from tests.unit.flows.wire import ack, ipv4, packet_message


class FakeSocket:
    """Acknowledges each request with `answer`; then hands out the queued datagrams."""

    def __init__(self, answer: int = 0) -> None:
        self.answer = answer
        self.sent: list[bytes] = []
        self.queued: list[bytes | OSError] = []
        self.closed = False

    def setsockopt(self, *_: object) -> None:
        pass

    def settimeout(self, _: float) -> None:
        pass

    def send(self, data: bytes) -> int:
        self.sent.append(data)
        sequence = struct.unpack_from("=I", data, 8)[0]
        if sequence:
            self.queued.append(ack(sequence, self.answer))
        return len(data)

    def recv(self, _: int) -> bytes:
        if not self.queued:
            raise TimeoutError
        item = self.queued.pop(0)
        if isinstance(item, OSError):
            raise item
        return item

    def close(self) -> None:
        self.closed = True


def _within(sock: FakeSocket) -> Callable[[Callable[[], object]], object]:
    return lambda _make: sock


def _reader(sock: FakeSocket) -> NflogReader:
    return NflogReader(5, _within(sock))  # type: ignore[arg-type]


def _packet(seq: int) -> bytes:
    return packet_message(5, "pwai:0123456789abcdef", ipv4("198.18.0.2", "198.18.0.3"), seq=seq)


def test_binding_asks_for_the_group_headers_and_sequence_numbers() -> None:
    sock = FakeSocket()
    _reader(sock)
    attrs = [nflog.attributes(m, 20, len(m)) for m in sock.sent]
    assert attrs[0] == {nflog.CFG_CMD: bytes([nflog.CMD_BIND])}
    assert nflog.CFG_MODE in attrs[1]
    assert attrs[2] == {nflog.CFG_FLAGS: struct.pack(">H", nflog.FLAG_SEQ)}
    assert all(m[18:20] == b"\x00\x05" for m in sock.sent)


@pytest.mark.parametrize("answer", [errno.EPERM, errno.EBUSY], ids=["EPERM", "EBUSY"])
def test_a_group_read_by_another_socket_is_busy(
    answer: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 0)
    sock = FakeSocket(answer=answer)
    with pytest.raises(LogGroupBusy, match="already read"):
        _reader(sock)
    assert sock.closed


def test_another_refusal_names_its_errno() -> None:
    with pytest.raises(ReaderError, match="EINVAL"):
        _reader(FakeSocket(answer=errno.EINVAL))


def test_gaps_in_the_sequence_are_counted_as_lost() -> None:
    sock = FakeSocket()
    reader = _reader(sock)
    sock.queued += [_packet(0) + _packet(1), _packet(4)]
    assert len(reader.read() + reader.read()) == 3
    assert (reader.stats.records, reader.stats.lost) == (3, 2)


def test_an_overrun_is_counted_and_reading_goes_on() -> None:
    sock = FakeSocket()
    reader = _reader(sock)
    sock.queued += [OSError(errno.ENOBUFS, "No buffer space"), _packet(0)]
    assert reader.read() == []
    assert len(reader.read()) == 1
    assert reader.stats.overruns == 1


def test_nothing_to_read_returns_empty_and_close_unbinds_once() -> None:
    sock = FakeSocket()
    reader = _reader(sock)
    assert reader.read(0.01) == []
    reader.close()
    reader.close()
    unbinds = [
        m for m in sock.sent if nflog.attributes(m, 20, len(m)).get(nflog.CFG_CMD) == b"\x02"
    ]
    assert (len(unbinds), sock.closed, reader.read()) == (1, True, [])


def test_a_group_outside_sixteen_bits_is_refused() -> None:
    with pytest.raises(ValueError, match="0-65535"):
        NflogReader(70000, _within(FakeSocket()))  # type: ignore[arg-type]

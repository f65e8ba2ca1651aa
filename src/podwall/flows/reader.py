"""The nfnetlink_log socket of one network namespace: bind a log group, read its packets.

A netlink socket belongs to the network namespace it was created in, and nfnetlink_log groups
are per namespace, so the socket is made by a function the caller runs inside the node's
namespace (`within`, e.g. the runtime's `run_in_netns`): the reader never binds this machine's
own namespace by accident, and the calling thread never moves. Only one socket per namespace
can bind a group; a second one is refused (EPERM), reported as `LogGroupBusy`.

Losses are counted, never hidden: the kernel numbers the messages of a group (`FLAG_SEQ`), so
a gap in the numbers is messages built and not delivered (our socket's buffer was full), and
ENOBUFS on receive says the same without a number; `ReaderStats` keeps both. Losses before the
kernel builds a message (nft's rate limits) are counted in the ruleset's counters instead.

Call `read` and `close` from one thread (a collector's loop); `read` returns at least every
`timeout` seconds, so that thread can watch a stop flag.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

from podwall.errors import PodwallError
from podwall.flows import nflog
from podwall.flows.nflog import Ack, LogRecord

log = logging.getLogger(__name__)

Within = Callable[[Callable[[], socket.socket]], socket.socket]

COPY_RANGE = 80  # an IPv4 header with options (60) and the first 20 bytes of TCP
RECEIVE_BUFFER = 4 << 20
DATAGRAM = 1 << 16


class ReaderError(PodwallError):
    """The log group could not be bound or configured."""


class LogGroupBusy(ReaderError):
    """Another socket in the namespace already reads this log group."""


@dataclass(slots=True)
class ReaderStats:
    records: int = 0
    lost: int = 0  # messages the kernel numbered but never delivered (gaps in `seq`)
    overruns: int = 0  # ENOBUFS: our receive buffer overflowed at least once
    malformed: int = 0  # datagrams with messages that did not decode


@dataclass(frozen=True, slots=True, kw_only=True)
class Batching:
    """How the kernel batches messages before sending: up to `messages` or `hundredths`/100 s."""

    messages: int = 16
    hundredths: int = 5


def _netfilter_socket() -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, nflog.NETLINK_NETFILTER)
    sock.bind((0, 0))
    return sock


class NflogReader:
    """Reads log group `group` of the namespace `within` enters. `close()` unbinds it."""

    def __init__(
        self, group: int, within: Within, *, batching: Batching = Batching(), name: str = ""
    ) -> None:
        if not 0 <= group <= 0xFFFF:
            raise ValueError(f"log group {group} is not in 0-65535")
        self.group = group
        self.name = name or f"group {group}"
        self.stats = ReaderStats()
        self._sequence = itertools.count(1)
        self._last_seq: int | None = None
        self._closed = False
        self._sock = within(_netfilter_socket)
        try:
            self._configure(batching)
        except BaseException:
            self._sock.close()
            raise

    def _configure(self, batching: Batching) -> None:
        self._set_buffer()
        self._request(nflog.command(nflog.CMD_BIND))
        self._request(nflog.copy_mode(COPY_RANGE))
        self._request(nflog.flags(nflog.FLAG_SEQ))
        self._request(nflog.queue_threshold(batching.messages))
        self._request(nflog.flush_timeout(batching.hundredths))

    def _set_buffer(self) -> None:
        try:  # root may exceed net.core.rmem_max, and a bigger buffer rides out a burst
            self._sock.setsockopt(socket.SOL_SOCKET, 33, RECEIVE_BUFFER)  # SO_RCVBUFFORCE
        except OSError:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)

    def _request(self, attr: bytes) -> None:
        sequence = next(self._sequence)
        self._sock.send(nflog.config_message(self.group, [attr], sequence))
        self._sock.settimeout(2.0)
        while True:  # packets may arrive before the acknowledgement once bound
            try:
                data = self._sock.recv(DATAGRAM)
            except TimeoutError:
                raise ReaderError(f"{self.name}: the kernel did not answer") from None
            for message in nflog.messages(data):
                if isinstance(message, LogRecord):
                    self._count(message)
                elif message.sequence == sequence:
                    self._check(message)
                    return

    def _check(self, ack: Ack) -> None:
        if ack.errno == 0:
            return
        if ack.errno in (errno.EBUSY, errno.EPERM) and os.geteuid() == 0:
            # nfnetlink_log answers EPERM to a second socket binding a group (EBUSY on some
            # kernels); for root that cannot be a missing capability.
            raise LogGroupBusy(
                f"{self.name}: log group {self.group} is already read by another socket"
            )
        raise ReaderError(f"{self.name}: nfnetlink_log refused: {errno.errorcode.get(ack.errno)}")

    def read(self, timeout: float = 0.5) -> list[LogRecord]:
        """The records that arrived, waiting up to `timeout` for the first; [] once closed."""
        if self._closed:
            return []
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(DATAGRAM)
        except TimeoutError:
            return []
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                self.stats.overruns += 1
                log.warning("flow log overrun reader=%s (records lost)", self.name)
                return []
            raise
        out = []
        for message in nflog.messages(data):
            if isinstance(message, LogRecord):
                self._count(message)
                out.append(message)
        return out

    def _count(self, record: LogRecord) -> None:
        self.stats.records += 1
        if record.seq is None:
            return
        if self._last_seq is not None:
            self.stats.lost += (record.seq - self._last_seq - 1) & 0xFFFFFFFF
        self._last_seq = record.seq

    def close(self) -> None:
        """Unbind the group and close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            message = nflog.config_message(self.group, [nflog.command(nflog.CMD_UNBIND)], 0)
            self._sock.send(message)
        except OSError:
            pass  # closing the socket unbinds it too
        finally:
            self._sock.close()

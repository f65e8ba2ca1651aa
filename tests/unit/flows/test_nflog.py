from __future__ import annotations

import ipaddress
import struct

from podwall.flows import nflog
from podwall.flows.nflog import Ack, LogRecord
from tests.unit.flows.wire import ack, ipv4, packet_message


def test_a_packet_message_decodes_to_its_record() -> None:
    data = packet_message(
        7, "pwai:0123456789abcdef", ipv4("198.18.0.2", "198.18.0.3"), seq=41, timestamp=(10, 5)
    )
    (record,) = nflog.messages(data)
    assert isinstance(record, LogRecord)
    assert (record.group, record.prefix, record.seq, record.hook) == (
        7,
        "pwai:0123456789abcdef",
        41,
        2,
    )
    assert record.timestamp == 10.000005
    assert record.packet is not None
    assert record.packet.dst == ipaddress.IPv4Address("198.18.0.3")


def test_several_messages_in_one_datagram_come_in_order() -> None:
    first = packet_message(1, "one", ipv4("198.18.0.2", "198.18.0.3"), seq=1)
    second = packet_message(1, "two", ipv4("198.18.0.2", "198.18.0.4"), seq=2)
    found = list(nflog.messages(first + second + ack(9, 0)))
    assert [m.prefix if isinstance(m, LogRecord) else m for m in found] == [
        "one",
        "two",
        Ack(9, 0),
    ]


def test_an_error_answer_carries_its_errno() -> None:
    assert list(nflog.messages(ack(3, 16))) == [Ack(3, 16)]


def test_a_message_without_seq_or_timestamp_says_so() -> None:
    (record,) = nflog.messages(packet_message(1, "p", ipv4("198.18.0.2", "198.18.0.3")))
    assert isinstance(record, LogRecord)
    assert (record.seq, record.timestamp) == (None, None)


def test_a_truncated_datagram_yields_what_is_whole() -> None:
    whole = packet_message(1, "a", ipv4("198.18.0.2", "198.18.0.3"))
    assert len(list(nflog.messages(whole + whole[:30]))) == 1


def test_messages_of_other_subsystems_are_skipped() -> None:
    other = struct.pack("=IHHII", 20, (1 << 8) | 0, 0, 0, 0) + b"\0" * 4  # conntrack
    assert list(nflog.messages(other)) == []


def test_an_attribute_running_past_its_message_stops_the_walk() -> None:
    data = struct.pack("=HH", 8, 1) + b"abcd" + struct.pack("=HH", 200, 2)
    assert nflog.attributes(data, 0, len(data)) == {1: b"abcd"}


def test_a_config_message_names_the_group_in_network_order() -> None:
    message = nflog.config_message(0x0102, [nflog.command(nflog.CMD_BIND)], 5)
    length, kind, flags, sequence, _ = struct.unpack_from("=IHHII", message)
    assert (length, kind, sequence) == (len(message), (4 << 8) | 1, 5)
    assert flags & nflog.NLM_F_ACK
    assert message[18:20] == b"\x01\x02"

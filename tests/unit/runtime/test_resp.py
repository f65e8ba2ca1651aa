"""Redis's wire protocol: replies written as Redis writes them, commands and replies read back."""

from __future__ import annotations

import io
import re

import pytest

from podwall.runtime.standins import resp


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (resp.simple("OK"), b"+OK\r\n"),
        (resp.error("ERR a\nb"), b"-ERR a b\r\n"),
        (resp.integer(-3), b":-3\r\n"),
        (resp.bulk(b"\x00\r\n"), b"$3\r\n\x00\r\n\r\n"),
        (resp.bulk(None), b"$-1\r\n"),
        (resp.array([b"a", None]), b"*2\r\n$1\r\na\r\n$-1\r\n"),
        (resp.array([]), b"*0\r\n"),
    ],
    ids=["simple", "error without newlines", "integer", "binary bulk", "null bulk", "array",
         "empty array"],
)  # fmt: skip
def test_replies_are_resp2(written: bytes, expected: bytes) -> None:
    assert written == expected


@pytest.mark.parametrize(
    ("sent", "words"),
    [
        (b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", [b"GET", b"k"]),
        (b"*1\r\n$3\r\n\r\n\r\r\n", [b"\r\n\r"]),
        (b"SET  k v\r\n", [b"SET", b"k", b"v"]),
        (b"\r\n", []),
        (b"", None),
    ],
    ids=["array", "binary-safe bulk", "inline", "empty line", "end of stream"],
)
def test_commands_are_read_as_sent(sent: bytes, words: list[bytes] | None) -> None:
    assert resp.read_command(io.BytesIO(sent)) == words


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        (b"*x\r\n", "Protocol error: invalid multibulk length"),
        (b"*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
        (b"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"),
    ],
    ids=["bad count", "not a bulk string", "negative length"],
)
def test_what_is_not_resp_is_a_protocol_error(sent: bytes, message: str) -> None:
    with pytest.raises(resp.ProtocolError, match=re.escape(message)):
        resp.read_command(io.BytesIO(sent))


def test_a_command_round_trips() -> None:
    words = [b"HSET", b"wallet", b"0abc", bytes(range(256))]
    assert resp.read_command(io.BytesIO(resp.command(words))) == words


@pytest.mark.parametrize(
    ("sent", "value"),
    [
        (b"+PONG\r\n", b"PONG"),
        (b":42\r\n", 42),
        (b"$-1\r\n", None),
        (b"$2\r\nhi\r\n", b"hi"),
        (b"*2\r\n:1\r\n$1\r\nx\r\n", [1, b"x"]),
    ],
    ids=["simple", "integer", "null", "bulk", "array"],
)
def test_replies_are_read_back(sent: bytes, value: resp.Value) -> None:
    assert resp.read_reply(io.BytesIO(sent)) == value


def test_an_error_reply_raises_with_its_words() -> None:
    with pytest.raises(resp.ReplyError, match=r"^WRONGTYPE Operation"):
        resp.read_reply(io.BytesIO(resp.error("WRONGTYPE Operation against a key")))


def test_a_closed_connection_is_a_connection_error() -> None:
    with pytest.raises(ConnectionError):
        resp.read_reply(io.BytesIO(b""))

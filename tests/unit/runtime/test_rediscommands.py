"""The Redis stand-in's commands: each reply and error as Redis 7 writes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.runtime.standins.rediscommands import (
    INT64_MAX,
    CommandError,
    Keyspace,
    Session,
    as_integer,
    execute,
    glob_match,
)

NOT_INTEGER = b"-ERR value is not an integer or out of range\r\n"
WRONG_TYPE = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"


def _run(*commands: str) -> bytes:
    """The reply to the last of `commands` (words split on spaces), run in order on one
    connection of a fresh keyspace."""
    keyspace, session = Keyspace(), Session()
    reply = b""
    for line in commands:
        reply = execute(keyspace, session, [w.encode() for w in line.split()]).reply
    return reply


@pytest.mark.parametrize(
    ("commands", "reply"),
    [
        (["PING"], b"+PONG\r\n"),
        (["PING a b"], b"-ERR wrong number of arguments for 'ping' command\r\n"),
        (["ECHO hi"], b"$2\r\nhi\r\n"),
        (["GET nothing"], b"$-1\r\n"),
        (["SET k v", "GET k"], b"$1\r\nv\r\n"),
        (["get"], b"-ERR wrong number of arguments for 'get' command\r\n"),
        (["SET k v NX", "SET k w NX"], b"$-1\r\n"),
        (["SET k v XX"], b"$-1\r\n"),
        (["SET k v", "SET k w GET"], b"$1\r\nv\r\n"),
        (["SET k v EX 0"], b"-ERR invalid expire time in 'set' command\r\n"),
        (["SET k v WHENEVER"], b"-ERR syntax error\r\n"),
        (["INCR n", "INCR n"], b":2\r\n"),
        (["INCRBY hashes 0"], b":0\r\n"),
        (["INCRBY hashes 7", "INCRBY hashes 3", "GET hashes"], b"$2\r\n10\r\n"),
        (["DECRBY n 5"], b":-5\r\n"),
        (["INCRBY n x"], NOT_INTEGER),
        (["SET n 1.5", "INCR n"], NOT_INTEGER),
        (["SET n 01", "INCR n"], NOT_INTEGER),
        ([f"SET n {INT64_MAX}", "INCR n"], b"-ERR increment or decrement would overflow\r\n"),
        (["SET a 1", "SET b 2", "DEL a b c"], b":2\r\n"),
        (["SET a 1", "EXISTS a a b"], b":2\r\n"),
        (["SET a 1", "HSET h f v", "TYPE h"], b"+hash\r\n"),
        (["TYPE nothing"], b"+none\r\n"),
        (["SET a 1", "SET b 2", "DBSIZE"], b":2\r\n"),
        (["SET a 1", "FLUSHDB", "DBSIZE"], b":0\r\n"),
        (["HSET wallet 0a x 0b y"], b":2\r\n"),
        (["HSET wallet 0a x", "HSET wallet 0a y 0b z"], b":1\r\n"),
        (["HSET wallet 0a"], b"-ERR wrong number of arguments for 'hset' command\r\n"),
        (["HSET wallet 0a x", "HGET wallet 0a"], b"$1\r\nx\r\n"),
        (["HGET wallet 0a"], b"$-1\r\n"),
        (["HSET h a 1 b 2", "HGETALL h"], b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n"),
        (["HGETALL nothing"], b"*0\r\n"),
        (["HSET wallet a 1 b 2", "HLEN wallet"], b":2\r\n"),
        (["HLEN wallet"], b":0\r\n"),
        (["HSET h a 1", "HDEL h a", "EXISTS h"], b":0\r\n"),
        (["HSET h a 1", "HEXISTS h a"], b":1\r\n"),
        (["SET s 1", "HGET s f"], WRONG_TYPE),
        (["HSET h f v", "GET h"], WRONG_TYPE),
        (["HSET h f v", "INCR h"], WRONG_TYPE),
        (["SET s 1", "HSET s f v"], WRONG_TYPE),
        (["SELECT 15"], b"+OK\r\n"),
        (["SELECT 16"], b"-ERR DB index is out of range\r\n"),
        (["SELECT x"], NOT_INTEGER),
        (["SET k v", "SELECT 1", "GET k"], b"$-1\r\n"),
        (["SET k v", "SELECT 1", "FLUSHALL", "SELECT 0", "GET k"], b"$-1\r\n"),
        (["CLIENT SETNAME miner", "CLIENT GETNAME"], b"$5\r\nminer\r\n"),
        (["CLIENT SETINFO LIB-NAME redis-py"], b"+OK\r\n"),
        (["CLIENT BOGUS"], b"-ERR unknown subcommand 'BOGUS'. Try CLIENT HELP.\r\n"),
        (["COMMAND DOCS"], b"*0\r\n"),
        (["HELLO 3"], b"-ERR unknown command 'HELLO', with args beginning with: '3' \r\n"),
        (["LPUSH l a"], b"-ERR unknown command 'LPUSH', with args beginning with: 'l' 'a' \r\n"),
        (["FOO"], b"-ERR unknown command 'FOO', with args beginning with: \r\n"),
    ],
    ids=lambda value: " ; ".join(value) if isinstance(value, list) else "",
)
def test_replies(commands: list[str], reply: bytes) -> None:
    assert _run(*commands) == reply


def test_quit_answers_ok_and_ends_the_connection() -> None:
    outcome = execute(Keyspace(), Session(), [b"QUIT"])
    assert (outcome.reply, outcome.close) == (b"+OK\r\n", True)


def test_an_empty_command_has_no_reply() -> None:
    assert execute(Keyspace(), Session(), []).reply == b""


def test_keys_expire_after_ex_or_px() -> None:
    now = [100.0]
    keyspace, session = Keyspace(clock=lambda: now[0]), Session()
    execute(keyspace, session, [b"SET", b"a", b"1", b"EX", b"10"])
    execute(keyspace, session, [b"SET", b"b", b"1", b"PX", b"500"])
    now[0] = 100.6
    assert execute(keyspace, session, [b"EXISTS", b"a", b"b"]).reply == b":1\r\n"
    now[0] = 110.0
    assert execute(keyspace, session, [b"GET", b"a"]).reply == b"$-1\r\n"


def test_a_plain_set_clears_an_expiry() -> None:
    now = [0.0]
    keyspace, session = Keyspace(clock=lambda: now[0]), Session()
    execute(keyspace, session, [b"SET", b"a", b"1", b"EX", b"1"])
    execute(keyspace, session, [b"SET", b"a", b"2"])
    now[0] = 5.0
    assert execute(keyspace, session, [b"GET", b"a"]).reply == b"$1\r\n2\r\n"


def test_info_counts_the_keys_of_each_database() -> None:
    keyspace, session = Keyspace(), Session()
    execute(keyspace, session, [b"SET", b"a", b"1"])
    info = execute(keyspace, session, [b"INFO"]).reply
    assert b"redis_version:" in info
    assert b"db0:keys=1,expires=0,avg_ttl=0" in info


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        (b"*", b"hashes", True), (b"h*s", b"hashes", True), (b"h?shes", b"hashes", True),
        (b"h[ae]shes", b"heshes", True), (b"h[^a]shes", b"hashes", False),
        (b"h[a-c]shes", b"hbshes", True), (b"h\\*", b"h*", True), (b"h\\*", b"hx", False),
        (b"wallet", b"hashes", False), (b"a.b", b"axb", False),
    ],
    ids=["star", "star inside", "question mark", "class", "negated class", "range",
         "escaped star", "escaped star is literal", "literal", "a dot is literal"],
)  # fmt: skip
def test_keys_globs_as_redis_does(pattern: bytes, key: bytes, matches: bool) -> None:
    assert glob_match(pattern, key) is matches


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_every_int64_round_trips_through_its_text(number: int) -> None:
    assert as_integer(str(number).encode()) == number


@pytest.mark.parametrize("text", [b"", b"+1", b" 1", b"1 ", b"-0", b"007", b"1e3", b"9" * 20])
def test_what_redis_does_not_take_as_an_integer(text: bytes) -> None:
    with pytest.raises(CommandError):
        as_integer(text)

"""The Redis stand-in's keyspace and the commands it answers, each as Redis 7 answers it.

Sixteen databases (SELECT 0-15) of strings and hashes, in memory, shared by every connection
under one lock. Commands: PING, ECHO, QUIT, SELECT, CLIENT (SETNAME, GETNAME, SETINFO, ID),
COMMAND (an empty list: no command table), INFO (a few lines of its Server and Keyspace
sections), DBSIZE, FLUSHDB, FLUSHALL; GET, SET (NX, XX, EX, PX, GET), INCR, DECR, INCRBY,
DECRBY, DEL, EXISTS, KEYS (Redis's glob), TYPE; HSET, HGET, HGETALL, HLEN, HDEL, HEXISTS.
Anything else is Redis's unknown-command error. Replies and errors are Redis's own words:
`-WRONGTYPE` for the wrong kind of value, `-ERR value is not an integer or out of range`,
`-ERR wrong number of arguments for 'get' command`, `-ERR syntax error`...

Not reproduced: lists, sets, sorted sets, streams, pub/sub, transactions, scripts, AUTH,
persistence, RESP3 (HELLO is an unknown command, as before Redis 6), expiry commands (EXPIRE,
TTL: SET's EX and PX do expire keys).

Pure: no I/O; `execute` is called under the server's threads with the keyspace's lock.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from podwall.runtime.standins import resp

DATABASES = 16
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
VERSION = "7.2.4"
NOT_INTEGER = "ERR value is not an integer or out of range"
WRONG_TYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
_INTEGER = re.compile(rb"-?(0|[1-9][0-9]*)")

Stored = bytes | dict[bytes, bytes]


@dataclass
class Keyspace:
    """Every database's keys; `expiry` holds deadlines (time.monotonic()) of keys SET with EX
    or PX. `clock` is replaceable for tests."""

    databases: list[dict[bytes, Stored]] = field(
        default_factory=lambda: [{} for _ in range(DATABASES)]
    )
    expiry: list[dict[bytes, float]] = field(default_factory=lambda: [{} for _ in range(DATABASES)])
    lock: threading.Lock = field(default_factory=threading.Lock)
    clock: Callable[[], float] = time.monotonic
    clients: int = 0

    def live(self, db: int) -> dict[bytes, Stored]:
        """Database `db` without its expired keys."""
        now = self.clock()
        for key in [k for k, deadline in self.expiry[db].items() if deadline <= now]:
            del self.expiry[db][key]
            self.databases[db].pop(key, None)
        return self.databases[db]


@dataclass
class Session:
    """One connection's state: its selected database and its name."""

    db: int = 0
    name: bytes | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    reply: bytes
    close: bool = False


class CommandError(Exception):
    """A command's error reply (its text, without the `-`)."""


Handler = Callable[[Keyspace, Session, list[bytes]], bytes | Outcome]


def execute(keyspace: Keyspace, session: Session, words: list[bytes]) -> Outcome:
    """The reply to one command (`words`, its name first), and whether the connection ends."""
    if not words:
        return Outcome(b"")
    name = words[0].decode(errors="replace").lower()
    entry = COMMANDS.get(name)
    if entry is None:
        return Outcome(resp.error(_unknown(words)))
    arity, run = entry
    if (arity > 0 and len(words) != arity) or len(words) < -arity:
        return Outcome(resp.error(f"ERR wrong number of arguments for '{name}' command"))
    try:
        with keyspace.lock:
            done = run(keyspace, session, words[1:])
    except CommandError as exc:
        return Outcome(resp.error(str(exc)))
    return done if isinstance(done, Outcome) else Outcome(done)


def _unknown(words: list[bytes]) -> str:
    # Redis quotes the arguments one by one, each followed by a space, up to 128 characters.
    args = ""
    for word in words[1:]:
        if len(args) >= 128:
            break
        args += f"'{word.decode(errors='replace')[: 128 - len(args)]}' "
    name = words[0].decode(errors="replace")[:128]
    return f"ERR unknown command '{name}', with args beginning with: {args}"


def as_integer(data: bytes) -> int:
    """A signed 64-bit integer written as Redis writes them (no sign, spaces or leading zeros
    other than `-`); CommandError otherwise."""
    if not _INTEGER.fullmatch(data) or data == b"-0":
        raise CommandError(NOT_INTEGER)
    number = int(data)
    if not INT64_MIN <= number <= INT64_MAX:
        raise CommandError(NOT_INTEGER)
    return number


def glob_match(pattern: bytes, key: bytes) -> bool:
    """Redis's glob: `*`, `?`, `[abc]`, `[^a-z]`, and `\\` to escape."""
    return re.fullmatch(_glob_regex(pattern), key, re.DOTALL) is not None


def _glob_regex(pattern: bytes) -> bytes:
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i : i + 1]
        if char == b"*":
            out.append(b".*")
        elif char == b"?":
            out.append(b".")
        elif char == b"\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i : i + 1]))
        elif char == b"[" and (end := pattern.find(b"]", i + 1)) > i + 1:
            body = pattern[i + 1 : end]
            negate = body.startswith(b"^")
            body = body[1:] if negate else body
            escaped = re.escape(body).replace(b"\\-", b"-")
            out.append(b"[" + (b"^" if negate else b"") + escaped + b"]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    return b"".join(out)


def _string(keyspace: Keyspace, session: Session, key: bytes) -> bytes | None:
    value = keyspace.live(session.db).get(key)
    if isinstance(value, dict):
        raise CommandError(WRONG_TYPE)
    return value


def _hash(keyspace: Keyspace, session: Session, key: bytes) -> dict[bytes, bytes] | None:
    value = keyspace.live(session.db).get(key)
    if isinstance(value, bytes):
        raise CommandError(WRONG_TYPE)
    return value


def _ping(_: Keyspace, __: Session, args: list[bytes]) -> bytes:
    if len(args) > 1:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    return resp.bulk(args[0]) if args else resp.simple("PONG")


def _echo(_: Keyspace, __: Session, args: list[bytes]) -> bytes:
    return resp.bulk(args[0])


def _quit(_: Keyspace, __: Session, ___: list[bytes]) -> Outcome:
    return Outcome(resp.simple("OK"), close=True)


def _select(_: Keyspace, session: Session, args: list[bytes]) -> bytes:
    index = as_integer(args[0])
    if not 0 <= index < DATABASES:
        raise CommandError("ERR DB index is out of range")
    session.db = index
    return resp.simple("OK")


def _client(_: Keyspace, session: Session, args: list[bytes]) -> bytes:
    sub = args[0].decode(errors="replace").lower()
    if sub == "setname" and len(args) == 2:
        if b" " in args[1] or b"\n" in args[1]:
            raise CommandError("ERR Client names cannot contain spaces, newlines or special "
                               "characters.")  # fmt: skip
        session.name = args[1] or None
        return resp.simple("OK")
    if sub == "getname" and len(args) == 1:
        return resp.bulk(session.name)
    if sub == "setinfo" and len(args) == 3:
        return resp.simple("OK")
    if sub == "id" and len(args) == 1:
        return resp.integer(session.id)
    if sub in ("setname", "getname", "setinfo", "id"):
        raise CommandError(f"ERR wrong number of arguments for 'client|{sub}' command")
    raise CommandError(f"ERR unknown subcommand '{args[0].decode(errors='replace')}'. "
                       "Try CLIENT HELP.")  # fmt: skip


def _command(_: Keyspace, __: Session, ___: list[bytes]) -> bytes:
    return b"*0\r\n"


def _info(keyspace: Keyspace, _: Session, __: list[bytes]) -> bytes:
    lines = ["# Server", f"redis_version:{VERSION}", "redis_mode:standalone",
             "tcp_port:6379", "", "# Clients", f"connected_clients:{keyspace.clients}", "",
             "# Keyspace"]  # fmt: skip
    for index in range(DATABASES):
        keys = len(keyspace.live(index))
        if keys:
            expires = len(keyspace.expiry[index])
            lines.append(f"db{index}:keys={keys},expires={expires},avg_ttl=0")
    return resp.bulk(("\r\n".join(lines) + "\r\n").encode())


def _dbsize(keyspace: Keyspace, session: Session, _: list[bytes]) -> bytes:
    return resp.integer(len(keyspace.live(session.db)))


def _flushdb(keyspace: Keyspace, session: Session, _: list[bytes]) -> bytes:
    keyspace.databases[session.db].clear()
    keyspace.expiry[session.db].clear()
    return resp.simple("OK")


def _flushall(keyspace: Keyspace, _: Session, __: list[bytes]) -> bytes:
    for db, expiry in zip(keyspace.databases, keyspace.expiry, strict=True):
        db.clear()
        expiry.clear()
    return resp.simple("OK")


def _get(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return resp.bulk(_string(keyspace, session, args[0]))


def _set(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    key, value, options = args[0], args[1], [a.upper() for a in args[2:]]
    condition, ttl, get, i = b"", None, False, 0
    while i < len(options):
        option = options[i]
        if option in (b"NX", b"XX") and not condition:
            condition = option
        elif option == b"GET":
            get = True
        elif option in (b"EX", b"PX") and ttl is None and i + 1 < len(options):
            i += 1
            amount = as_integer(args[2 + i])
            if amount <= 0:
                raise CommandError("ERR invalid expire time in 'set' command")
            ttl = amount if option == b"EX" else amount / 1000
        else:
            raise CommandError(SYNTAX)
        i += 1
    db = keyspace.live(session.db)
    old = _string(keyspace, session, key) if get else None
    if (condition == b"NX" and key in db) or (condition == b"XX" and key not in db):
        return resp.bulk(old) if get else resp.bulk(None)
    db[key] = value
    keyspace.expiry[session.db].pop(key, None)
    if ttl is not None:
        keyspace.expiry[session.db][key] = keyspace.clock() + ttl
    return resp.bulk(old) if get else resp.simple("OK")


def _increment(keyspace: Keyspace, session: Session, key: bytes, by: int) -> bytes:
    current = _string(keyspace, session, key)
    number = as_integer(current) if current is not None else 0
    result = number + by
    if not INT64_MIN <= result <= INT64_MAX:
        raise CommandError("ERR increment or decrement would overflow")
    keyspace.live(session.db)[key] = str(result).encode()
    return resp.integer(result)


def _incr(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return _increment(keyspace, session, args[0], 1)


def _decr(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return _increment(keyspace, session, args[0], -1)


def _incrby(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return _increment(keyspace, session, args[0], as_integer(args[1]))


def _decrby(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    by = as_integer(args[1])
    if by == INT64_MIN:
        raise CommandError("ERR decrement would overflow")
    return _increment(keyspace, session, args[0], -by)


def _del(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    db = keyspace.live(session.db)
    removed = 0
    for key in args:
        if db.pop(key, None) is not None:
            keyspace.expiry[session.db].pop(key, None)
            removed += 1
    return resp.integer(removed)


def _exists(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    db = keyspace.live(session.db)
    return resp.integer(sum(1 for key in args if key in db))


def _keys(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return resp.array([k for k in keyspace.live(session.db) if glob_match(args[0], k)])


def _type(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    value = keyspace.live(session.db).get(args[0])
    kind = "none" if value is None else "hash" if isinstance(value, dict) else "string"
    return resp.simple(kind)


def _hset(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    if len(args) % 2 == 0:
        raise CommandError("ERR wrong number of arguments for 'hset' command")
    key, pairs = args[0], args[1:]
    fields = _hash(keyspace, session, key)
    if fields is None:
        fields = {}
        keyspace.live(session.db)[key] = fields
    added = 0
    for name, value in zip(pairs[::2], pairs[1::2], strict=True):
        added += name not in fields
        fields[name] = value
    return resp.integer(added)


def _hget(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    fields = _hash(keyspace, session, args[0]) or {}
    return resp.bulk(fields.get(args[1]))


def _hgetall(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    fields = _hash(keyspace, session, args[0]) or {}
    return resp.array([item for pair in fields.items() for item in pair])


def _hlen(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return resp.integer(len(_hash(keyspace, session, args[0]) or {}))


def _hdel(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    fields = _hash(keyspace, session, args[0])
    if fields is None:
        return resp.integer(0)
    removed = sum(1 for name in args[1:] if fields.pop(name, None) is not None)
    if not fields:  # Redis deletes a hash whose last field goes
        del keyspace.live(session.db)[args[0]]
    return resp.integer(removed)


def _hexists(keyspace: Keyspace, session: Session, args: list[bytes]) -> bytes:
    return resp.integer(int(args[1] in (_hash(keyspace, session, args[0]) or {})))


# Name → (arity, handler); arity as Redis's command table has it: N exactly, -N at least N
# (the command's name counts).
COMMANDS: dict[str, tuple[int, Handler]] = {
    "ping": (-1, _ping), "echo": (2, _echo), "quit": (-1, _quit), "select": (2, _select),
    "client": (-2, _client), "command": (-1, _command), "info": (-1, _info),
    "dbsize": (1, _dbsize), "flushdb": (-1, _flushdb), "flushall": (-1, _flushall),
    "get": (2, _get), "set": (-3, _set), "incr": (2, _incr), "decr": (2, _decr),
    "incrby": (3, _incrby), "decrby": (3, _decrby), "del": (-2, _del),
    "exists": (-2, _exists), "keys": (2, _keys), "type": (2, _type),
    "hset": (-4, _hset), "hget": (3, _hget), "hgetall": (2, _hgetall), "hlen": (2, _hlen),
    "hdel": (-3, _hdel), "hexists": (3, _hexists),
}  # fmt: skip

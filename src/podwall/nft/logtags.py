"""Log tags: the short nft log prefix of each verdict rule, and what it stands for.

Every rule that decides a new connection (a policy rule that accepts, a class chain's default
deny, an audited policy's would-be deny) and every Service DNAT can log the connection's first
packet through NFLOG with a prefix. nft allows 127 bytes there, too few for a policy's
namespace and name, so the prefix is a tag: `pw` + kind + direction + `:` + 16 hex digits of a
hash of what the rule means. The same meaning gives the same tag on every node and after every
restart, so a tag never needs renumbering; `TagTable` maps tags back to their `LogTag`, and the
kind and direction stay readable in the tag itself, so an event whose tag is unknown still
tells its verdict (never its policy). Pure: no I/O here.

The table forgets. After each compile the compiler tells it which tags each rebuilt fragment
now carries (`TagTable.commit`); a tag no fragment carries any more is retired, kept for a
grace period (`GRACE_SECONDS`) and then released. The grace covers what is in flight when a
rule goes: the compile runs before nft commits the batch, and a packet logged just before the
commit waits in the reader's socket (the kernel's batching, a busy reader) for a while after.
Forgetting cannot mis-attribute a late event, because a tag is a hash of its meaning, never a
number that is reused: a tag released and then seen is unknown (the flow is shown
unattributed, its verdict still read from the tag's letters), never another rule's. A tag
that comes back into use (the same policy and rule again) is simply live again. Retired tags
are bounded (`RETIRED_LIMIT`): under heavy churn the oldest go before their grace is over,
which again costs attribution of late events only, never correctness. The table follows
what the compiler produced: while nft refuses batches the kernel keeps the older rules, and
their tags, once past the grace, show as unattributed until a batch commits.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from podwall.model.policy import Direction

TAG_HEAD = "pw"
HASH_HEX = 16  # 64 bits: no two meanings of any real cluster collide
# A retired tag is kept this long: far beyond an nft commit plus the reader's flush timeout
# and a backlog of its socket buffer, short enough that churn does not pile up.
GRACE_SECONDS = 120.0
RETIRED_LIMIT = 65536  # retired tags kept at most (the live ones are never dropped)


class TagKind(StrEnum):
    ALLOW = "a"  # a policy rule admitted the connection
    DENY = "d"  # the default deny of the isolating policies dropped it
    AUDIT = "u"  # only audited policies isolate, none admits: let through, would be denied
    SERVICE = "s"  # the connection was to a Service's ClusterIP (the NAT chain)


_DIRECTION_LETTER = {Direction.INGRESS: "i", Direction.EGRESS: "e"}
_LETTER_DIRECTION = {v: k for k, v in _DIRECTION_LETTER.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class LogTag:
    """What one logging rule stands for.

    ALLOW: `policies` holds the admitting policy, `rule`/`peer`/`port` the rule's indices
    (peer None: the rule has no peers; port None: no ports). DENY and AUDIT: `policies` holds
    every isolating policy whose default deny applies, in chain order. SERVICE: `service` is
    `ns/name`, `direction` is None. A ClusterNetworkPolicy rule's ALLOW (Accept) or DENY (Deny)
    names its policy as `tier/name` in `policies`, and its rule's `rule_name` and `action`;
    a NetworkPolicy's tag has neither, and its meaning (so its prefix) is as it always was.
    """

    kind: TagKind
    direction: Direction | None = None
    policies: tuple[str, ...] = ()
    rule: int | None = None
    peer: int | None = None
    port: int | None = None
    service: str | None = None
    audited: bool = False  # ALLOW by a policy in audit mode
    rule_name: str | None = None  # a ClusterNetworkPolicy rule's `name`
    action: str | None = None  # the rule's `action` as its kind spells it: Accept (Allow), Deny

    @property
    def cluster_policy(self) -> bool:
        """Whether a ClusterNetworkPolicy rule (Admin or Baseline tier) decided."""
        return self.rule_name is not None

    @property
    def prefix(self) -> str:
        return _prefix(self)

    def meaning(self) -> list[object]:
        found: list[object] = [
            self.kind.value,
            None if self.direction is None else self.direction.value,
            list(self.policies),
            self.rule,
            self.peer,
            self.port,
            self.service,
            self.audited,
        ]
        if self.rule_name is not None:  # only then: NetworkPolicy tags keep their prefixes
            found += [self.rule_name, self.action]
        return found


def _prefix(tag: LogTag) -> str:
    text = json.dumps(tag.meaning(), separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:HASH_HEX]
    letter = "" if tag.direction is None else _DIRECTION_LETTER[tag.direction]
    return f"{TAG_HEAD}{tag.kind.value}{letter}:{digest}"


@dataclass(frozen=True, slots=True)
class TagHead:
    """What a prefix says by itself: the kind and direction, readable without a table."""

    kind: TagKind
    direction: Direction | None


def read_head(prefix: str) -> TagHead | None:
    """The kind and direction in a podwall prefix; None when it is not one of ours."""
    head, sep, digest = prefix.partition(":")
    if not sep or not head.startswith(TAG_HEAD) or len(digest) != HASH_HEX:
        return None
    letters = head[len(TAG_HEAD) :]
    try:
        kind = TagKind(letters[:1])
    except ValueError:
        return None
    if kind is TagKind.SERVICE:
        return TagHead(kind, None) if len(letters) == 1 else None
    direction = _LETTER_DIRECTION.get(letters[1:])
    return None if direction is None else TagHead(kind, direction)


class TagTable:
    """Tags back to their meaning: the live ones (some fragment of the compiled ruleset
    carries them) and, for a grace period, the retired ones (see the module docstring).

    `add` registers a tag as a rule is built; `commit` then says which tags each rebuilt
    fragment carries, which retires the tags no fragment carries any more and releases those
    retired longer than `grace` ago (or beyond `retired_limit`). A tag added but never
    committed (a table used without a compiler) stays until a commit retires it.
    `get` may run on another thread than `add`/`commit` (single dict operations).
    """

    def __init__(
        self,
        *,
        grace: float = GRACE_SECONDS,
        retired_limit: int = RETIRED_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.grace = grace
        self.retired_limit = retired_limit
        self._clock = clock
        self._tags: dict[str, LogTag] = {}
        self._carried: dict[Hashable, frozenset[str]] = {}  # fragment key -> its tags
        self._users: dict[str, int] = {}  # tag -> fragments carrying it
        self._retired: OrderedDict[str, float] = OrderedDict()  # tag -> when, oldest first
        self._fresh: set[str] = set()  # added since the last commit
        self.released = 0  # tags forgotten so far

    def add(self, tag: LogTag) -> str:
        prefix = tag.prefix
        self._tags[prefix] = tag
        self._fresh.add(prefix)
        return prefix

    def get(self, prefix: str) -> LogTag | None:
        return self._tags.get(prefix)

    def __len__(self) -> int:
        return len(self._tags)

    @property
    def retired(self) -> int:
        return len(self._retired)

    def commit(self, carried: Mapping[Hashable, Iterable[str]]) -> None:
        """The tags each of these fragments carries now (empty: the fragment is gone)."""
        now = self._clock()
        for key, prefixes in carried.items():
            new = frozenset(prefixes)
            old = self._carried.pop(key, frozenset())
            if new:
                self._carried[key] = new
            for prefix in new - old:
                self._users[prefix] = self._users.get(prefix, 0) + 1
                self._retired.pop(prefix, None)
            for prefix in old - new:
                users = self._users.pop(prefix, 0) - 1
                if users > 0:
                    self._users[prefix] = users
                else:
                    self._retired[prefix] = now
        for prefix in self._fresh:
            if prefix not in self._users and prefix not in self._retired:
                self._retired[prefix] = now  # added, yet no fragment carries it
        self._fresh = set()
        self._release(now)

    def _release(self, now: float) -> None:
        while self._retired:
            prefix, since = next(iter(self._retired.items()))
            if now - since < self.grace and len(self._retired) <= self.retired_limit:
                return
            del self._retired[prefix]
            self._tags.pop(prefix, None)
            self.released += 1

    def keep_only(self, prefixes: set[str]) -> None:
        """Forget every tag not in `prefixes` at once (no grace)."""
        self._tags = {p: t for p, t in self._tags.items() if p in prefixes}
        for prefix in [p for p in self._retired if p not in prefixes]:
            del self._retired[prefix]

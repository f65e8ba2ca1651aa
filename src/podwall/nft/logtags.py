"""Log tags: the short nft log prefix of each verdict rule, and what it stands for.

Every rule that decides a new connection (a policy rule that accepts, a class chain's default
deny, an audited policy's would-be deny) and every Service DNAT can log the connection's first
packet through NFLOG with a prefix. nft allows 127 bytes there, too few for a policy's
namespace and name, so the prefix is a tag: `pw` + kind + direction + `:` + 16 hex digits of a
hash of what the rule means. The same meaning gives the same tag on every node and after every
restart, so a tag never needs renumbering; `TagTable` maps tags back to their `LogTag`, and the
kind and direction stay readable in the tag itself, so an event whose tag is unknown still
tells its verdict (never its policy). Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum

from podwall.model.policy import Direction

TAG_HEAD = "pw"
HASH_HEX = 16  # 64 bits: no two meanings of any real cluster collide


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
    action: str | None = None  # a ClusterNetworkPolicy rule's `action`: Accept or Deny

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
    """Tags back to their meaning. Entries are kept after their rule is gone, so a packet
    logged just before an update still resolves; `forget` drops those no ruleset used for a
    while (the caller decides when)."""

    def __init__(self) -> None:
        self._tags: dict[str, LogTag] = {}

    def add(self, tag: LogTag) -> str:
        prefix = tag.prefix
        self._tags[prefix] = tag
        return prefix

    def get(self, prefix: str) -> LogTag | None:
        return self._tags.get(prefix)

    def __len__(self) -> int:
        return len(self._tags)

    def keep_only(self, prefixes: set[str]) -> None:
        """Forget every tag not in `prefixes`."""
        self._tags = {p: t for p, t in self._tags.items() if p in prefixes}

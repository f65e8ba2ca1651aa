"""NetworkPolicy, already defaulted: peers, rules, policy types.

Pure: no I/O here. Field names of the Kubernetes API live in `convert.py` only.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum

from podwall.model.labels import LabelSelector
from podwall.model.ports import PolicyPort
from podwall.model.record import Record, field
from podwall.model.source import UNKNOWN, Source

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# `podwall.dev/enforcement: audit` on a NetworkPolicy: what it alone would deny passes and is
# reported as AUDIT. Any other value, or none, enforces it (an unreadable value fails closed).
ENFORCEMENT_ANNOTATION = "podwall.dev/enforcement"
AUDIT = "audit"


class PolicyType(StrEnum):
    INGRESS = "Ingress"
    EGRESS = "Egress"


class Direction(StrEnum):
    INGRESS = "ingress"
    EGRESS = "egress"

    @property
    def policy_type(self) -> PolicyType:
        return PolicyType.INGRESS if self is Direction.INGRESS else PolicyType.EGRESS


class IPBlock(Record):
    """`cidr` minus every network in `except_`. Host bits are kept in `text`, masked in `cidr`."""

    cidr: IPNetwork
    except_: tuple[IPNetwork, ...] = ()
    text: str = ""

    def contains(self, ip: IPAddress) -> bool:
        if ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in ex for ex in self.except_ if ex.version == ip.version)

    def render(self) -> str:
        base = self.text or str(self.cidr)
        if not self.except_:
            return f"ipBlock {base}"
        return f"ipBlock {base} except {', '.join(str(e) for e in self.except_)}"


class Peer(Record, cache_hash=True):  # a key of the engine's peer cache
    """A NetworkPolicyPeer: selectors (either or both) or an ipBlock, never both."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def render(self) -> str:
        if self.ip_block is not None:
            return self.ip_block.render()
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {self.namespace_selector.render_braces()}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {self.pod_selector.render_braces()}")
        return " and ".join(parts)


class Rule(Record):
    """One ingress or egress rule. Empty `peers` matches every peer; empty `ports` every port."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()


class NetworkPolicy(Record):
    """A NetworkPolicy after API defaulting (`policy_types` always filled in)."""

    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[PolicyType]
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()
    audit: bool = False  # in audit mode (ENFORCEMENT_ANNOTATION): its default deny only reports
    source: Source = field(default=UNKNOWN, compare=False)
    # Whether the manifest listed policyTypes or they were defaulted: semantics never depend
    # on it, but a reviewer reads an explicit `policyTypes: [Ingress]` as an intended deny.
    types_declared: bool = field(default=True, compare=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def affects(self, direction: Direction) -> bool:
        return direction.policy_type in self.policy_types

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

"""ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2): tiers, subjects, actions, peers.

The Admin and Baseline tiers of network-policy-api v0.2.0. A policy's rules are ordered (a
rule's index is its precedence within the policy); policies of one tier are ordered by
`priority`, lower first. Field names of the API live in `convert.py`; validation in
`cnpvalidation.py`. Pure: no I/O here.

The predecessor API (v1alpha1: AdminNetworkPolicy, BaselineAdminNetworkPolicy) means the same
and is read into this model too (`anpconvert`): an AdminNetworkPolicy is an Admin tier policy,
the BaselineAdminNetworkPolicy a Baseline tier one, Allow is Accept. `kind` keeps which object a
policy was read from, so that explanations name it in its own words.
"""

from __future__ import annotations

from enum import StrEnum

from podwall.model.labels import LabelSelector
from podwall.model.policy import Direction, IPBlock
from podwall.model.ports import Protocol
from podwall.model.record import Record, field
from podwall.model.source import UNKNOWN, Source

API_VERSION = "policy.networking.k8s.io/v1alpha2"
KIND = "ClusterNetworkPolicy"
V1ALPHA1 = "policy.networking.k8s.io/v1alpha1"
ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"
BASELINE_ADMIN_NETWORK_POLICY = "BaselineAdminNetworkPolicy"
# The BaselineAdminNetworkPolicy has no priority: it is a singleton. Where ClusterNetworkPolicies
# of the Baseline tier exist beside it, it comes after them (their priorities are at most 1000).
BASELINE_ADMIN_PRIORITY = 1001
_KEY_PREFIX = {ADMIN_NETWORK_POLICY: "anp", BASELINE_ADMIN_NETWORK_POLICY: "banp"}


class Tier(StrEnum):
    """Admin is evaluated before NetworkPolicy, Baseline after it."""

    ADMIN = "Admin"
    BASELINE = "Baseline"


class Action(StrEnum):
    ACCEPT = "Accept"
    DENY = "Deny"
    PASS = "Pass"


class NamespacedPod(Record):
    """Pods matching `pod_selector` in the namespaces matching `namespace_selector`."""

    namespace_selector: LabelSelector
    pod_selector: LabelSelector

    def render(self) -> str:
        return (
            f"pods {self.pod_selector.render_braces()} "
            f"in namespaces {self.namespace_selector.render_braces()}"
        )


class Subject(Record):
    """The pods a policy applies to: exactly one of the two is set. Never host-network pods."""

    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None

    def render(self) -> str:
        if self.pods is not None:
            return self.pods.render()
        assert self.namespaces is not None
        return f"namespaces {self.namespaces.render_braces()}"


class ClusterPeer(Record):
    """One peer: exactly one field set. With none (a newer API's field podwall cannot see), the
    peer fails closed: an Accept rule matches nothing, a Deny or Pass rule matches everything.

    `networks` keep the text they were written as in `IPBlock.text`; `domain_names` are kept
    only so that an unsupported rule can be named, never matched (validation rejects them).
    """

    namespaces: LabelSelector | None = None
    pods: NamespacedPod | None = None
    nodes: LabelSelector | None = None
    networks: tuple[IPBlock, ...] = ()
    domain_names: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return (
            self.namespaces is None
            and self.pods is None
            and self.nodes is None
            and not self.networks
            and not self.domain_names
        )

    def render(self) -> str:
        if self.namespaces is not None:
            return f"namespaces {self.namespaces.render_braces()}"
        if self.pods is not None:
            return self.pods.render()
        if self.nodes is not None:
            return f"nodes {self.nodes.render_braces()}"
        if self.networks:
            return "networks " + ", ".join(b.text or str(b.cidr) for b in self.networks)
        if self.domain_names:
            return "domainNames " + ", ".join(self.domain_names)
        return "an empty peer"


class ClusterPort(Record):
    """One entry of `protocols`: a protocol with a port or range, or a destination named port.

    `protocol` is None for a named port, which matches the destination container port of that
    name whatever its protocol.
    """

    protocol: Protocol | None = None
    start: int | None = None
    end: int | None = None
    name: str | None = None

    def render(self) -> str:
        if self.name is not None:
            return f"named port {self.name}"
        if self.start is None:
            return f"{self.protocol} (all ports)"
        if self.end is not None and self.end != self.start:
            return f"{self.protocol} {self.start}-{self.end}"
        return f"{self.protocol} {self.start}"


class ClusterRule(Record):
    """One ingress or egress rule: its peers (at least one) and its ports (empty: all)."""

    name: str
    action: Action
    peers: tuple[ClusterPeer, ...]
    ports: tuple[ClusterPort, ...] = ()


class ClusterNetworkPolicy(Record):
    name: str
    tier: Tier
    priority: int
    subject: Subject
    ingress: tuple[ClusterRule, ...] = ()
    egress: tuple[ClusterRule, ...] = ()
    source: Source = field(default=UNKNOWN, compare=False)
    kind: str = KIND  # the API object it was read from (`ADMIN_NETWORK_POLICY`, ...)

    @property
    def key(self) -> str:
        """Unique among the snapshot's policies: `admin/allow-monitoring` for a
        ClusterNetworkPolicy, `anp/allow-monitoring`, `banp/default` for the v1alpha1 kinds."""
        return f"{_KEY_PREFIX.get(self.kind) or self.tier.value.lower()}/{self.name}"

    @property
    def title(self) -> str:
        """How explanations name it: `admin/allow-monitoring`, `AdminNetworkPolicy x`."""
        return self.key if self.kind == KIND else f"{self.kind} {self.name}"

    @property
    def ranking(self) -> str:
        """`priority 5`; empty for the BaselineAdminNetworkPolicy, which has none."""
        return "" if self.kind == BASELINE_ADMIN_NETWORK_POLICY else f"priority {self.priority}"

    def action_name(self, action: Action) -> str:
        """The action as the policy's own API spells it: v1alpha1 says Allow for Accept."""
        return "Allow" if action is Action.ACCEPT and self.kind != KIND else action.value

    @property
    def order(self) -> tuple[int, str]:
        """Its place in its tier. Upstream leaves equal priorities to the implementation;
        podwall breaks ties by key (the name, within one kind) so that every backend and every
        run agree."""
        return (self.priority, self.key)

    def rules(self, direction: Direction) -> tuple[ClusterRule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress

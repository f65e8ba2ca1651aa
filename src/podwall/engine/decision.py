"""The verdict on one connection and every reason behind it.

The CLI, the editor and test failures all render this one object. Pure: no I/O here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from podwall.engine.endpoints import Endpoint, Traffic
from podwall.model.policy import Direction, NetworkPolicy, Peer
from podwall.model.record import Record

if TYPE_CHECKING:  # the tiers are imported only when a ClusterNetworkPolicy is in the snapshot
    from podwall.engine.tierdecision import TierCheck


class Status(StrEnum):
    """How one direction was decided; the first five allow without consulting any rule."""

    OUTSIDE = "outside"  # the endpoint is not a pod: no NetworkPolicy governs its side
    HOST_NETWORK = "host-network"  # host-network pods are not subject to NetworkPolicy
    SELF = "self"  # a pod talking to itself is never restricted
    LOCAL_NODE = "local-node"  # ingress from the pod's own node is always allowed
    NOT_ISOLATED = "not-isolated"  # no policy selects the pod for this direction
    ALLOWED = "allowed"  # isolated, and some rule admitted the connection
    DENIED = "denied"  # isolated, and no rule admitted it
    AUDITED = "audited"  # isolated only by policies in audit mode, no rule admitted it: it passes
    # ClusterNetworkPolicy tiers (`tiers`): a rule's Accept or Deny was final.
    ADMIN_ACCEPTED = "admin-accepted"
    ADMIN_DENIED = "admin-denied"
    BASELINE_ACCEPTED = "baseline-accepted"
    BASELINE_DENIED = "baseline-denied"


DENYING = frozenset({Status.DENIED, Status.ADMIN_DENIED, Status.BASELINE_DENIED})

# The verdict's tree is read and rendered (explain, the editor, the CLI), never compared or
# hashed: identity equality is enough. Frozen all the same.


class PeerCheck(Record, eq=False):
    """One peer of a rule (`index` in its list): whether it matched the other end, and why."""

    index: int
    peer: Peer
    matched: bool
    reason: str


class RuleCheck(Record, eq=False):
    """One rule: both its ports and one of its peers (or its empty peer list) must match."""

    index: int
    ports_matched: bool
    ports_reason: str
    peers: tuple[PeerCheck, ...]  # empty: the rule has no peers, so every peer matches

    @property
    def peers_matched(self) -> bool:
        return not self.peers or any(p.matched for p in self.peers)

    @property
    def matched(self) -> bool:
        return self.ports_matched and self.peers_matched

    @property
    def admitting_peer(self) -> PeerCheck | None:
        return next((p for p in self.peers if p.matched), None)


class PolicyCheck(Record, eq=False):
    """One isolating policy's rules for this direction; any matched rule allows."""

    policy: NetworkPolicy
    rules: tuple[RuleCheck, ...]  # empty: the policy has no rules here, so it denies by default

    @property
    def allowed(self) -> bool:
        return any(r.matched for r in self.rules)


class DirectionVerdict(Record, eq=False):
    """The verdict of one side: the source's egress or the destination's ingress."""

    direction: Direction
    subject: Endpoint
    status: Status
    policies: tuple[PolicyCheck, ...] = ()  # the isolating policies, when isolated
    # The policies above are in audit mode: no enforced policy isolates the pod, so they decide
    # nothing, and their verdict is what they would decide (ALLOWED, or AUDITED for a deny).
    audit: bool = False
    admin: TierCheck | None = None  # the Admin tier, when it was consulted
    baseline: TierCheck | None = None  # the Baseline tier, when it was consulted

    @property
    def allowed(self) -> bool:
        return self.status not in DENYING

    @property
    def admitted_by(self) -> tuple[tuple[PolicyCheck, RuleCheck], ...]:
        return tuple((p, r) for p in self.policies for r in p.rules if r.matched)


class Decision(Record, eq=False):
    """Allowed only if the source's egress and the destination's ingress both allow it."""

    traffic: Traffic
    egress: DirectionVerdict
    ingress: DirectionVerdict

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed

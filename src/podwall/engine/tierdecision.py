"""What one tier of ClusterNetworkPolicies said about one side of a connection, and why.

A tier is walked policy by policy (priority, then name) and rule by rule; the first rule whose
peers and ports match decides with its action. A `TierCheck` keeps every rule looked at, up to
that one, so an explanation can show what was passed over. Pure: no I/O here.
"""

from __future__ import annotations

from podwall.model.clusterpolicy import Action, ClusterNetworkPolicy, ClusterPeer, ClusterRule, Tier
from podwall.model.policy import Direction
from podwall.model.record import Record


class ClusterPeerCheck(Record):
    index: int
    peer: ClusterPeer
    matched: bool
    reason: str


class ClusterRuleCheck(Record):
    """One rule: its ports and one of its peers must match for its action to apply."""

    index: int
    direction: Direction
    rule: ClusterRule
    ports_matched: bool
    ports_reason: str
    peers: tuple[ClusterPeerCheck, ...]

    @property
    def matched(self) -> bool:
        return self.ports_matched and any(p.matched for p in self.peers)

    @property
    def matching_peer(self) -> ClusterPeerCheck | None:
        return next((p for p in self.peers if p.matched), None)

    @property
    def label(self) -> str:
        """`rule 'pass-dns'`, or `rule ingress[2]` for a rule without a name."""
        if self.rule.name:
            return f"rule '{self.rule.name}'"
        return f"rule {self.direction.value}[{self.index}]"


class ClusterPolicyCheck(Record):
    policy: ClusterNetworkPolicy
    rules: tuple[ClusterRuleCheck, ...]  # in order, up to the first that matched

    @property
    def deciding(self) -> ClusterRuleCheck | None:
        last = self.rules[-1] if self.rules else None
        return last if last is not None and last.matched else None


class TierCheck(Record):
    """The policies of one tier that select the pod for this direction, in order, up to the
    one that decided; `action` is None when no rule matched (evaluation goes on)."""

    tier: Tier
    policies: tuple[ClusterPolicyCheck, ...] = ()

    @property
    def decision(self) -> tuple[ClusterPolicyCheck, ClusterRuleCheck] | None:
        for check in self.policies:
            rule = check.deciding
            if rule is not None:
                return check, rule
        return None

    @property
    def action(self) -> Action | None:
        found = self.decision
        return None if found is None else found[1].rule.action

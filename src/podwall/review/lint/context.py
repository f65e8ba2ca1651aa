"""The snapshot as the checks ask about it: which pods a policy or a peer selects.

Answers come from the engine (`selects`, `match_peer`), asked once per group of pods that
selectors cannot tell apart (namespace, labels, host network) and cached per question, so a
check over many policies stays cheap. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from podwall.engine import Endpoint
from podwall.engine.peers import match_peer
from podwall.engine.selection import selects
from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from podwall.model.policy import Direction, NetworkPolicy, Peer, Rule
from podwall.model.record import Record


# A result read field by field, never compared or hashed: identity equality is enough.
class _Group(Record, kw_only=False, eq=False):
    """Pods that every selector treats alike: same namespace, labels and host network."""

    namespace: str
    labels: Labels
    host_network: bool
    pods: tuple[Pod, ...]


class Context:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._selected: dict[NetworkPolicy, tuple[Pod, ...]] = {}
        self._peers: dict[tuple[str, Peer], tuple[Pod, ...]] = {}

    @property
    def has_pods(self) -> bool:
        return bool(self.cluster.pods)

    @cached_property
    def _groups(self) -> tuple[_Group, ...]:
        found: dict[tuple[str, Labels, bool], list[Pod]] = {}
        for pod in self.cluster.pods:
            found.setdefault((pod.namespace, pod.labels, pod.host_network), []).append(pod)
        return tuple(
            _Group(ns, labels, host, tuple(ps)) for (ns, labels, host), ps in found.items()
        )

    def selected(self, policy: NetworkPolicy) -> tuple[Pod, ...]:
        """The pods `policy` applies to (host-network pods are not subject to policy)."""
        found = self._selected.get(policy)
        if found is None:
            found = tuple(
                p
                for g in self._groups
                if not g.host_network and g.namespace == policy.namespace
                for p in g.pods
                if selects(policy, p)
            )
            self._selected[policy] = found
        return found

    def peer_pods(self, policy: NetworkPolicy, peer: Peer) -> tuple[Pod, ...]:
        """The pods `peer` of `policy` matches: by selectors, or by address for an ipBlock."""
        if peer.ip_block is not None:
            block = peer.ip_block
            return tuple(p for p in self.cluster.pods if any(block.contains(ip) for ip in p.ips))
        key = (policy.namespace, peer)
        found = self._peers.get(key)
        if found is None:
            found = tuple(
                p
                for g in self._groups
                if match_peer(self.cluster, policy, peer, Endpoint.of_pod(g.pods[0])).matched
                for p in g.pods
            )
            self._peers[key] = found
        return found

    def rule_pods(self, policy: NetworkPolicy, rule: Rule) -> tuple[Pod, ...]:
        """The pods any peer of `rule` matches; every pod when the rule has no peers."""
        if not rule.peers:
            return self.cluster.pods
        seen: dict[str, Pod] = {}
        for peer in rule.peers:
            for pod in self.peer_pods(policy, peer):
                seen.setdefault(pod.key, pod)
        return tuple(seen.values())

    def namespaces(self, selector_peer: Peer) -> tuple[str, ...]:
        """The namespaces a peer's namespaceSelector selects, declared or referred to."""
        selector = selector_peer.namespace_selector
        if selector is None:
            return ()
        return tuple(
            name
            for name, ns in sorted(self.cluster.namespaces.items())
            if selector.matches(ns.labels)
        )


def rules(policy: NetworkPolicy) -> Iterator[tuple[Direction, int, Rule, str]]:
    """Every rule with its direction, index and field path (`spec.ingress[0]`)."""
    for direction in (Direction.INGRESS, Direction.EGRESS):
        for i, rule in enumerate(policy.rules(direction)):
            yield direction, i, rule, f"spec.{direction.value}[{i}]"


def peers_field(direction: Direction) -> str:
    return "from" if direction is Direction.INGRESS else "to"

"""AdminNetworkPolicy and BaselineAdminNetworkPolicy manifests (policy.networking.k8s.io/
v1alpha1) to the ClusterNetworkPolicy model: one meaning, one engine, one dataplane.

An AdminNetworkPolicy is an Admin tier policy with its own priority; the
BaselineAdminNetworkPolicy is a Baseline tier policy after every other (it has no priority); the
action Allow is Accept. Subjects and peers have ClusterNetworkPolicy's shape and are read by
`cnpconvert`; only the ports differ (`portNumber`, `portRange`, `namedPort`). The policy keeps its
kind so that explanations name the object that was written. The policy must have passed
`anpvalidation` first. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping

from podwall.model.anpschema import DEFAULT_PROTOCOL
from podwall.model.clusterpolicy import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_PRIORITY,
    Action,
    ClusterNetworkPolicy,
    ClusterPort,
    ClusterRule,
    Tier,
)
from podwall.model.cnpconvert import cluster_peer, subject_of
from podwall.model.ports import Protocol
from podwall.model.rawobject import Raw, RawObject, as_map

_BASELINE_ACTIONS = {"Allow": Action.ACCEPT, "Deny": Action.DENY}
_ADMIN_ACTIONS = {**_BASELINE_ACTIONS, "Pass": Action.PASS}


def admin_network_policy(obj: RawObject) -> ClusterNetworkPolicy:
    spec = as_map(obj.body.get("spec"))
    return _policy(obj, ADMIN_NETWORK_POLICY, Tier.ADMIN, int(spec["priority"]), _ADMIN_ACTIONS)


def baseline_admin_network_policy(obj: RawObject) -> ClusterNetworkPolicy:
    # A KeyError for Pass, as for any action the kind does not have: the agent fails closed.
    return _policy(
        obj, BASELINE_ADMIN_NETWORK_POLICY, Tier.BASELINE, BASELINE_ADMIN_PRIORITY,
        _BASELINE_ACTIONS,
    )  # fmt: skip


def _policy(
    obj: RawObject, kind: str, tier: Tier, priority: int, actions: Mapping[str, Action]
) -> ClusterNetworkPolicy:
    spec = as_map(obj.body.get("spec"))
    return ClusterNetworkPolicy(
        name=obj.name,
        tier=tier,
        priority=priority,
        subject=subject_of(as_map(spec.get("subject"))),
        ingress=tuple(_rule(as_map(r), "from", actions) for r in spec.get("ingress") or ()),
        egress=tuple(_rule(as_map(r), "to", actions) for r in spec.get("egress") or ()),
        source=obj.source,
        kind=kind,
    )


def _rule(raw: Raw, peers_field: str, actions: Mapping[str, Action]) -> ClusterRule:
    return ClusterRule(
        name=str(raw.get("name") or ""),
        action=actions[str(raw["action"])],
        peers=tuple(cluster_peer(as_map(p)) for p in raw.get(peers_field) or ()),
        ports=tuple(_port(as_map(p)) for p in raw.get("ports") or ()),
    )


def _port(raw: Raw) -> ClusterPort:
    if raw.get("namedPort") is not None:
        return ClusterPort(name=str(raw["namedPort"]))
    if raw.get("portRange") is not None:
        span = as_map(raw["portRange"])
        return ClusterPort(protocol=_protocol(span), start=int(span["start"]), end=int(span["end"]))
    number = as_map(raw.get("portNumber"))
    return ClusterPort(protocol=_protocol(number), start=int(number["port"]))


def _protocol(raw: Raw) -> Protocol:
    return Protocol(str(raw.get("protocol") or DEFAULT_PROTOCOL))

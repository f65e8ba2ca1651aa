"""The loaded cluster as the page shows it, with or without the draft: all engine calls.

Which pods a selector or peer matches, which policies select a pod, the flows to and from the
selected pods, "try a connection", the pod-by-pod port matrix (the matrix tab's grid and
draft diff are `views`).
Pure: no I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.editor.errors import EditorError
from podwall.editor.form import JSON
from podwall.editor.picture import group_of
from podwall.engine import Decision, Endpoint, Traffic, decide, port_matrix
from podwall.engine import explain as explaining
from podwall.engine.clusterpeers import match_peer, subject_selects
from podwall.engine.identities import policy_blocks
from podwall.engine.selection import isolating, selects
from podwall.engine.selectorcache import SelectorCache
from podwall.engine.targets import TargetError, destination_port, parse_port, resolve
from podwall.model.cluster import Cluster, Pod
from podwall.model.clusterpolicy import ClusterNetworkPolicy
from podwall.model.policy import Direction, NetworkPolicy
from podwall.model.ports import Protocol

MAX_FLOWS = 400
FALLBACK_PORT = 80


class AskError(EditorError, ValueError):
    """A question about the cluster that names nothing in it; the message says what to fix."""


def pod_json(pod: Pod) -> JSON:
    return {
        "key": pod.key,
        "namespace": pod.namespace,
        "name": pod.name,
        "labels": dict(pod.labels),
        "ports": [
            {"port": p.port, "protocol": p.protocol.value, "name": p.name} for p in pod.ports
        ],
        "workload": list(pod.workload) if pod.workload else None,
        "ips": [str(ip) for ip in pod.ips],
    }


def cluster_json(cluster: Cluster) -> JSON:
    return {
        "pods": [pod_json(p) for p in cluster.pods],
        "namespaces": sorted(cluster.namespaces),
        "policies": [
            {
                "key": p.key,
                "namespace": p.namespace,
                "name": p.name,
                "podSelector": p.pod_selector.render(),
                "policyTypes": sorted(t.value for t in p.policy_types),
            }
            for p in cluster.policies
        ],
        "clusterPolicies": [
            {
                "key": p.key,
                "name": p.name,
                "tier": p.tier.value,
                "priority": p.priority,
                "subject": p.subject.render(),
            }
            for p in sorted(cluster.cluster_policies, key=lambda c: (c.tier, c.order))
        ],
    }


def policies_for(cluster: Cluster, pod: Pod) -> JSON:
    """The policies that isolate `pod`, per direction (additive: any of them may admit)."""
    return {
        d.value: [p.key for p in isolating(cluster, pod, d)]
        for d in (Direction.INGRESS, Direction.EGRESS)
    }


def matches(cluster: Cluster, policy: NetworkPolicy) -> JSON:
    """The pods the draft selects, and the pods each of its peers matches."""
    # Identities split by the draft's ipBlocks, so that a block matches whole identities.
    selectors = SelectorCache(blocks=policy_blocks([policy]))
    selectors.update(cluster)

    def matched(bits: int) -> list[str]:
        return [p.key for p in cluster.pods if bits >> selectors.identities.of(p.key) & 1]

    peers: dict[str, list[JSON]] = {}
    for direction in (Direction.INGRESS, Direction.EGRESS):
        peers[direction.value] = [
            {
                "rule": i,
                "peer": j,
                "group": group_of(peer),
                "pods": matched(selectors.peer(policy, peer)),
            }
            for i, rule in enumerate(policy.rules(direction))
            for j, peer in enumerate(rule.peers)
        ]
    selected = [p for p in cluster.pods if selects(policy, p)]
    return {
        "selected": [{**pod_json(p), "policies": policies_for(cluster, p)} for p in selected],
        "peers": peers,
    }


def cluster_matches(cluster: Cluster, policy: ClusterNetworkPolicy) -> JSON:
    """The pods a ClusterNetworkPolicy draft's subject selects, and the pods each peer matches
    (for the peers that name pods: a `networks` peer matches the pods in its ranges)."""
    peers: dict[str, list[JSON]] = {}
    for direction in (Direction.INGRESS, Direction.EGRESS):
        peers[direction.value] = [
            {
                "rule": i,
                "peer": j,
                "pods": [
                    p.key
                    for p in cluster.pods
                    if match_peer(cluster, peer, rule.action, Endpoint.of_pod(p)).matched
                ],
            }
            for i, rule in enumerate(policy.rules(direction))
            for j, peer in enumerate(rule.peers)
        ]
    selected = [p for p in cluster.pods if subject_selects(cluster, policy, p)]
    return {
        "selected": [{**pod_json(p), "policies": policies_for(cluster, p)} for p in selected],
        "peers": peers,
    }


def cluster_rules(policy: ClusterNetworkPolicy) -> JSON:
    """A ClusterNetworkPolicy draft as its rules read, in order: what the page draws for it."""
    return {
        "key": policy.key,
        "tier": policy.tier.value,
        "priority": policy.priority,
        "subject": policy.subject.render(),
        **{
            direction.value: [
                {
                    "index": i,
                    "name": rule.name,
                    "action": rule.action.value,
                    "peers": [peer.render() for peer in rule.peers],
                    "ports": [port.render() for port in rule.ports] or ["all ports"],
                }
                for i, rule in enumerate(policy.rules(direction))
            ]
            for direction in (Direction.INGRESS, Direction.EGRESS)
        },
    }


def _ports_of(pod: Pod) -> list[tuple[int, Protocol]]:
    ports = sorted({(p.port, p.protocol) for p in pod.ports})
    return ports or [(FALLBACK_PORT, Protocol.TCP)]


def _flow(cluster: Cluster, src: Pod, dst: Pod, port: int, protocol: Protocol) -> JSON:
    traffic = Traffic(
        src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=protocol
    )
    decision = decide(cluster, traffic)
    return {
        "from": src.key,
        "to": dst.key,
        "port": port,
        "protocol": protocol.value,
        "allowed": decision.allowed,
        "explanation": explaining.brief(decision),
    }


def flows(cluster: Cluster, policy: NetworkPolicy | ClusterNetworkPolicy) -> JSON:
    """Every loaded pod to the selected pods (ingress) and back (egress), on declared ports."""
    if isinstance(policy, ClusterNetworkPolicy):
        selected = [p for p in cluster.pods if subject_selects(cluster, policy, p)]
    else:
        selected = [p for p in cluster.pods if selects(policy, p)]
    ingress: list[JSON] = []
    egress: list[JSON] = []
    for pod in selected:
        for other in cluster.pods:
            if other.key == pod.key or len(ingress) + len(egress) >= MAX_FLOWS:
                continue
            ingress += [_flow(cluster, other, pod, n, proto) for n, proto in _ports_of(pod)]
            egress += [_flow(cluster, pod, other, n, proto) for n, proto in _ports_of(other)]
    return {
        "ingress": ingress,
        "egress": egress,
        "truncated": len(ingress) + len(egress) >= MAX_FLOWS,
    }


def _endpoint(cluster: Cluster, text: str, what: str) -> list[Endpoint]:
    try:
        endpoints = resolve(cluster, text.strip()).endpoints
    except TargetError as exc:
        raise AskError(f"{what}: {exc}") from None
    if not endpoints:
        raise AskError(f"{what}: {text} selects no pods")
    return list(endpoints)


def try_connection(
    cluster: Cluster, src: str, dst: str, port: str, protocol: str
) -> list[Decision]:
    """Decisions for `src` (pod, ns/pod, kind/name or IP) to `dst` on `port`/`protocol`."""
    try:
        proto = Protocol(protocol.upper() or "TCP")
        wanted = parse_port(port.strip(), f"port {port}")
    except (ValueError, TargetError) as exc:
        raise AskError(str(exc)) from None
    out = []
    for s in _endpoint(cluster, src, "from"):
        for d in _endpoint(cluster, dst, "to"):
            number = destination_port(d.pod, wanted, proto) if d.pod else None
            number = wanted if isinstance(wanted, int) else number
            if number is None:
                raise AskError(f"to: {d.key} has no {proto} port named {wanted}")
            out.append(decide(cluster, Traffic(src=s, dst=d, port=number, protocol=proto)))
    return out


def decision_json(decision: Decision) -> JSON:
    return {
        **explaining.to_json(decision),
        "headline": explaining.headline(decision),
        "explanation": explaining.full(decision),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class PortQuestion:
    port: int | str
    protocol: Protocol

    @staticmethod
    def parse(port: str, protocol: str) -> PortQuestion:
        try:
            return PortQuestion(
                port=parse_port(port.strip(), f"port {port}"),
                protocol=Protocol((protocol or "TCP").upper()),
            )
        except (ValueError, TargetError) as exc:
            raise AskError(str(exc)) from None


def matrix(cluster: Cluster, question: PortQuestion) -> JSON:
    m = port_matrix(cluster, question.port, question.protocol)
    return {**m.to_json(), "port": m.port, "protocol": m.protocol.value}

"""The flows of the picture: what one policy alone admits, decided by the engine.

Cilium's editor colours an arrow per group of peers; here the colours come from `decide()`
over a tiny made-up cluster holding only the draft: an example of the selected pods, an
example endpoint for each peer (a pod its selectors match, an address inside its ipBlock) and,
per group, an endpoint no peer names ("everything else"). Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from podwall.editor.form import GROUPS, JSON
from podwall.engine import Decision, Endpoint, Traffic, decide
from podwall.engine import explain as explaining
from podwall.model.cluster import NAMESPACE_NAME_LABEL, Cluster, Namespace, Pod
from podwall.model.labels import Labels, LabelSelector, Operator
from podwall.model.policy import Direction, IPAddress, IPBlock, NetworkPolicy, Peer, Rule
from podwall.model.ports import ContainerPort, PolicyPort, Protocol

OTHER_LABELS = {"podwall.example/other": "true"}
OTHER_NAMESPACE = "another-namespace"
OUTSIDE_V4 = ipaddress.ip_address("203.0.113.77")
DEFAULT_PORT = (Protocol.TCP, 80)
OTHER_PORTS = (80, 1, 65001, 49151, 33333)
NAMED_PORT_BASE = 20000


def example_labels(selector: LabelSelector | None) -> dict[str, str]:
    """Labels that satisfy `selector` when it can be satisfied (the engine checks)."""
    if selector is None:
        return {}
    labels = dict(selector.match_labels)
    for req in selector.match_expressions:
        if req.key in labels:
            continue
        if req.operator is Operator.IN and req.values:
            labels[req.key] = sorted(req.values)[0]
        elif req.operator is Operator.EXISTS:
            labels[req.key] = "x"
    return labels


def example_address(block: IPBlock) -> IPAddress | None:
    """An address inside `block` and outside its excepts, if one is found quickly."""
    candidates: list[IPAddress] = []
    net = block.cidr
    for k in (1, 0, 2, 3):
        if k < net.num_addresses:
            candidates.append(net.network_address + k)
    for ex in block.except_:
        candidates.append(ex.broadcast_address + 1)
        candidates.append(ex.network_address - 1)
    return next((ip for ip in candidates if _inside(block, ip)), None)


def _inside(block: IPBlock, ip: IPAddress) -> bool:
    try:
        return block.contains(ip)
    except (TypeError, ValueError):
        return False


@dataclass(kw_only=True)
class _World:
    policy: NetworkPolicy
    named: dict[tuple[str, Protocol], int]
    namespaces: dict[str, Namespace]
    pods: list[Pod]

    def pod(self, name: str, namespace: str, labels: dict[str, str]) -> Pod:
        ports = tuple(
            ContainerPort(port=n, protocol=proto, name=name_)
            for (name_, proto), n in self.named.items()
        )
        pod = Pod(namespace=namespace, name=name, labels=Labels(labels), ports=ports)
        self.pods.append(pod)
        if namespace not in self.namespaces:
            self.namespace(namespace, {})
        return pod

    def namespace(self, name: str, labels: dict[str, str]) -> None:
        self.namespaces[name] = Namespace(
            name=name, labels=Labels({**labels, NAMESPACE_NAME_LABEL: name})
        )

    def cluster(self) -> Cluster:
        return Cluster.build(
            namespaces=self.namespaces.values(), pods=self.pods, policies=[self.policy]
        )


def _named_ports(policy: NetworkPolicy) -> dict[tuple[str, Protocol], int]:
    names = sorted(
        {
            (p.port, p.protocol)
            for rule in (*policy.ingress, *policy.egress)
            for p in rule.ports
            if isinstance(p.port, str)
        }
    )
    return {key: NAMED_PORT_BASE + i for i, key in enumerate(names)}


def _probe(port: PolicyPort, named: dict[tuple[str, Protocol], int]) -> tuple[Protocol, int]:
    if port.port is None:
        return port.protocol, DEFAULT_PORT[1]
    if isinstance(port.port, str):
        return port.protocol, named[(port.port, port.protocol)]
    return port.protocol, port.port


def _peer_endpoint(world: _World, peer: Peer, tag: str) -> Endpoint | None:
    if peer.ip_block is not None:
        ip = example_address(peer.ip_block)
        return Endpoint.of_ip(ip) if ip is not None else None
    namespace = world.policy.namespace
    if peer.namespace_selector is not None:
        labels = example_labels(peer.namespace_selector)
        namespace = labels.get(NAMESPACE_NAME_LABEL, f"ns-{tag}")
        world.namespace(namespace, labels)
    return Endpoint.of_pod(world.pod(f"peer-{tag}", namespace, example_labels(peer.pod_selector)))


def _verdict(
    cluster: Cluster,
    selected: Endpoint,
    other: Endpoint,
    direction: Direction,
    probe: tuple[Protocol, int],
) -> tuple[bool, list[str]]:
    protocol, port = probe
    src, dst = (other, selected) if direction is Direction.INGRESS else (selected, other)
    decision = decide(cluster, Traffic(src=src, dst=dst, port=port, protocol=protocol))
    side = decision.ingress if direction is Direction.INGRESS else decision.egress
    return side.allowed, _side_lines(decision, direction)


def _side_lines(decision: Decision, direction: Direction) -> list[str]:
    """The explanation of one side (`ingress ...` or `egress ...`) of a decision."""
    lines = explaining.full(decision)[1:]
    out: list[str] = []
    keep = False
    for line in lines:
        if line.startswith("  ") and not line.startswith("   "):
            keep = line.strip().startswith(direction.value)
        if keep:
            out.append(line.strip() if not out else line)
    return out


def _ports_text(rule: Rule) -> str:
    if not rule.ports:
        return "any port"
    return ", ".join(p.render() for p in rule.ports)


def _others(world: _World) -> dict[str, Endpoint]:
    ns = world.policy.namespace
    same = Endpoint.of_pod(world.pod("everything-else", ns, dict(OTHER_LABELS)))
    world.namespace(OTHER_NAMESPACE, {})
    far = Endpoint.of_pod(world.pod("everything-else", OTHER_NAMESPACE, dict(OTHER_LABELS)))
    outside = Endpoint.of_ip(OUTSIDE_V4)
    return {"namespace": same, "namespaces": far, "cluster": far, "cidr": outside}


def group_of(peer: Peer) -> str:
    """Where the picture shows a peer (the model-side twin of `form.peer_group`)."""
    if peer.ip_block is not None:
        return "cidr"
    if peer.namespace_selector is None:
        return "namespace"
    return "cluster" if peer.namespace_selector.is_empty else "namespaces"


@dataclass(frozen=True, slots=True)
class _PeerCase:
    direction: Direction
    rule_index: int
    peer_index: int
    rule: Rule
    peer: Peer
    endpoint: Endpoint | None  # None: an ipBlock whose every address is excepted


def _peer_cases(world: _World, policy: NetworkPolicy) -> list[_PeerCase]:
    return [
        _PeerCase(
            direction=direction,
            rule_index=i,
            peer_index=j,
            rule=rule,
            peer=peer,
            endpoint=_peer_endpoint(world, peer, f"{direction.value}-{i}-{j}"),
        )
        for direction in (Direction.INGRESS, Direction.EGRESS)
        for i, rule in enumerate(policy.rules(direction))
        for j, peer in enumerate(rule.peers)
    ]


def _peer_flow(
    cluster: Cluster, selected: Endpoint, case: _PeerCase, named: dict[tuple[str, Protocol], int]
) -> JSON:
    """The peer's verdict on the first port of its rule (any port when it names none)."""
    probe = _probe(case.rule.ports[0], named) if case.rule.ports else DEFAULT_PORT
    if case.endpoint is None:
        allowed = False
        lines = [f"{case.peer.render()} names no address (every one is excepted)"]
    else:
        allowed, lines = _verdict(cluster, selected, case.endpoint, case.direction, probe)
    return {
        "rule": case.rule_index,
        "peer": case.peer_index,
        "label": case.peer.render(),
        "ports": _ports_text(case.rule),
        "allowed": allowed,
        "explanation": lines,
    }


def flows(policy: NetworkPolicy) -> JSON:
    """Per direction and group: a flow per peer, and one for everything else."""
    world = _World(policy=policy, named=_named_ports(policy), namespaces={}, pods=[])
    selected_pod = world.pod("selected", policy.namespace, example_labels(policy.pod_selector))
    selected = Endpoint.of_pod(selected_pod)
    cases = _peer_cases(world, policy)
    others = _others(world)
    cluster = world.cluster()
    out: JSON = {"selectsExample": policy.pod_selector.matches(selected_pod.labels)}
    for direction in (Direction.INGRESS, Direction.EGRESS):
        probes = _direction_probes(policy.rules(direction), world.named)
        out[direction.value] = {
            group: {
                "peers": [
                    _peer_flow(cluster, selected, case, world.named)
                    for case in cases
                    if case.direction is direction and group_of(case.peer) == group
                ],
                "others": _others_verdict(cluster, selected, others[group], direction, probes),
            }
            for group in GROUPS
        }
    return out


def _direction_probes(
    rules: tuple[Rule, ...], named: dict[tuple[str, Protocol], int]
) -> list[tuple[Protocol, int]]:
    """Every port a rule names, and one port none names ("any other port")."""
    probes = {_probe(p, named) for rule in rules for p in rule.ports}
    probes.add(_unnamed_port(rules))
    return sorted(probes)


def _unnamed_port(rules: tuple[Rule, ...]) -> tuple[Protocol, int]:
    def covered(port: int) -> bool:
        return any(
            p.protocol is Protocol.TCP
            and isinstance(p.port, int)
            and p.port <= port <= (p.end_port or p.port)
            for rule in rules
            for p in rule.ports
        )

    return next(((Protocol.TCP, n) for n in OTHER_PORTS if not covered(n)), DEFAULT_PORT)


def _others_verdict(
    cluster: Cluster,
    selected: Endpoint,
    other: Endpoint,
    direction: Direction,
    probes: list[tuple[Protocol, int]],
) -> JSON:
    results = [(p, *_verdict(cluster, selected, other, direction, p)) for p in probes]
    allowed = [f"{proto} {port}" for (proto, port), ok, _ in results if ok]
    state = "allowed" if len(allowed) == len(results) else "denied" if not allowed else "partial"
    return {
        "state": state,
        "allowedPorts": allowed,
        "explanation": results[-1][2] if state != "partial" else results[0][2],
    }

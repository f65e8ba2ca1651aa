"""What the engine says a node should log for a connection, to hold real and traced logs to.

`expected_tag(decision, direction)` is the log tag of the rule that decides the given side, as
`decide()` sees it: the Admin or Baseline rule whose Accept or Deny was final (its first
matching peer and port), the first admitting (policy, rule, peer, port) in chain order, or the
default deny of every isolating policy, or the audit of the audited ones; None when no policy
decides that side (not isolated, outside, host network, self). `flow_mismatch` compares an
observed flow with it, field by field, and says how they differ.
"""

from __future__ import annotations

import ipaddress

from podwall.engine import Decision, Endpoint, Status, Traffic, decide
from podwall.engine.clusterpeers import match_protocols
from podwall.engine.decision import DirectionVerdict
from podwall.engine.ports import match_ports
from podwall.flows.flow import Flow, Verdict
from podwall.model.cluster import Cluster
from podwall.model.clusterpolicy import Action, ClusterPort
from podwall.model.policy import Direction
from podwall.model.ports import Protocol
from podwall.nft.logtags import LogTag, TagKind
from podwall.runtime.probe import Probe

_VERDICTS = {
    TagKind.ALLOW: Verdict.ALLOWED,
    TagKind.DENY: Verdict.DENIED,
    TagKind.AUDIT: Verdict.AUDIT,
}


def _side(decision: Decision, direction: Direction) -> DirectionVerdict:
    return decision.egress if direction is Direction.EGRESS else decision.ingress


_TIERS = {
    Status.ADMIN_ACCEPTED: "admin",
    Status.ADMIN_DENIED: "admin",
    Status.BASELINE_ACCEPTED: "baseline",
    Status.BASELINE_DENIED: "baseline",
}


def expected_tag(decision: Decision, direction: Direction) -> LogTag | None:
    side = _side(decision, direction)
    if side.status in _TIERS:
        return _tier_tag(side, direction, decision.traffic)
    keys = tuple(p.policy.key for p in side.policies)
    if side.status in (Status.DENIED, Status.AUDITED):
        kind = TagKind.DENY if side.status is Status.DENIED else TagKind.AUDIT
        return LogTag(kind=kind, direction=direction, policies=keys)
    if side.status is not Status.ALLOWED:
        return None
    check, rule = side.admitted_by[0]
    peer = rule.admitting_peer
    policy_rule = check.policy.rules(direction)[rule.index]
    return LogTag(
        kind=TagKind.ALLOW,
        direction=direction,
        policies=(check.policy.key,),
        rule=rule.index,
        peer=None if peer is None else peer.index,
        port=_port_index(policy_rule.ports, decision.traffic),
        audited=side.audit,
    )


def _tier_tag(side: DirectionVerdict, direction: Direction, traffic: Traffic) -> LogTag:
    check = side.admin if _TIERS[side.status] == "admin" else side.baseline
    assert check is not None
    found = check.decision
    assert found is not None
    policy_check, rule = found
    peer = rule.matching_peer
    assert peer is not None
    return LogTag(
        kind=TagKind.ALLOW if rule.rule.action is Action.ACCEPT else TagKind.DENY,
        direction=direction,
        policies=(policy_check.policy.key,),
        rule=rule.index,
        peer=peer.index,
        port=_tier_port_index(rule.rule.ports, traffic),
        rule_name=rule.rule.name,
        action=policy_check.policy.action_name(rule.rule.action),
    )


def _tier_port_index(ports: tuple[ClusterPort, ...], traffic: Traffic) -> int | None:
    if not ports:
        return None
    for index, port in enumerate(ports):
        if match_protocols((port,), traffic.dst, traffic.port, traffic.protocol).matched:
            return index
    raise AssertionError("a deciding rule with protocols matches by none of them")


def _port_index(ports: tuple[object, ...], traffic: Traffic) -> int | None:
    if not ports:
        return None
    for index, port in enumerate(ports):
        if match_ports((port,), traffic.dst, traffic.port, traffic.protocol).matched:  # type: ignore[arg-type]
            return index
    raise AssertionError("an admitting rule with ports admits by none of them")


def expected_sides(decision: Decision) -> list[Direction]:
    """The sides a node logs for this connection: egress when a policy decides it, ingress
    when a policy decides it and the packet got past egress."""
    out = []
    if expected_tag(decision, Direction.EGRESS) is not None:
        out.append(Direction.EGRESS)
    if decision.egress.allowed and expected_tag(decision, Direction.INGRESS) is not None:
        out.append(Direction.INGRESS)
    return out


def traffic_of(cluster: Cluster, flow: Flow) -> Traffic | None:
    """The connection a flow reports, as the engine takes it; None if an end is unknown."""
    ends = []
    for end in (flow.source, flow.destination):
        if end.pod is not None:
            pod = cluster.pods_by_key.get(end.key)
            if pod is None:
                return None
            ends.append(Endpoint.of_pod(pod))
        else:
            ends.append(Endpoint.of_ip(ipaddress.ip_address(end.ip)))
    if flow.port is None or flow.protocol not in Protocol.__members__:
        return None
    return Traffic(src=ends[0], dst=ends[1], port=flow.port, protocol=Protocol(flow.protocol))


def flow_mismatch(cluster: Cluster, flow: Flow) -> str | None:
    """Why `flow` is not what `decide()` says the dataplane decided; None when it is."""
    traffic = traffic_of(cluster, flow)
    if traffic is None:
        return f"{flow.source.key} -> {flow.destination.key}: not a connection of the snapshot"
    where = f"{traffic.render()} {flow.direction}"
    if not flow.attributed:
        return f"{where}: unattributed ({flow.reason})"
    tag = expected_tag(decide(cluster, traffic), flow.direction)
    if tag is None:
        return f"{where}: logged {flow.verdict} ({flow.reason}) but no policy decides it"
    rule = None if flow.rule is None else (flow.rule.index, flow.rule.peer)
    seen = (flow.verdict, flow.policies, rule)
    wanted = (_VERDICTS[tag.kind], tag.policies, None if tag.rule is None else (tag.rule, tag.peer))
    if seen != wanted or flow.tag != tag.prefix:
        return f"{where}: logged {seen} ({flow.reason}), the engine decides {wanted}"
    return None


def flow_completeness(cluster: Cluster, probes: list[Probe], flows: list[Flow]) -> list[str]:
    """The sides a policy decides of each probed connection that no flow reports."""
    reported = {(f.source.key, f.destination.key, f.port, f.protocol, f.direction) for f in flows}
    missing = []
    for p in probes:
        src, dst = cluster.pods_by_key[p.src], cluster.pods_by_key[p.dst]
        traffic = Traffic(
            src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=p.port, protocol=p.protocol
        )
        for direction in expected_sides(decide(cluster, traffic)):
            if (p.src, p.dst, p.port, p.protocol.value, direction) not in reported:
                missing.append(f"{traffic.render()} {direction}: decided by a policy, not reported")
    return missing

"""From a logged packet to a flow: whose addresses, which Service, which policy and rule.

The log tag says what the rule that logged the packet means (`nft.logtags`); the snapshot the
node enforces says whose addresses the packet carries. The words are those of `podwall
explain` ("allowed by ns/p ingress[0] from[0]"); a tag this node does not know gives a flow
marked unattributed, its verdict read from the tag's own letters, its policy left empty.

A Service shows in the NAT chain, before DNAT rewrites the destination, as a record of its own
(`ServiceHop`); the flows of the same connection that follow on this node (same source address,
port and protocol, within `HOP_SECONDS`) name it. A connection decided on another node than the
one that translated it is joined later, where the nodes' flows are merged (`merge`).
Retransmissions of a connection's first packet (same tag, addresses and ports, within
`REPEAT_SECONDS`) are counted in `repeats`, not reported again. Pure: no I/O here.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass

from podwall.flows.flow import Flow, FlowEndpoint, RuleRef, Verdict
from podwall.flows.nflog import LogRecord
from podwall.flows.packet import ICMP, SCTP, TCP, UDP, Packet
from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import Direction
from podwall.nft.logtags import LogTag, TagKind, TagTable, read_head

HOP_SECONDS = 5.0
MAX_HOPS = 4096  # connections through a Service remembered at once; the oldest go first
# A client whose SYN goes unanswered sends it again (1 s, 3 s, 7 s ... later), and each copy is
# a new connection's first packet to the ruleset: the same tag for the same addresses and ports
# within this long is that one connection, reported once.
REPEAT_SECONDS = 130.0
MAX_REPEATS = 4096
PROTOCOLS = {TCP: "TCP", UDP: "UDP", SCTP: "SCTP", ICMP: "ICMP"}
_VERDICTS = {
    TagKind.ALLOW: Verdict.ALLOWED,
    TagKind.DENY: Verdict.DENIED,
    TagKind.AUDIT: Verdict.AUDIT,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceHop:
    """A new connection to a Service's ClusterIP, seen before DNAT on `node`."""

    time: float
    node: str
    service: str
    source: str
    source_port: int | None
    protocol: str
    cluster_ip: str
    port: int | None

    @property
    def key(self) -> tuple[str, int | None, str]:
        return (self.source, self.source_port, self.protocol)


class Directory:
    """Who holds an address in one snapshot: pods by IP, Services by ClusterIP."""

    def __init__(self, cluster: Cluster) -> None:
        self.pods: dict[str, Pod] = {str(ip): pod for pod in cluster.pods for ip in pod.ips}
        self.services: dict[str, str] = {
            svc.cluster_ip: svc.key
            for svc in cluster.services
            if svc.cluster_ip not in (None, "", "None")
        }

    def endpoint(self, ip: ipaddress.IPv4Address, port: int | None) -> FlowEndpoint:
        pod = self.pods.get(str(ip))
        if pod is None:
            return FlowEndpoint(ip=str(ip), port=port)
        return FlowEndpoint(
            ip=str(ip),
            port=port,
            namespace=pod.namespace,
            pod=pod.name,
            labels=tuple(sorted(pod.labels.items())),
        )


EMPTY = Directory(Cluster.build())


def protocol_name(number: int) -> str:
    return PROTOCOLS.get(number, str(number))


class Attributor:
    """Turns the records of one node into flows. Call `record` from one thread; `update`
    may come from another (it swaps one reference)."""

    def __init__(self, node: str, tags: TagTable) -> None:
        self.node = node
        self.tags = tags
        self.directory = EMPTY
        self._seen: tuple[object, object] | None = None
        self.foreign = 0  # records not ours, or without an IPv4 header
        self.repeats = 0  # retransmitted first packets, folded into their connection
        self._hops: OrderedDict[tuple[str, int | None, str], ServiceHop] = OrderedDict()
        self._recent: OrderedDict[tuple[object, ...], float] = OrderedDict()

    def update(self, cluster: Cluster) -> None:
        """The snapshot the node now enforces (its pods and Services are all that is read:
        the same tuples as last time leave the directory as it is)."""
        seen = (cluster.pods, cluster.services)
        if self._seen is not None and all(a is b for a, b in zip(seen, self._seen, strict=True)):
            return
        self._seen = seen
        self.directory = Directory(cluster)

    def record(self, record: LogRecord, now: float) -> Flow | ServiceHop | None:
        """The flow or Service hop a record stands for; None if it is not one of ours, carries
        no IPv4 header, or repeats a connection's first packet."""
        packet = record.packet
        head = read_head(record.prefix)
        if packet is None or head is None:
            self.foreign += 1
            return None
        moment = record.timestamp if record.timestamp is not None else now
        if self._repeated(record.prefix, packet, moment):
            self.repeats += 1
            return None
        if head.kind is TagKind.SERVICE:
            return self._hop(record.prefix, packet, moment)
        assert head.direction is not None
        tag = self.tags.get(record.prefix)
        flow = self._flow(packet, moment, head.direction, record.prefix)
        hop = self._hop_of(packet, moment)
        if hop is not None:
            flow = dataclasses.replace(flow, service=hop.service)
        if tag is None or tag.kind is not head.kind or tag.direction is not head.direction:
            return dataclasses.replace(
                flow,
                verdict=_VERDICTS[head.kind],
                attributed=False,
                reason=f"unattributed: log tag {record.prefix} is not in the table of {self.node}",
            )
        return _attributed(flow, tag)

    def _repeated(self, prefix: str, packet: Packet, moment: float) -> bool:
        key = (prefix, packet.src, packet.sport, packet.dst, packet.dport, packet.protocol)
        last = self._recent.get(key)
        self._recent[key] = moment
        self._recent.move_to_end(key)
        while len(self._recent) > MAX_REPEATS:
            self._recent.popitem(last=False)
        return last is not None and moment - last <= REPEAT_SECONDS

    def _flow(self, packet: Packet, moment: float, direction: Direction, prefix: str) -> Flow:
        return Flow(
            time=moment,
            node=self.node,
            direction=direction,
            verdict=Verdict.DENIED,
            source=self.directory.endpoint(packet.src, packet.sport),
            destination=self.directory.endpoint(packet.dst, packet.dport),
            protocol=protocol_name(packet.protocol),
            tag=prefix,
        )

    def _hop(self, prefix: str, packet: Packet, moment: float) -> ServiceHop | None:
        tag = self.tags.get(prefix)
        service = tag.service if tag is not None else self.directory.services.get(str(packet.dst))
        if service is None:
            return None  # a Service we cannot name is no Service: the flow shows the pod only
        hop = ServiceHop(
            time=moment,
            node=self.node,
            service=service,
            source=str(packet.src),
            source_port=packet.sport,
            protocol=protocol_name(packet.protocol),
            cluster_ip=str(packet.dst),
            port=packet.dport,
        )
        self._hops[hop.key] = hop
        self._hops.move_to_end(hop.key)
        while len(self._hops) > MAX_HOPS:
            self._hops.popitem(last=False)
        return hop

    def _hop_of(self, packet: Packet, moment: float) -> ServiceHop | None:
        key = (str(packet.src), packet.sport, protocol_name(packet.protocol))
        hop = self._hops.get(key)
        if hop is None or moment - hop.time > HOP_SECONDS:
            return None
        return hop


def _attributed(flow: Flow, tag: LogTag) -> Flow:
    names = ", ".join(tag.policies)
    if tag.cluster_policy:
        return _tier_attributed(flow, tag)
    if tag.kind is TagKind.ALLOW:
        assert tag.rule is not None
        assert tag.direction is not None
        rule = RuleRef(index=tag.rule, peer=tag.peer, port=tag.port)
        reason = f"allowed by {names} {rule.render(tag.direction)}"
        if tag.audited:
            reason += " (audit mode)"
        return dataclasses.replace(
            flow, verdict=Verdict.ALLOWED, policies=tag.policies, rule=rule, reason=reason
        )
    if tag.kind is TagKind.AUDIT:
        reason = f"would be denied by the default deny of {names} (audit mode: let through)"
        return dataclasses.replace(
            flow, verdict=Verdict.AUDIT, policies=tag.policies, reason=reason
        )
    reason = f"denied by the default deny of {names}"
    return dataclasses.replace(flow, verdict=Verdict.DENIED, policies=tag.policies, reason=reason)


def _tier_attributed(flow: Flow, tag: LogTag) -> Flow:
    """An Admin or Baseline rule decided: `denied by admin/x rule 'r' (ingress[0] from[1])`,
    in `podwall explain`'s words."""
    assert tag.rule is not None
    assert tag.direction is not None
    rule = RuleRef(index=tag.rule, peer=tag.peer, port=tag.port)
    allowed = tag.kind is TagKind.ALLOW
    verb = "allowed" if allowed else "denied"
    # As explain labels a rule: by its name, or by its place when it has none.
    label = f"'{tag.rule_name}'" if tag.rule_name else f"{tag.direction.value}[{tag.rule}]"
    reason = f"{verb} by {tag.policies[0]} rule {label} ({rule.render(tag.direction)})"
    verdict = Verdict.ALLOWED if allowed else Verdict.DENIED
    return dataclasses.replace(
        flow, verdict=verdict, policies=tag.policies, rule=rule, reason=reason
    )

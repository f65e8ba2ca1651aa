"""Does a rule's `ports` list admit a destination port? Named ports resolve on the destination pod.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.engine.endpoints import Endpoint
from podwall.model.ports import PolicyPort, Protocol
from podwall.model.record import Record


# Read field by field, never compared or hashed: identity equality, as a plain class has.
class PortMatch(Record, frozen=False, eq=False):
    """Whether a rule's ports admit the port, and the reason in words."""

    matched: bool
    reason: str


def match_ports(
    ports: tuple[PolicyPort, ...], dst: Endpoint, port: int, protocol: Protocol
) -> PortMatch:
    # NetworkPolicyIngressRule.ports: "If this field is empty or missing, this rule matches all
    # ports (traffic not restricted by port). If this field is present and contains at least
    # one item, then this rule allows traffic only if the traffic matches at least one port."
    if not ports:
        return PortMatch(matched=True, reason="all ports")
    misses: list[str] = []
    for item in ports:
        ok, why = _match_one(item, dst, port, protocol)
        if ok:
            return PortMatch(matched=True, reason=why)
        misses.append(why)
    return PortMatch(matched=False, reason="; ".join(misses))


def _match_one(item: PolicyPort, dst: Endpoint, port: int, protocol: Protocol) -> tuple[bool, str]:
    # NetworkPolicyPort.protocol: "If not specified, this field defaults to TCP."
    if item.protocol is not protocol:
        return False, f"{item.render()}: protocol is not {protocol}"
    if item.port is None:
        # NetworkPolicyPort.port: "If this field is not provided, this matches all port names
        # and numbers."
        return True, f"{item.render()}"
    if isinstance(item.port, str):
        return _match_named(item.port, dst, port, protocol)
    # NetworkPolicyPort.endPort: "indicates that the range of ports from port to endPort if
    # set, inclusive, should be allowed by the policy."
    end = item.end_port if item.end_port is not None else item.port
    if item.port <= port <= end:
        return True, item.render()
    return False, f"{item.render()} does not include {port}"


def _match_named(name: str, dst: Endpoint, port: int, protocol: Protocol) -> tuple[bool, str]:
    # A named port refers to the destination pod's container port of that name and protocol.
    pod = dst.pod
    if pod is None:
        return False, f"named port {name}: {dst.key} is outside the cluster and has no named ports"
    number = pod.named_port(name, protocol)
    if number is None:
        return False, f"named port {name}: {pod.key} has no {protocol} container port named {name}"
    if number != port:
        return False, f"named port {name} is {protocol} {number} on {pod.key}, not {port}"
    return True, f"named port {name} ({protocol} {number} on {pod.key})"

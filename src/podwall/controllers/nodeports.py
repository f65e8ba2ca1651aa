"""Services' node ports: allocation from 30000-32767, as the API server's service registry does.

Mirrors pkg/registry/core/service/portallocator (a bitmap over the range; random dynamic
allocation that prefers the ports above the static band of `min(max(16, size/32), 128)` ports;
errors `provided port is already allocated` and `provided port is not in the valid range. The
range of valid ports is 30000-32767`, answered as `spec.ports[i].nodePort: Invalid value`), the
node port steps of pkg/registry/core/service/storage (`initNodePorts` on create, where ports of
the same number share one node port; `updateNodePorts`; `patchAllocatedValues`, which carries an
update's missing node ports over by port name; `dropTypeDependentFields`, which clears them when
the type no longer needs them) and the node port checks of ValidateService (`Forbidden` on a
ClusterIP Service, `Duplicate value` within one Service).

Pure: the caller passes the node ports other Services hold and a `random.Random`. Ports are
released by the Service's deletion or update: what is in use is always read from the Services.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from podwall.errors import PodwallError
from podwall.model.fielderrors import ErrorType, FieldError, forbidden, invalid

NODE_PORT_MIN = 30000
NODE_PORT_MAX = 32767
NODE_PORT_RANGE = f"{NODE_PORT_MIN}-{NODE_PORT_MAX}"


class NodePortError(PodwallError):
    """Node ports a Service cannot have: `errors` are field errors to answer 422."""

    def __init__(self, errors: tuple[FieldError, ...]) -> None:
        super().__init__("; ".join(e.render() for e in errors))
        self.errors = errors


class NodePortRangeFull(PodwallError):
    """No free node port: upstream answers an InternalError with this message."""

    def __init__(self) -> None:
        super().__init__("failed to allocate a nodePort: range is full")


def needs_node_ports(spec: Mapping[str, Any]) -> bool:
    """needsNodePort: NodePort and LoadBalancer Services have them."""
    return spec.get("type") in ("NodePort", "LoadBalancer")


def _assigns(spec: Mapping[str, Any]) -> bool:
    """shouldAssignNodePorts: a LoadBalancer may opt out (`allocateLoadBalancerNodePorts`)."""
    if spec.get("type") == "LoadBalancer":
        return spec.get("allocateLoadBalancerNodePorts") is not False
    return spec.get("type") == "NodePort"


def node_ports(services: Iterable[Mapping[str, Any]]) -> set[int]:
    """The node ports the Services hold."""
    out = set()
    for service in services:
        for port in (service.get("spec") or {}).get("ports") or ():
            number = port.get("nodePort") if isinstance(port, Mapping) else None
            if isinstance(number, int) and number:
                out.add(number)
    return out


def _path(index: int) -> str:
    return f"spec.ports[{index}].nodePort"


def _static_band() -> int:
    """calculateRangeOffset: the low ports kept for explicitly requested node ports."""
    size = NODE_PORT_MAX - NODE_PORT_MIN + 1
    if size <= 16:
        return 0  # the offset must stay smaller than the range
    return min(max(16, size // 32), 128)


def _claim(number: int, index: int, taken: set[int]) -> None:
    """Allocate: the requested port, or NodePortError as upstream words it."""
    if not NODE_PORT_MIN <= number <= NODE_PORT_MAX:
        detail = (
            "provided port is not in the valid range. "
            f"The range of valid ports is {NODE_PORT_RANGE}"
        )
        raise NodePortError((invalid(_path(index), number, detail),))
    if number in taken:
        raise NodePortError((invalid(_path(index), number, "provided port is already allocated"),))
    taken.add(number)


def _next_free(taken: set[int], rng: random.Random) -> int:
    """AllocateNext: a random free port above the static band first, then within it."""
    band, size = _static_band(), NODE_PORT_MAX - NODE_PORT_MIN + 1
    for low, high in ((band, size), (0, band)):
        if low >= high:
            continue
        start = rng.randrange(low, high)
        for offset in itertools.chain(range(start, high), range(low, start)):
            port = NODE_PORT_MIN + offset
            if port not in taken:
                taken.add(port)
                return port
    raise NodePortRangeFull()


def check_node_ports(spec: Mapping[str, Any]) -> None:
    """ValidateService's node port checks: none on a ClusterIP Service, none twice."""
    errors: list[FieldError] = []
    seen: set[tuple[object, int]] = set()
    for index, port in enumerate(spec.get("ports") or ()):
        number = port.get("nodePort") or 0
        if not number:
            continue
        if spec.get("type") == "ClusterIP":
            errors.append(forbidden(_path(index), "may not be used when `type` is 'ClusterIP'"))
        key = (port.get("protocol") or "TCP", number)
        if key in seen:
            errors.append(FieldError(path=_path(index), type=ErrorType.DUPLICATE, value=number))
        seen.add(key)
    if errors:
        raise NodePortError(tuple(errors))


def allocate_node_ports(spec: dict[str, Any], taken: Collection[int], rng: random.Random) -> None:
    """initNodePorts, on create: each port gets its requested node port or a free one; ports
    of the same number share one. `taken`: the node ports of the other Services."""
    check_node_ports(spec)
    if not needs_node_ports(spec):
        return
    used = set(taken)
    ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
    by_port: dict[object, int] = {}
    for index, port in enumerate(ports):
        shared = by_port.get(port.get("port"))
        requested = port.get("nodePort") or 0
        if shared is None:
            requested = requested or _requested_for(port.get("port"), ports)
            if requested:
                _claim(requested, index, used)
            elif _assigns(spec):
                requested = _next_free(used, rng)
            else:
                continue
            port["nodePort"] = by_port[port.get("port")] = requested
        elif requested and requested != shared:
            _claim(requested, index, used)
        else:
            port["nodePort"] = shared


def _requested_for(number: object, ports: list[dict[str, Any]]) -> int:
    """findRequestedNodePort: a node port another entry of the same port number asks for."""
    for port in ports:
        if port.get("port") == number and port.get("nodePort"):
            return int(port["nodePort"])
    return 0


def update_node_ports(
    spec: dict[str, Any], old_spec: Mapping[str, Any], taken: Collection[int], rng: random.Random
) -> None:
    """On update: missing node ports carried over by port name, dropped when the type no
    longer needs them, then the new ones allocated (the old ones the update leaves go back
    to the pool with it). `taken`: the node ports of the other Services."""
    old = [p for p in old_spec.get("ports") or () if isinstance(p, Mapping)]
    ports = [p for p in spec.get("ports") or () if isinstance(p, dict)]
    mine = {p.get("nodePort") for p in old if p.get("nodePort")}
    if needs_node_ports(old_spec) and needs_node_ports(spec):
        asked = {p.get("nodePort") for p in ports if p.get("nodePort")}
        by_name = {p.get("name") or "": p.get("nodePort") or 0 for p in old}
        for port in ports:
            carried = by_name.get(port.get("name") or "", 0)
            if not port.get("nodePort") and carried and carried not in asked:
                port["nodePort"] = carried
    if needs_node_ports(old_spec) and not needs_node_ports(spec):
        wanted = {p.get("nodePort") for p in ports if p.get("nodePort")}
        if wanted <= mine:  # sameNodePorts: no net-new node port asked for
            for port in ports:
                port.pop("nodePort", None)
    check_node_ports(spec)
    if not needs_node_ports(spec):
        return
    used = set(taken)
    for index, port in enumerate(ports):
        number = port.get("nodePort") or 0
        if number and number not in mine:
            _claim(number, index, used)
        elif number:
            used.add(number)
        elif _assigns(spec):
            port["nodePort"] = _next_free(used, rng)

"""`--from`/`--to` to concrete connections (source pod, destination pod, port)."""

from __future__ import annotations

from podwall.engine import Endpoint, Traffic
from podwall.engine.targets import (
    PortSpec,
    TargetError,
    destination_port,
    resolve,
    service_port,
    split_port,
)
from podwall.model.cluster import Cluster


# A record read field by field, never compared, hashed or printed, written out: a dataclass
# compiles each method it generates at import, which every command's start-up pays for.
class Unresolved:
    """A destination pod where the asked port does not exist (a named port it lacks)."""

    __slots__ = ("dst", "reason", "src")

    def __init__(self, *, src: Endpoint, dst: Endpoint, reason: str) -> None:
        self.src = src
        self.dst = dst
        self.reason = reason


def connections(
    cluster: Cluster, src_text: str, dst_text: str, namespace: str
) -> tuple[list[Traffic], list[Unresolved]]:
    src = resolve(cluster, src_text, namespace)
    dst_name, spec = split_port(dst_text)
    dst = resolve(cluster, dst_name, namespace)
    if not src.endpoints:
        raise TargetError(f"{src_text}: selects no pods")
    if not dst.endpoints:
        raise TargetError(f"{dst_text}: selects no pods")
    if dst.service is not None:
        sp = service_port(dst, spec)
        spec = PortSpec(port=sp.target_port, protocol=sp.protocol)
    if spec.port is None:
        spec = _only_port(dst.endpoints, dst_text)
    traffic: list[Traffic] = []
    missing: list[Unresolved] = []
    assert spec.port is not None
    for s in src.endpoints:
        for d in dst.endpoints:
            number = destination_port(d.pod, spec.port, spec.protocol) if d.pod else None
            if isinstance(spec.port, int):
                number = spec.port
            if number is None:
                missing.append(Unresolved(src=s, dst=d, reason=f"{d.key} has no port {spec.port}"))
                continue
            traffic.append(Traffic(src=s, dst=d, port=number, protocol=spec.protocol))
    return traffic, missing


def _only_port(endpoints: tuple[Endpoint, ...], text: str) -> PortSpec:
    """The one port the destination pods declare, with its protocol (a UDP-only pod is UDP)."""
    ports = {(p.port, p.protocol) for e in endpoints if e.pod for p in e.pod.ports}
    if len(ports) == 1:
        ((number, protocol),) = ports
        return PortSpec(port=number, protocol=protocol)
    raise TargetError(f"{text}: which port? write {text}:PORT (for example {text}:80/TCP)")

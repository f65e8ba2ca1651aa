"""The two ends of a connection: a pod of the snapshot, or an address outside the cluster.

Pure: no I/O here.
"""

from __future__ import annotations

from podwall.model.cluster import Pod
from podwall.model.policy import IPAddress
from podwall.model.ports import Protocol
from podwall.model.record import Record


class Endpoint(Record):
    """Exactly one of `pod` and `ip` is set. A pod may also carry the address used (`ip`)."""

    pod: Pod | None = None
    ip: IPAddress | None = None

    @staticmethod
    def of_pod(pod: Pod) -> Endpoint:
        return Endpoint(pod=pod, ip=pod.ips[0] if pod.ips else None)

    @staticmethod
    def of_ip(ip: IPAddress) -> Endpoint:
        return Endpoint(ip=ip)

    @property
    def key(self) -> str:
        if self.pod is not None:
            return self.pod.key
        return str(self.ip)

    def addresses(self) -> tuple[IPAddress, ...]:
        if self.pod is not None:
            return self.pod.ips
        return (self.ip,) if self.ip is not None else ()

    def describe(self) -> str:
        if self.pod is None:
            return f"{self.ip} (outside the cluster)"
        kind = f"{self.pod.workload[0]} " if self.pod.workload else "pod "
        return f"{kind}{self.pod.key} {self.pod.labels.render()}"


class Traffic(Record):
    """A new connection from `src` to `dst` on `port`/`protocol` (after any service DNAT)."""

    src: Endpoint
    dst: Endpoint
    port: int
    protocol: Protocol = Protocol.TCP

    def render(self) -> str:
        return f"{self.src.key} -> {self.dst.key}:{self.port}/{self.protocol}"

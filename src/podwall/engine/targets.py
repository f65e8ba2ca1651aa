"""What a user names on the command line: `ns/pod`, `deploy/NAME`, `svc/NAME:PORT`, an IP.

Pure: no I/O here. Errors are `TargetError` with a message that says what to write instead.
"""

from __future__ import annotations

import ipaddress
import re

from podwall.engine.endpoints import Endpoint
from podwall.errors import PodwallError
from podwall.model.cluster import Cluster, Pod, Service, ServicePort
from podwall.model.ports import Protocol
from podwall.model.record import Record

KIND_ALIASES = {
    "pod": "Pod", "pods": "Pod", "po": "Pod",
    "deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
    "rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
    "rc": "ReplicationController", "replicationcontroller": "ReplicationController",
    "replicationcontrollers": "ReplicationController",
    "sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
    "ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
    "job": "Job", "jobs": "Job",
    "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
    "svc": "Service", "service": "Service", "services": "Service",
}  # fmt: skip


_PORT_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")  # IANA_SVC_NAME, with a letter


class TargetError(PodwallError, ValueError):
    """A reference that names nothing in the snapshot, or is malformed."""


# Read field by field, never compared or hashed: identity equality is enough.
class Target(Record, eq=False):
    """A resolved reference: the endpoints it stands for and, for a destination, its port."""

    text: str
    endpoints: tuple[Endpoint, ...]
    service: Service | None = None
    service_port: ServicePort | None = None


class PortSpec(Record):
    """The port asked of a destination: a number, a name, or None (none given)."""

    port: int | str | None
    protocol: Protocol


def split_port(text: str) -> tuple[str, PortSpec]:
    """`backend:8080/udp` -> (`backend`, 8080/UDP); `[::1]:80`; a bare IPv6 address has no port."""
    protocol = Protocol.TCP
    name, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        name, port = host, rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        name, port = text.split(":")
    if port and "/" in port:
        port, proto = port.split("/", 1)
        try:
            protocol = Protocol(proto.upper())
        except ValueError:
            raise TargetError(f"{text}: unknown protocol {proto!r}; use TCP, UDP or SCTP") from None
    if port is None or port == "":
        return name, PortSpec(port=None, protocol=protocol)
    return name, PortSpec(port=parse_port(port, text), protocol=protocol)


def parse_port(port: str, text: str | None = None) -> int | str:
    """A port number (1-65535) or a port name (an IANA service name, as containers declare)."""
    where = f"{text}: " if text else ""
    if port.isdigit():
        number = int(port)
        if not 1 <= number <= 65535:
            raise TargetError(f"{where}port {number} is not between 1 and 65535")
        return number
    letter = any("a" <= c <= "z" for c in port)
    if not _PORT_NAME.fullmatch(port) or len(port) > 15 or "--" in port or not letter:
        raise TargetError(
            f"{where}{port!r} is neither a port number nor a port name "
            "(at most 15 lower case letters, digits and '-', with a letter)"
        )
    return port


def resolve(cluster: Cluster, text: str, default_namespace: str = "default") -> Target:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        ip = None
    if ip is not None:
        owners = [p for p in cluster.pods if ip in p.ips]
        endpoint = Endpoint(pod=owners[0], ip=ip) if owners else Endpoint.of_ip(ip)
        return Target(text=text, endpoints=(endpoint,))
    namespace, kind, name = _parts(text, default_namespace)
    if kind == "Service":
        return _service(cluster, text, namespace, name)
    if kind == "Pod":
        pod = cluster.pods_by_key.get(f"{namespace}/{name}")
        if pod is None:
            raise TargetError(_missing(cluster, text, "pod", namespace, name))
        return Target(text=text, endpoints=(Endpoint.of_pod(pod),))
    return Target(text=text, endpoints=_workload_pods(cluster, text, kind, namespace, name))


def _parts(text: str, default_namespace: str) -> tuple[str, str, str]:
    parts = text.split("/")
    if len(parts) == 1:
        return default_namespace, "Pod", parts[0]
    if len(parts) == 2:
        if parts[0].lower() in KIND_ALIASES:
            return default_namespace, KIND_ALIASES[parts[0].lower()], parts[1]
        return parts[0], "Pod", parts[1]
    if len(parts) == 3 and parts[1].lower() in KIND_ALIASES:
        return parts[0], KIND_ALIASES[parts[1].lower()], parts[2]
    raise TargetError(
        f"{text}: expected POD, NAMESPACE/POD, KIND/NAME, NAMESPACE/KIND/NAME or an IP address"
    )


def _workload_pods(
    cluster: Cluster, text: str, kind: str, namespace: str, name: str
) -> tuple[Endpoint, ...]:
    for workload in cluster.workloads:
        if (workload.kind, workload.namespace, workload.name) == (kind, namespace, name):
            # A stand-in belongs to its own workload only, even when selectors overlap.
            pods = [
                p
                for p in cluster.pods
                if p.namespace == namespace
                and (
                    p.workload == (kind, name)
                    or (p.workload is None and workload.selector.matches(p.labels))
                )
            ]
            return tuple(Endpoint.of_pod(p) for p in pods)
    raise TargetError(_missing(cluster, text, kind, namespace, name))


def _service(cluster: Cluster, text: str, namespace: str, name: str) -> Target:
    for svc in cluster.services:
        if (svc.namespace, svc.name) == (namespace, name):
            if svc.selector is None:
                raise TargetError(f"{text}: service {svc.key} has no selector; name its pods")
            pods = [
                p
                for p in cluster.pods
                if p.namespace == namespace and svc.selector.matches(p.labels)
            ]
            return Target(text=text, endpoints=tuple(Endpoint.of_pod(p) for p in pods), service=svc)
    raise TargetError(_missing(cluster, text, "service", namespace, name))


def _missing(cluster: Cluster, text: str, kind: str, namespace: str, name: str) -> str:
    known = sorted(p.key for p in cluster.pods)
    listed = ", ".join(known[:8]) + (f" and {len(known) - 8} more" if len(known) > 8 else "")
    hint = f"; pods here: {listed}" if known else "; the manifests hold no pods"
    return f"{text}: no {kind.lower()} {namespace}/{name} in the manifests{hint}"


def service_port(target: Target, spec: PortSpec) -> ServicePort:
    """The service port `spec` names (number, name or node port); the only one when `spec` has
    none."""
    svc = target.service
    assert svc is not None
    if not svc.ports:
        raise TargetError(f"{target.text}: service {svc.key} has no ports")
    if spec.port is None and len(svc.ports) == 1:
        return svc.ports[0]
    for sp in svc.ports:
        if (
            spec.port is not None
            and spec.port in (sp.port, sp.name)
            and sp.protocol is spec.protocol
        ):
            return sp
    for sp in svc.ports:
        # A node port leads to the same endpoints as the port, from the client's own address
        # (the dataplane translates it on the client's node, without SNAT).
        if sp.node_port is not None and spec.port == sp.node_port and sp.protocol is spec.protocol:
            return sp
    listed = ", ".join(_listed(sp) for sp in svc.ports)
    if spec.port is None:
        raise TargetError(
            f"{target.text}: which port? service {svc.key} has {listed}; "
            f"write {target.text}:PORT (a number or a name)"
        )
    raise TargetError(
        f"{target.text}: service {svc.key} has no port {spec.port}/{spec.protocol}; it has {listed}"
    )


def _listed(sp: ServicePort) -> str:
    """`http 80/TCP`, or with a node port `http 80:30080/TCP` (as kubectl's PORT(S))."""
    node_port = f":{sp.node_port}" if sp.node_port is not None else ""
    return f"{sp.name or '-'} {sp.port}{node_port}/{sp.protocol}"


def destination_port(pod: Pod, port: int | str, protocol: Protocol) -> int | None:
    """A port number on `pod`; a name resolves through the pod's container ports."""
    if isinstance(port, int):
        return port
    return pod.named_port(port, protocol)

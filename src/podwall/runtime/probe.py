"""`podwall probe`: the user's manifests as real pods in a throwaway sandbox, real connections.

The sandbox has one node or several on an underlay (`sandbox`); pods are spread over the
nodes (`placement`), so connections cross nodes. Order matters for failing closed: every
node's ruleset is loaded before any pod network or process exists, so no pod is ever reachable
outside what its policies allow. Everything the probe creates (namespaces, links, processes,
files) is removed by name or pid at the end, also when it fails.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from podwall.engine import Endpoint, Traffic, decide
from podwall.flows.flow import Flow
from podwall.model.addressing import POD_RANGE, SERVICE_RANGE, with_addresses
from podwall.model.cluster import Cluster, Pod, Service, ServicePort
from podwall.model.ports import Protocol
from podwall.model.record import replace
from podwall.nft.flowlog import FlowLog
from podwall.runtime import images, placement, process, system
from podwall.runtime.addressplan import NODE_RANGE
from podwall.runtime.connect import Attempt, sctp_supported, try_all
from podwall.runtime.dataplane import SyncResult
from podwall.runtime.names import random_cluster_id
from podwall.runtime.namespaces import run_in_netns, write_sysctl
from podwall.runtime.placement import NodeSlot
from podwall.runtime.sandbox import Sandbox

log = logging.getLogger(__name__)

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.53"
UNPRIVILEGED_PORT_START = "net.ipv4.ip_unprivileged_port_start"
WORK_ROOT = Path("/run")  # the session's DNS records and logs, in /run/podwall-probe-*
FLOWS_QUIET = 0.4  # the log batch's flush (0.05 s) and the reader's poll (0.2 s), with room
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    src: str
    dst: str
    port: int
    protocol: Protocol
    predicted: bool
    observed: bool | None  # None: not run (unsupported protocol)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceProbe:
    src: str
    service: str  # "ns/name"
    name: str  # what the client dialled, resolved through cluster DNS
    port: int
    protocol: Protocol
    predicted: bool | None  # None: some endpoints allow it and some do not (random pick)
    observed: bool


@dataclass(kw_only=True)
class ProbeResult:
    pods: list[str]
    probes: list[Probe] = field(default_factory=list)
    services: list[ServiceProbe] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def disagreements(self) -> list[Probe | ServiceProbe]:
        out: list[Probe | ServiceProbe] = [
            p for p in self.probes if p.observed is not None and p.observed != p.predicted
        ]
        return out + [
            s for s in self.services if s.predicted is not None and s.observed != s.predicted
        ]


def sandboxed(cluster: Cluster, nodes: list[NodeSlot] | None = None) -> tuple[Cluster, list[str]]:
    """Addresses only from the sandbox ranges (others are replaced, with a warning), plus DNS,
    every pod placed on one of `nodes` (default: one node)."""
    warnings: list[str] = []
    pods = tuple(_sandbox_pod(p, warnings) for p in cluster.pods)
    services = tuple(_sandbox_service(s, warnings) for s in cluster.services)
    snapshot = system.with_cluster_dns(replace(cluster, pods=pods, services=services))
    slots = nodes or placement.slots(1)
    snapshot, standing = placement.stand_in(snapshot, slots)
    snapshot, placing = placement.place(snapshot, slots)
    return with_addresses(snapshot), warnings + standing + placing


def _sandbox_pod(pod: Pod, warnings: list[str]) -> Pod:
    if pod.host_network:
        return pod  # it gets its node's address (`placement.stand_in`)
    inside = tuple(
        ip for ip in pod.ips if ip.version == 4 and ip in POD_RANGE and ip not in NODE_RANGE
    )
    if len(inside) != len(pod.ips):
        dropped = ", ".join(str(ip) for ip in pod.ips if ip not in inside)
        warnings.append(
            f"pod {pod.key}: address {dropped} is outside the sandbox range {POD_RANGE} "
            f"(or in {NODE_RANGE}, kept for nodes); it gets a sandbox address, so ipBlocks "
            "naming the old one do not match it"
        )
    return replace(pod, ips=inside)


def _sandbox_service(svc: Service, warnings: list[str]) -> Service:
    if svc.cluster_ip in (None, "", "None"):
        return svc
    try:
        ip = ipaddress.ip_address(svc.cluster_ip or "")
    except ValueError:
        ip = None
    if ip is not None and ip.version == 4 and ip in SERVICE_RANGE:
        return svc
    warnings.append(f"service {svc.key}: clusterIP {svc.cluster_ip} replaced by a sandbox one")
    return replace(svc, cluster_ip=None)


Serve = list[tuple[int, Protocol]]


def targets(pod: Pod, serve: Serve | None) -> Serve:
    """What a destination pod serves: the given ports, or every port it declares."""
    if serve is not None:
        return serve
    return sorted({(p.port, p.protocol) for p in pod.ports}, key=lambda t: (t[1], t[0]))


def run_probe(
    user_cluster: Cluster,
    *,
    port: int | None = None,
    protocol: Protocol = Protocol.TCP,
    timeout: float = 1.0,
    nodes: int = 1,
    flows: bool = False,
    progress: Progress = lambda _: None,
) -> ProbeResult:
    """Build a sandbox of `nodes` nodes, probe every pair (and every service by name), tear it
    down; with `flows`, keep the flows the nodes reported."""
    started = time.perf_counter()
    serve = None if port is None else [(port, protocol)]
    flow_log = FlowLog() if flows else None
    with Session(user_cluster, serve=serve, nodes=nodes, flow_log=flow_log, progress=progress) as s:
        s.start()
        result = ProbeResult(pods=[p.key for p in s.probed], warnings=s.warnings)
        result.probes, result.unsupported = s.probe_pods(timeout)
        result.services = s.probe_services(port, timeout)
        if flows:
            result.flows = s.flows()
    result.seconds = time.perf_counter() - started
    return result


class Session:
    """A sandbox of one or more nodes, their rulesets, a network and a server process per pod,
    kept across updates of labels and policies; everything is removed on exit, by name or pid."""

    def __init__(
        self,
        user_cluster: Cluster,
        *,
        serve: Serve | None = None,
        nodes: int = 1,
        flow_log: FlowLog | None = None,
        progress: Progress = print,
    ) -> None:
        if nodes < 1:
            raise ValueError(f"a sandbox needs at least one node, not {nodes}")
        self.sandbox = Sandbox(random_cluster_id(), placement.node_names(nodes), flow_log=flow_log)
        self.cluster, self.warnings = sandboxed(user_cluster, self.sandbox.slots)
        self.serve = serve
        self.progress = progress
        self.netns_of: dict[str, str] = {}
        self._procs: list[process.PodProcess] = []
        self._host_served: dict[str, Pod] = {}  # node -> the host-network pod serving there
        # Not under /tmp: each pod has a /tmp of its own, and the DNS pod reads its records here.
        self._dir = Path(tempfile.mkdtemp(prefix="podwall-probe-", dir=WORK_ROOT))
        self._stack = contextlib.ExitStack()
        for pod in self.cluster.pods:
            if pod.host_network:
                self.warnings.append(
                    f"pod {pod.key} uses the host network: it serves in the network namespace "
                    f"of {pod.node}, at its address, and is not probed from"
                )

    @property
    def probed(self) -> list[Pod]:
        pods = (p for p in self.cluster.pods if not p.host_network and not system.is_system(p))
        return sorted(pods, key=lambda p: (p.namespace, p.name))

    def __enter__(self) -> Session:
        self._stack.callback(shutil.rmtree, self._dir, True)
        self._stack.callback(self.sandbox.destroy)
        self._stack.callback(self._stop_processes)
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress("tearing the sandbox down")
        self._stack.close()

    def start(self) -> None:
        nodes = ", ".join(slot.name for slot in self.sandbox.slots)
        self.progress(f"creating sandbox {self.sandbox.underlay.netns} with nodes {nodes}")
        self.sandbox.create()
        # Policy first: every pod is isolated before its network or its process exists.
        self.sandbox.sync(self.cluster)
        for node, keys in placement.placed_on(self.cluster).items():
            self.progress(f"{node}: {', '.join(keys)}")
        records = self._dir / "dns.json"
        records.write_text(system.dns_records(self.cluster))
        records.chmod(0o644)
        self._dir.chmod(0o755)
        for pod in self.cluster.pods:
            assert pod.node is not None  # placed by `sandboxed`
            if not pod.host_network:
                self.netns_of[pod.key] = self.sandbox.add_pod(pod.node, pod.key, _v4(pod)).netns
                self._start_server(pod, records)
            elif pod.node not in self._host_served:
                # One host-network server per node: a node has one network namespace.
                self._host_served[pod.node] = pod
                self.netns_of[pod.key] = self.sandbox.nodes[pod.node].network.netns
                _allow_low_ports(self.netns_of[pod.key])
                self._start_server(pod, records)
        self.progress(f"started {len(self._procs)} pods")
        self._wait_ready()

    def update(self, user_cluster: Cluster) -> dict[str, SyncResult]:
        """New labels and policies for the same pods, on the same nodes: one incremental nft
        transaction per node."""
        cluster, _ = sandboxed(user_cluster, self.sandbox.slots)
        cluster = placement.keep(cluster, self.cluster)
        if {p.key: p.ips for p in cluster.pods} != {p.key: p.ips for p in self.cluster.pods}:
            raise ValueError("a probe session keeps its pods: only labels and policies change")
        self.cluster = cluster
        return self.sandbox.sync(cluster)

    def probe_pods(
        self, timeout: float, only: tuple[int, Protocol] | None = None, tries: int = 2
    ) -> tuple[list[Probe], list[str]]:
        """Every ordered pair of distinct pods on every port the destination serves (or `only`),
        each probe tried up to `tries` times."""
        planned = [
            (src, dst, n, proto)
            for src in self.probed
            for dst in self.probed
            if src.key != dst.key
            for n, proto in targets(dst, self.serve)
            if only is None or (n, proto) == only
        ]
        sctp = sctp_supported()
        runnable = [t for t in planned if t[3] is not Protocol.SCTP or sctp]
        unsupported = []
        if len(runnable) < len(planned):
            skipped = len(planned) - len(runnable)
            unsupported.append(f"SCTP is not available in this kernel: {skipped} probe(s) not run")
        self.progress(f"probing {len(runnable)} connections")
        attempts = [
            Attempt(netns=self.netns_of[s.key], address=str(_v4(d)), port=n, protocol=proto)
            for s, d, n, proto in runnable
        ]
        observed = dict(zip(runnable, try_all(attempts, timeout, tries), strict=True))
        probes = [
            Probe(
                src=src.key,
                dst=dst.key,
                port=n,
                protocol=proto,
                predicted=decide(self.cluster, _traffic(src, dst, n, proto)).allowed,
                observed=observed.get((src, dst, n, proto)),
            )
            for src, dst, n, proto in planned
        ]
        return probes, unsupported

    def flows(self, quiet: float = FLOWS_QUIET, limit: float = 5.0) -> list[Flow]:
        """The flows the nodes saw, once `quiet` seconds passed without a new one (the kernel
        batches log messages for a few hundredths of a second), at most `limit` seconds."""
        deadline = time.monotonic() + limit
        seen = self.sandbox.flows()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = self.sandbox.flows()
            if now == seen:
                return now
            seen = now
        return seen

    def probe_services(self, port: int | None, timeout: float) -> list[ServiceProbe]:
        """Each client dials each user service by name, through cluster DNS and the ClusterIP."""
        out: list[ServiceProbe] = []
        for svc in self.cluster.services:
            if svc.namespace == system.DNS_NAMESPACE or svc.selector is None:
                continue
            for sp in svc.ports:
                if sp.protocol is Protocol.TCP and port in (None, sp.port):
                    out += self._probe_service(svc, sp, timeout)
        return out

    def _probe_service(self, svc: Service, sp: ServicePort, timeout: float) -> list[ServiceProbe]:
        assert svc.selector is not None
        selector = svc.selector
        endpoints = [
            p for p in self.probed if p.namespace == svc.namespace and selector.matches(p.labels)
        ]
        out = []
        for src in self.probed:
            if src in endpoints:
                continue  # hairpin (a pod reaching itself through its service): not modelled
            # As the tutorial does: the bare name from the same namespace, via the search path.
            name = svc.name if src.namespace == svc.namespace else f"{svc.name}.{svc.namespace}"
            verdicts = {
                decide(self.cluster, _traffic(src, ep, _target(ep, sp), sp.protocol)).allowed
                for ep in endpoints
            }
            out.append(
                ServiceProbe(
                    src=src.key,
                    service=svc.key,
                    name=name,
                    port=sp.port,
                    protocol=sp.protocol,
                    predicted=verdicts.pop() if len(verdicts) == 1 else None,
                    observed=self.connect_by_name(src, name, sp.port, timeout),
                )
            )
        return out

    def connect_by_name(self, src: Pod, name: str, port: int, timeout: float) -> bool:
        """`agnhost connect NAME:PORT` inside `src`: its resolv.conf, its user, two tries."""
        argv = ["/agnhost", "connect", f"{name}:{port}", "--timeout", f"{timeout}s"]
        for _ in range(2):
            proc = process.exec_in_pod(
                netns=self.netns_of[src.key], hostname=_hostname(src), argv=argv, image=AGNHOST
            )
            try:
                proc.communicate(timeout=timeout + 5)
            finally:
                if proc.poll() is None:  # its group: nsenter and the command in the pod
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            if proc.returncode == 0:
                return True
        return False

    def _start_server(self, pod: Pod, records: Path) -> None:
        if system.is_system(pod):
            launch = images.dns_launch(str(records))
        else:
            launch = _serve_launch(targets(pod, self.serve))
        self._stack.callback(process.remove_pod_files, self.netns_of[pod.key])
        proc = process.start_container(
            netns=self.netns_of[pod.key],
            hostname=_hostname(pod),
            launch=launch,
            resolv_conf=process.resolv_conf(pod.namespace),
            hosts=process.hosts_file(_hostname(pod), str(_v4(pod))),
            log_dir=self._dir / "logs" / pod.namespace / pod.name,
            container="server",
        )
        self._procs.append(proc)

    def _wait_ready(self, limit: float = 10.0) -> None:
        """Until every server answers on its own loopback, where no policy applies."""
        deadline = time.monotonic() + limit
        pending = [
            Attempt(netns=self.netns_of[p.key], address="127.0.0.1", port=n, protocol=proto)
            for p in [*self.probed, *self._host_served.values()]
            for n, proto in targets(p, self.serve)
            if proto is not Protocol.SCTP
        ]
        while pending and time.monotonic() < deadline:
            ok = try_all(pending, timeout=0.3, tries=1)
            pending = [a for a, good in zip(pending, ok, strict=True) if not good]
        if pending:
            log.warning("servers not ready after %.0fs: %s", limit, pending[:3])

    def _stop_processes(self) -> None:
        for proc in self._procs:
            proc.stop(grace=1.0)


def _allow_low_ports(node_netns: str) -> None:
    """A host-network pod's server runs unprivileged in its sandbox node's namespace, as pods'
    servers do in theirs: it binds ports below 1024 there as they do (never this machine's)."""
    run_in_netns(node_netns, lambda: write_sysctl(UNPRIVILEGED_PORT_START, "0"))


def _traffic(src: Pod, dst: Pod, port: int, protocol: Protocol) -> Traffic:
    return Traffic(src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=protocol)


def _target(pod: Pod, sp: ServicePort) -> int:
    target = sp.target_port
    number = target if isinstance(target, int) else pod.named_port(target, sp.protocol)
    return number or 0


def _serve_launch(ports: list[tuple[int, Protocol]]) -> images.Launch:
    args = ["serve"]
    tcp = [str(n) for n, proto in ports if proto is Protocol.TCP]
    udp = [str(n) for n, proto in ports if proto is Protocol.UDP]
    if tcp:
        args += ["--tcp-ports", ",".join(tcp)]
    if udp:
        args += ["--udp-ports", ",".join(udp)]
    launch = images.resolve(images.ContainerSpec(image=AGNHOST, args=tuple(args)))
    assert isinstance(launch, images.Launch), launch
    return launch


def _hostname(pod: Pod) -> str:
    return pod.name[:63].strip("-").lower() or "pod"


def _v4(pod: Pod) -> ipaddress.IPv4Address:
    return next(ip for ip in pod.ips if isinstance(ip, ipaddress.IPv4Address))

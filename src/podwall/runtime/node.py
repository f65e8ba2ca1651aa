"""One node of a long-running sandbox cluster: pod networks, container processes, the ruleset.

The kubelet role without the API: the caller (podwall.agent.kubelet) decides what runs and
reports status; `Node` owns what exists on the host and removes it all, by name or pid:

- the node namespace `pw-<cluster>-<node>` (`n0` unless told) and one namespace per pod
  (`NodeSandbox`); with an underlay (the fabric's namespace name) the node attaches to it and
  gets its address (`address`), so several Nodes make one cluster;
- a host-network pod (`PodPlan.host_network`) gets no namespace, veth or address of its own:
  its name (the one a pod namespace would have) is bound to the node's namespace, so its
  processes listen on the node's address and its own PID 1, files and uid stay per pod;
- one process per container, started with `process.start_container` (resolv.conf pointing at
  the cluster DNS, the pod's hosts file and hostname), its output in `log_dir/<ns>/<pod>/`;
- the node's nftables table (`Dataplane`, for the pods whose `spec.nodeName` is `node_name`,
  or for every pod when None) and the cluster DNS records file (in `run_dir`, which must be
  readable by every pod's uid: the DNS stand-in reads it after dropping root);
- with `flow_log` (the default), the verdicts the ruleset logs, read in the node namespace and
  written to `<flows_dir>/<node name>.jsonl` (`run_dir/flows` unless told), where `podwall
  observe` reads them (not with `read_flows=False`: the owner reads them itself). A node whose
  ruleset another owner syncs (its agent) swaps in that owner's Dataplane before `start` and
  calls `synced` after each sync.

`adopt_leftovers()` makes a restart after `kill -9` safe: every process still inside one of this
cluster's pod namespaces is killed (found by its network namespace, never by name), and the
namespaces and /etc/netns files are removed, so the caller can start every pod afresh. It
sweeps the whole cluster (pod namespaces do not name their node): with several nodes, call it
once for the cluster, before any node starts. Not thread-safe: one worker owns a Node.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from podwall.flows import files
from podwall.model.cluster import Cluster
from podwall.model.ports import Protocol
from podwall.nft.flowlog import FlowLog
from podwall.runtime import (
    connect,
    containerlogs,
    imagefiles,
    names,
    netns,
    podvolumes,
    process,
    system,
    underlay,
)
from podwall.runtime.dataplane import Dataplane, SyncResult
from podwall.runtime.errors import SandboxError
from podwall.runtime.flowlog import NodeFlows
from podwall.runtime.images import RUN_ERROR, Launch, Waiting
from podwall.runtime.namespaces import alias_netns, remove_netns
from podwall.runtime.netns import NodeSandbox
from podwall.runtime.podvolumes import PodVolumes
from podwall.runtime.procstat import start_time
from podwall.runtime.serviceaccount import ServiceAccountFiles

log = logging.getLogger(__name__)

NODE = "n0"
DEFAULT_FLOW_LOG = FlowLog()
RECORDS = "dns.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerPlan:
    """What to run for one container: a Launch, or why it cannot run."""

    name: str
    image: str
    env: dict[str, str]
    launch: Launch | Waiting
    stdin: bool = False  # the container spec's stdin, stdinOnce and tty (kubectl run -i -t)
    stdin_once: bool = False
    tty: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PodPlan:
    namespace: str
    name: str
    ip: ipaddress.IPv4Address
    containers: tuple[ContainerPlan, ...]
    run_as_user: int | None = None  # spec.securityContext.runAsUser; else a uid of its own
    service_account: ServiceAccountFiles | None = None  # mounted for in-cluster clients
    volumes: PodVolumes | None = None  # spec.volumes, where the containers mount them
    # spec.hostNetwork: `ip` is the node's address and the pod runs in the node's namespace,
    # with the node's name as hostname (Kubernetes shares the node's UTS namespace).
    host_network: bool = False
    node_hostname: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def hostname(self) -> str:
        name = self.node_hostname if self.host_network and self.node_hostname else self.name
        return name[:63].strip("-.").lower() or "pod"


@dataclass(kw_only=True)
class RunningPod:
    plan: PodPlan
    netns: str
    processes: dict[str, process.PodProcess] = field(default_factory=dict)
    log_dir: Path


class Node:
    """The host side of one sandbox node; `stop()` removes everything it made."""

    def __init__(
        self,
        cluster_id: str,
        *,
        run_dir: Path,
        log_dir: Path,
        node: str = NODE,
        index: int = 0,
        underlay: str | None = None,
        node_name: str | None = None,
        flow_log: FlowLog | None = DEFAULT_FLOW_LOG,
        flows_dir: Path | None = None,
        read_flows: bool = True,
    ) -> None:
        self.cluster_id = names.check_cluster_id(cluster_id)
        self.sandbox = NodeSandbox(cluster_id, node, index, underlay)
        self.dataplane = Dataplane(self.sandbox.netns, node_name, flow_log=flow_log)
        self.name = node_name or node
        self.run_dir = run_dir
        self.log_dir = log_dir
        self.pods: dict[str, RunningPod] = {}
        self.flows: NodeFlows | None = None
        self.read_flows = read_flows
        self.flows_dir = flows_dir or run_dir / files.FLOWS  # the cluster's, for several nodes
        self._records = ""

    @property
    def records_path(self) -> Path:
        return self.run_dir / RECORDS

    @property
    def subnet(self) -> ipaddress.IPv4Network:
        return self.sandbox.subnet

    @property
    def address(self) -> ipaddress.IPv4Address | None:
        """The node's address on the underlay, once started (None without an underlay)."""
        return self.sandbox.address

    def start(self, *, adopt: bool = True) -> None:
        """Clear what a killed predecessor left (unless `adopt` is False: the cluster's owner
        did), then create the node namespace."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        imagefiles.install()  # before any image is resolved: busybox's applets, nginx's config
        if adopt:
            self.adopt_leftovers()
        self.sandbox.create()
        config = self.dataplane.flow_log
        if config is not None and self.read_flows:
            ring = files.ring_path(self.flows_dir, self.name)
            self.flows = NodeFlows(
                self.sandbox.netns, self.name, self.dataplane.tags, config, ring_path=ring
            )

    def adopt_leftovers(self) -> list[str]:
        """Kill processes in this cluster's namespaces and remove them; the names removed."""
        prefix = names.cluster_prefix(self.cluster_id)
        found = netns.leftovers(prefix)
        _kill_inside(found)
        removed = netns.remove_leftovers(prefix) if found else []
        for name in removed:
            process.remove_pod_files(name)
        return removed

    def reclaim(self, pod_keys: Iterable[str]) -> list[str]:
        """Clear what a killed predecessor of this one node left, so that `start` can make it
        afresh while the other nodes run on: every process inside the named pods' namespaces
        and the node's own is killed (found by network namespace, never by name), those
        namespaces are removed and the node's uplink is detached. The names removed.

        The node's ruleset stays in force until the namespace goes, and the pods go first.
        Pods not named here (deleted while no agent ran) are left to `adopt_leftovers`."""
        found = [names.pod_netns(self.cluster_id, key) for key in pod_keys]
        found = [n for n in [*found, self.sandbox.netns] if netns.netns_path(n).exists()]
        _kill_inside(found)
        if self.sandbox.underlay is not None:
            for failure in underlay.detach(self.sandbox.underlay, self.sandbox.index):
                log.warning("reclaiming %s: %s", self.sandbox.netns, failure)
        removed = []
        for name in found:
            try:
                remove_netns(name)
            except OSError as exc:
                log.warning("reclaiming %s: %s", name, exc)
                continue
            process.remove_pod_files(name)
            removed.append(name)
        return removed

    def sync(self, cluster: Cluster) -> SyncResult:
        """Enforce `cluster` in the node's ruleset and publish its services to cluster DNS."""
        result = self.dataplane.sync(cluster)
        self.synced(cluster)
        return result

    def synced(self, cluster: Cluster) -> None:
        """What follows a sync of `cluster` into the ruleset (here or by the node's agent):
        the flows' view of it, and the cluster DNS records file (when the Services changed)."""
        if self.flows is not None:
            self.flows.update(cluster)
        records = system.dns_records(cluster)
        if records != self._records:
            staging = self.records_path.with_name(f".{RECORDS}.new")
            staging.write_text(records)
            staging.chmod(0o644)
            staging.replace(self.records_path)
            self._records = records

    def start_pod(self, plan: PodPlan) -> dict[str, Waiting | None]:
        """Create the pod's network and start its containers; per container, None when it
        started, else why not. Raises SandboxError when the network cannot be made."""
        pod = RunningPod(
            plan=plan,
            netns=self._host_network(plan) if plan.host_network else self._pod_network(plan),
            log_dir=self.log_dir / plan.namespace / plan.name,
        )
        self.pods[plan.key] = pod
        return {c.name: self._start(pod, c) for c in plan.containers}

    def _pod_network(self, plan: PodPlan) -> str:
        return self.sandbox.add_pod(plan.key, plan.ip).netns

    def _host_network(self, plan: PodPlan) -> str:
        """The pod's namespace name, bound to the node's namespace."""
        name = names.pod_netns(self.cluster_id, plan.key)
        try:
            alias_netns(name, self.sandbox.netns)
        except (OSError, SandboxError) as exc:
            raise SandboxError(f"cannot add host-network pod {plan.key}: {exc}") from exc
        return name

    def restart(self, key: str, container: str) -> Waiting | None:
        pod = self.pods[key]
        plan = next(c for c in pod.plan.containers if c.name == container)
        containerlogs.rotate(containerlogs.log_path(pod.log_dir, container))
        return self._start(pod, plan)

    def _start(self, pod: RunningPod, container: ContainerPlan) -> Waiting | None:
        if isinstance(container.launch, Waiting):
            return container.launch
        try:
            proc = process.start_container(
                netns=pod.netns,
                hostname=pod.plan.hostname,
                launch=container.launch,
                resolv_conf=process.resolv_conf(pod.plan.namespace),
                hosts=process.hosts_file(pod.plan.hostname, str(pod.plan.ip)),
                log_dir=pod.log_dir,
                container=container.name,
                stdin=container.stdin,
                tty=container.tty,
                stdin_once=container.stdin_once,
                run_as_user=pod.plan.run_as_user,
                service_account=pod.plan.service_account,
                volumes=pod.plan.volumes,
                pod_images=[c.image for c in pod.plan.containers],
            )
        except (process.ProcessError, ValueError, OSError) as exc:
            return Waiting(RUN_ERROR, str(exc))
        pod.processes[container.name] = proc
        return None

    def stop_container(self, key: str, container: str, grace: float = 2.0) -> int | None:
        """Stop one container's process (by pid) and forget it, so `exited` never reports
        it; its exit code, None if it was not running."""
        proc = self.pods[key].processes.pop(container, None)
        if proc is None:
            return None
        proc.stop(grace=grace)
        return proc.wait(0)

    def update_volumes(self, key: str, volumes: PodVolumes) -> list[str]:
        """Rewrite the files of the running pod's volumes (its ConfigMaps or Secrets changed);
        the volumes rewritten. Nothing while the pod has no PID 1: it writes them when it
        starts."""
        pod = self.pods[key]
        pod.plan = replace(pod.plan, volumes=volumes)
        uid = process.pod_uid(pod.netns)
        return [] if uid is None else podvolumes.update(pod.netns, volumes, uid)

    def container_process(self, key: str, container: str) -> process.PodProcess | None:
        """The container's current process, if it runs (or ran and is not reaped yet). Safe
        to call from another thread: it only reads."""
        pod = self.pods.get(key)
        return None if pod is None else pod.processes.get(container)

    def listening(self, key: str, ports: tuple[int, ...]) -> bool:
        """Whether pod `key` accepts TCP connections on every port, on its own loopback
        (where no policy applies)."""
        netns_name = self.pods[key].netns
        return all(
            connect.try_once(
                connect.Attempt(
                    netns=netns_name, address="127.0.0.1", port=port, protocol=Protocol.TCP
                ),
                timeout=0.2,
            )
            for port in ports
        )

    def exited(self) -> list[tuple[str, str, int]]:
        """(pod key, container, exit code) of every container process that ended since the
        last call; they are forgotten here."""
        out = []
        for key, pod in self.pods.items():
            for name, proc in list(pod.processes.items()):
                code = proc.wait(0) if not proc.running() else None
                if code is not None:
                    del pod.processes[name]
                    out.append((key, name, code))
        return out

    def stop_pod(self, key: str) -> None:
        """Stop the pod's processes (by pid), then remove its logs, network and files."""
        pod = self.pods.pop(key, None)
        if pod is None:
            return
        for proc in pod.processes.values():
            proc.stop(grace=1.0)
        containerlogs.forget(pod.log_dir)
        if pod.plan.host_network:  # its PID 1 first: the name is how it is found
            process.remove_pod_files(pod.netns)
            try:
                remove_netns(pod.netns)
            except OSError as exc:
                raise SandboxError(f"removing host-network pod {key}: {exc}") from exc
            return
        try:
            self.sandbox.remove_pod(key)
        finally:
            process.remove_pod_files(pod.netns)

    def container(self, key: str, container: str | None) -> tuple[RunningPod, ContainerPlan]:
        """The running pod and its container (the first when None); KeyError if not here."""
        pod = self.pods[key]
        plans = pod.plan.containers
        found = plans[0] if container is None else next(c for c in plans if c.name == container)
        return pod, found

    def stop(self) -> None:
        """Stop every pod, remove the node namespace and the run directory."""
        for key in list(self.pods):
            try:
                self.stop_pod(key)
            except Exception:
                log.exception("stopping pod %s", key)
        if self.flows is not None:
            self.flows.stop()
        try:
            self.sandbox.destroy()
        finally:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def pids_in_netns(name: str) -> list[int]:
    """Every process whose network namespace is the one mounted at /var/run/netns/NAME."""
    try:
        target = os.stat(netns.netns_path(name))
    except FileNotFoundError:
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            st = os.stat(entry / "ns" / "net")
            if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
                found.append(int(entry.name))
    return found


def wait_gone(pids: list[int], timeout: float = 2.0) -> None:
    """Wait until every process in `pids` has exited (a zombie has), at most `timeout`."""
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if not exited(p)]
        if pids:
            time.sleep(0.02)


def exited(pid: int) -> bool:
    """Whether process `pid` is gone or a zombie (its parent may never reap it)."""
    return start_time(pid) is None


def _kill_inside(namespaces: Iterable[str]) -> None:
    """SIGKILL every process inside the named network namespaces (found by namespace, never by
    name) and wait until they are gone."""
    killed = []
    for name in namespaces:
        for pid in pids_in_netns(name):
            log.info("killing leftover pid=%d netns=%s", pid, name)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    wait_gone(killed)

"""The kubelet of the one sandbox node: pods in the Store become networks and processes.

A worker thread does all the host work; the Store's `on_commit` only wakes it, so no API request
waits for a process to start. Bursts coalesce: one pass handles everything that changed since
the last, and syncs the ruleset in one transaction. A pass, in the order that fails closed:

1. pods gone from the Store (or replaced under the same name) are stopped, by pid, and their
   namespaces removed;
2. each new pod of this node gets an address (198.18.0.0/24; the one it had before a restart
   when still free), written to `status.podIP` first;
3. the ruleset is synced from the Store's pods, Services, namespaces and NetworkPolicies, so a
   new pod is isolated before its network or its process exists; cluster DNS records are
   rewritten when Services change (a sync that nft refuses starts no new pod);
4. the new pods' networks and containers start; status becomes Running and Ready, or waiting
   (`ImageNotSupported`, `RunContainerError`). A container that declares TCP containerPorts
   is reported running once it listens on them (checked on the pod's loopback, at most
   `READY_SECONDS`), so Ready means it answers: the tutorial's `curl` right after
   `kubectl get pods` shows `1/1 Running` never meets a server that is still starting;
5. containers that exited are reported `terminated` and restarted as `restartPolicy` says,
   with a doubling back-off.

The DNS stand-in runs as the `kube-system` pod labelled `k8s-app=kube-dns` (its image names
coredns), behind the kube-dns Service at 198.19.0.10. `start()` reconciles from the Store:
after a restart every pod gets its network and processes again, the ruleset synced first.
`Kubelet` implements `PodRuntime` for `kubectl exec` (kubeletexec.py runs the command) and
`kubectl logs`, and `attach` (kubeletattach.py) and `port_forward` for those two commands.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.controllers import (
    events,
    pod_pending,
    pod_restarted,
    pod_running,
    pod_terminated,
    pod_waiting,
)
from podwall.apiserver.controllers.meta import meta
from podwall.apiserver.controllers.pods import NODE_NAME
from podwall.apiserver.kubeletattach import AttachProcess
from podwall.apiserver.kubeletexec import ExecTarget, LocalProcess, start_in_pod
from podwall.apiserver.podruntime import ExecRequest, PodLookupError
from podwall.apiserver.reconciler import write_event
from podwall.apiserver.store import Object, Store, WatchEvent
from podwall.model.cluster import Cluster
from podwall.model.convert import RawObject, cluster
from podwall.nft.errors import NftError
from podwall.runtime import images
from podwall.runtime.errors import SandboxError
from podwall.runtime.node import ContainerPlan, Node, PodPlan

log = logging.getLogger(__name__)

SNAPSHOT_KINDS = ("namespaces", "pods", "services", "networkpolicies.networking.k8s.io")
WAKING = frozenset(SNAPSHOT_KINDS)
DNS_NAMESPACE = "kube-system"
DNS_LABEL = ("k8s-app", "kube-dns")
COALESCE_SECONDS = 0.005
POLL_SECONDS = 0.5
STARTING_POLL_SECONDS = 0.02
READY_SECONDS = 10.0
MAX_BACKOFF = 30.0
Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def _key(pod: Object) -> str:
    m = meta(pod)
    return f"{m.get('namespace')}/{m['name']}"


@dataclass(slots=True)
class _Starting:
    containers: dict[str, tuple[int, ...]]  # container -> the TCP ports it must listen on
    started: datetime
    deadline: float


@dataclass(slots=True)
class _Restart:
    key: str
    container: str
    at: float


class Kubelet:
    """The node agent over one Store and one Node. Call `start()` once, `stop()` at the end."""

    def __init__(
        self, store: Store, node: Node, *, node_name: str = NODE_NAME, clock: Clock = _now
    ) -> None:
        self.store = store
        self.node = node
        self.node_name = node_name
        self.clock = clock
        self._uids: dict[str, str] = {}
        self._broken: dict[str, str] = {}  # key -> uid of a pod whose network failed
        self._restarts: list[_Restart] = []
        self._backoff: dict[tuple[str, str], float] = {}
        self._targets: dict[str, dict[str, tuple[ExecTarget, Path]]] = {}
        self._targets_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._undo: Callable[[], None] | None = None
        self.ready = threading.Event()
        self.synced_rv = 0  # the store's resourceVersion the loaded ruleset reflects
        self._synced = threading.Condition()
        self._starting: dict[str, _Starting] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Create the node, start every pod of the Store (ruleset first), then follow changes."""
        self.node.start()
        self._undo = self.store.on_commit(self._on_commit)
        self.sync_pass()
        deadline = time.monotonic() + READY_SECONDS
        while self._starting and time.monotonic() < deadline:
            time.sleep(STARTING_POLL_SECONDS)
            self.sync_pass()
        self.ready.set()
        self._thread = threading.Thread(target=self._run, name="podwall-kubelet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following, stop every pod (by pid), remove every namespace. Safe to call twice."""
        if self._undo is not None:
            self._undo()
            self._undo = None
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        with self._targets_lock:
            self._targets.clear()
        self.node.stop()

    def _on_commit(self, resource: str, event: WatchEvent) -> None:
        if resource in WAKING:
            self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(STARTING_POLL_SECONDS if self._starting else POLL_SECONDS)
            if self._stopping.is_set():
                return
            time.sleep(COALESCE_SECONDS)
            self._wake.clear()
            try:
                self.sync_pass()
            except Exception:
                log.exception("kubelet pass failed")

    # -- one pass ------------------------------------------------------------------------

    def sync_pass(self) -> None:
        """Bring the node in line with the Store once (see the module docstring)."""
        rv = self.store.resource_version
        pods = [
            p for p in self._list("pods") if p.get("spec", {}).get("nodeName") == self.node_name
        ]
        by_key = {_key(p): p for p in pods}
        for key in list(self.node.pods):
            pod = by_key.get(key)
            if pod is None or meta(pod).get("uid") != self._uids.get(key):
                self._stop_pod(key)
        new = [p for p in pods if self._wanted(p)]
        plans = self._assign_addresses(new)
        try:
            self.node.sync(self.snapshot())
        except NftError:
            log.error("ruleset not synced: %d new pod(s) wait for the next pass", len(plans))
            return
        with self._synced:
            self.synced_rv = max(self.synced_rv, rv)
            self._synced.notify_all()
        for pod, plan in plans:
            self._start_pod(pod, plan)
        self._check_starting()
        self._reap()
        self._restart_due()

    def wait_synced(self, resource_version: int, timeout: float) -> bool:
        """Wait until the loaded ruleset reflects every write up to `resource_version`."""
        with self._synced:
            return self._synced.wait_for(lambda: self.synced_rv >= resource_version, timeout)

    def snapshot(self) -> Cluster:
        """The engine's view of the Store: namespaces, pods with addresses, Services, policies."""
        objects = [RawObject(body=o) for kind in SNAPSHOT_KINDS for o in self._list(kind)]
        return cluster(objects).cluster

    def _list(self, resource: str) -> list[Object]:
        items, _ = self.store.list(resource)
        return items

    def _wanted(self, pod: Object) -> bool:
        key = _key(pod)
        if key in self.node.pods or self._broken.get(key) == meta(pod).get("uid"):
            return False
        return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")

    # -- starting ------------------------------------------------------------------------

    def _assign_addresses(self, new: list[Object]) -> list[tuple[Object, PodPlan]]:
        """An address per new pod, written to its status before anything else happens."""
        used = {pod.plan.ip for pod in self.node.pods.values()}
        wanted: dict[str, ipaddress.IPv4Address] = {}
        for pod in new:  # first, the addresses pods had before a restart
            previous = _previous_ip(pod, self.node.subnet)
            if previous is not None and previous not in used:
                wanted[_key(pod)] = previous
                used.add(previous)
        free = (ip for ip in _allocatable(self.node.subnet) if ip not in used)
        plans = []
        for pod in new:
            ip = wanted.get(_key(pod)) or next(free, None)
            if ip is None:
                self._fail(pod, "CreatePodSandboxError", f"no free address in {self.node.subnet}")
                continue
            written = self._write_status(pod, partial(_pending, ip=ip, now=self.clock()))
            if written is not None:
                plans.append((written, self._plan(written, ip)))
        return plans

    def _plan(self, pod: Object, ip: ipaddress.IPv4Address) -> PodPlan:
        m, spec = meta(pod), pod.get("spec") or {}
        containers = tuple(
            ContainerPlan(
                name=str(c.get("name")),
                image=str(c.get("image") or ""),
                env=_env(c),
                launch=self._launch(pod, c),
                stdin=c.get("stdin") is True,
                stdin_once=c.get("stdinOnce") is True,
                tty=c.get("tty") is True,
            )
            for c in spec.get("containers") or ()
        )
        run_as_user = (spec.get("securityContext") or {}).get("runAsUser")
        return PodPlan(
            namespace=str(m.get("namespace")),
            name=m["name"],
            ip=ip,
            containers=containers,
            run_as_user=run_as_user if type(run_as_user) is int else None,
        )

    def _launch(self, pod: Object, container: dict[str, Any]) -> images.Launch | images.Waiting:
        if is_dns_pod(pod) and "coredns" in str(container.get("image") or ""):
            return images.dns_launch(str(self.node.records_path))
        spec = images.ContainerSpec(
            image=str(container.get("image") or ""),
            command=tuple(str(a) for a in container.get("command") or ()),
            args=tuple(str(a) for a in container.get("args") or ()),
            env=_env(container),
        )
        return images.resolve(spec)

    def _start_pod(self, pod: Object, plan: PodPlan) -> None:
        key = plan.key
        try:
            results = self.node.start_pod(plan)
        except SandboxError as exc:
            log.error("pod network failed pod=%s error=%s", key, exc)
            self._broken[key] = meta(pod).get("uid", "")
            self._fail(pod, "CreatePodSandboxError", str(exc))
            return
        self._uids[key] = meta(pod).get("uid", "")
        self._publish(plan)
        ports = _tcp_ports(pod)
        now = self.clock()
        self._events(pod, plan, results, now)
        gated = {n: ports[n] for n, w in results.items() if w is None and ports.get(n)}
        if gated:
            self._starting[key] = _Starting(gated, now, time.monotonic() + READY_SECONDS)

        def report(p: Object) -> Object:
            for name, waiting in results.items():
                if waiting is not None:
                    p = pod_waiting(p, waiting.reason, waiting.message, now, container=name)
                elif name not in gated:
                    p = pod_running(p, str(plan.ip), now, container=name)
            return p

        self._write_status(pod, report)
        log.info("pod started pod=%s ip=%s", key, plan.ip)

    def _events(
        self,
        pod: Object,
        plan: PodPlan,
        results: dict[str, images.Waiting | None],
        now: datetime,
    ) -> None:
        """What `kubectl describe pod` lists: Scheduled, then per container Pulled, Created,
        Started, or Failed with the reason."""
        out = [events.scheduled(pod, self.node_name, now)]
        for c in plan.containers:
            waiting = results.get(c.name)
            if waiting is None:
                out += [
                    events.pulled(pod, c.name, c.image, now),
                    events.created(pod, c.name, now),
                    events.started(pod, c.name, now),
                ]
            else:
                out.append(events.failed(pod, c.name, f"Error: {waiting.reason}", now))
        for event in out:
            try:
                write_event(self.store, event)
            except errors.ApiError as exc:
                log.warning("event not recorded pod=%s error=%s", plan.key, exc)

    def _check_starting(self) -> None:
        """Containers that declare TCP ports are ready once they listen (or after a while)."""
        for key, starting in list(self._starting.items()):
            running = self.node.pods.get(key)
            if running is None:
                del self._starting[key]
                continue
            late = time.monotonic() > starting.deadline
            for name, ports in list(starting.containers.items()):
                if late or self.node.listening(key, ports):
                    del starting.containers[name]
                    self._report_running(key, name, starting.started)
            if not starting.containers:
                del self._starting[key]

    def _report_running(self, key: str, container: str, started: datetime) -> None:
        pod = self._stored(key)
        running = self.node.pods.get(key)
        if pod is None or running is None:
            return
        ip = str(running.plan.ip)
        self._write_status(
            pod, partial(pod_running, pod_ip=ip, started_at=started, container=container)
        )

    def _publish(self, plan: PodPlan) -> None:
        running = self.node.pods[plan.key]
        targets = {
            c.name: (
                ExecTarget(netns=running.netns, hostname=plan.hostname, image=c.image, env=c.env),
                running.log_dir / f"{c.name}.log",
            )
            for c in plan.containers
        }
        with self._targets_lock:
            self._targets[plan.key] = targets

    def _fail(self, pod: Object, reason: str, message: str) -> None:
        self._write_status(pod, lambda p: pod_waiting(p, reason, message, self.clock()))

    # -- stopping, exits and restarts ----------------------------------------------------

    def _stop_pod(self, key: str) -> None:
        with self._targets_lock:
            self._targets.pop(key, None)
        self._uids.pop(key, None)
        self._restarts = [r for r in self._restarts if r.key != key]
        try:
            self.node.stop_pod(key)
        except SandboxError as exc:
            log.error("pod removal incomplete pod=%s error=%s", key, exc)
        log.info("pod stopped pod=%s", key)

    def _reap(self) -> None:
        for key, container, code in self.node.exited():
            pod = self._stored(key)
            if pod is None:
                continue
            reason = "Completed" if code == 0 else "Error"
            now = self.clock()
            change = partial(pod_terminated, exit_code=code, reason=reason, now=now)
            stored = self._write_status(pod, partial(change, container=container))
            policy = (pod.get("spec") or {}).get("restartPolicy", "Always")
            if policy == "Always" or (policy == "OnFailure" and code != 0):
                delay = self._backoff.get((key, container), 0.5) * 2
                self._backoff[(key, container)] = min(delay, MAX_BACKOFF)
                self._restarts.append(_Restart(key, container, time.monotonic() + delay))
                if stored is not None and delay > 1:
                    self._back_off(stored, container, delay, now)

    def _back_off(self, pod: Object, container: str, delay: float, now: datetime) -> None:
        """CrashLoopBackOff while a container that keeps exiting waits for its restart."""
        m = meta(pod)
        message = (
            f"back-off {delay:.0f}s restarting failed container={container} "
            f"pod={m['name']}_{m.get('namespace')}({m.get('uid')})"
        )
        self._write_status(pod, partial(_crash_loop, container=container, message=message, now=now))
        write_event(self.store, events.back_off(pod, container, now))

    def _restart_due(self) -> None:
        now = time.monotonic()
        due = [r for r in self._restarts if r.at <= now]
        self._restarts = [r for r in self._restarts if r.at > now]
        for r in due:
            pod = self._stored(r.key)
            if pod is None or r.key not in self.node.pods:
                continue
            waiting = self.node.restart(r.key, r.container)
            stamp = self.clock()
            change: Callable[[Object], Object]
            if waiting is None:
                change = partial(pod_restarted, started_at=stamp, container=r.container)
            else:
                change = partial(
                    pod_waiting,
                    reason=waiting.reason,
                    message=waiting.message,
                    now=stamp,
                    container=r.container,
                )
            self._write_status(pod, change)

    def _stored(self, key: str) -> Object | None:
        namespace, _, name = key.partition("/")
        try:
            return self.store.get("pods", namespace, name)
        except errors.NotFoundError:
            return None

    def _write_status(self, pod: Object, change: Callable[[Object], Object]) -> Object | None:
        """Change the stored pod's status (the same pod: same uid); None if it is gone."""
        m = meta(pod)
        uid = m.get("uid")

        def update(current: Object) -> Object:
            if meta(current).get("uid") != uid:
                raise errors.conflict("pods", "", m["name"])
            return {**current, "status": change(current).get("status", {})}

        try:
            return self.store.mutate("pods", str(m.get("namespace")), m["name"], update)
        except (errors.NotFoundError, errors.ConflictError):
            return None

    # -- PodRuntime ----------------------------------------------------------------------

    def check_container(self, namespace: str, pod: str, container: str) -> None:
        self._target(namespace, pod, container)

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> LocalProcess:
        return start_in_pod(self.exec_target(namespace, pod, container), request)

    def attach(
        self, namespace: str, pod: str, container: str, request: ExecRequest
    ) -> AttachProcess:
        """`kubectl attach` to the container's running process; raises PodLookupError."""
        self._target(namespace, pod, container)
        running = self.node.container_process(f"{namespace}/{pod}", container)
        if running is None or not running.running():
            raise PodLookupError(f"container {container} of pod {pod} is not running")
        return AttachProcess(running, request)

    def exec_target(self, namespace: str, pod: str, container: str | None) -> ExecTarget:
        """Where an exec in the container runs; raises PodLookupError."""
        return self._target(namespace, pod, container)[0]

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        return self._target(namespace, pod, container)[1]

    def _target(self, namespace: str, pod: str, container: str | None) -> tuple[ExecTarget, Path]:
        with self._targets_lock:
            targets = self._targets.get(f"{namespace}/{pod}")
        if targets is None:
            raise PodLookupError(f"pod {pod} is not running on this node")
        if container is None:
            return next(iter(targets.values()))
        found = targets.get(container)
        if found is None:
            raise PodLookupError(f"container {container} is not valid for pod {pod}")
        return found


def is_dns_pod(pod: Object) -> bool:
    m = meta(pod)
    labels = m.get("labels") or {}
    return m.get("namespace") == DNS_NAMESPACE and labels.get(DNS_LABEL[0]) == DNS_LABEL[1]


def _crash_loop(pod: Object, *, container: str, message: str, now: datetime) -> Object:
    """Waiting in CrashLoopBackOff, the exit it waits after kept in `lastState`."""
    last = {
        c["name"]: (c.get("state") or {}).get("terminated")
        for c in (pod.get("status") or {}).get("containerStatuses") or ()
    }.get(container)
    out = pod_waiting(pod, "CrashLoopBackOff", message, now, container=container)
    for entry in out["status"].get("containerStatuses") or ():
        if entry["name"] == container and last:
            entry["lastState"] = {"terminated": last}
    return out


def _tcp_ports(pod: Object) -> dict[str, tuple[int, ...]]:
    """Per container, the TCP `containerPort`s it declares."""
    out = {}
    for c in (pod.get("spec") or {}).get("containers") or ():
        ports = tuple(
            int(p["containerPort"])
            for p in c.get("ports") or ()
            if p.get("protocol", "TCP") == "TCP" and isinstance(p.get("containerPort"), int)
        )
        out[str(c.get("name"))] = ports
    return out


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {
        str(e["name"]): str(e.get("value") or "")
        for e in container.get("env") or ()
        if isinstance(e, dict) and e.get("name")
    }


def _pending(pod: Object, *, ip: ipaddress.IPv4Address, now: datetime) -> Object:
    """ContainerCreating, with the address the pod will have."""
    pod = pod_pending(pod, now)
    status = pod.setdefault("status", {})
    status["podIP"] = str(ip)
    status["podIPs"] = [{"ip": str(ip)}]
    return pod


def _previous_ip(pod: Object, subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address | None:
    text = (pod.get("status") or {}).get("podIP")
    try:
        ip = ipaddress.IPv4Address(str(text))
    except ValueError:
        return None
    return ip if ip in subnet and int(ip) - int(subnet.network_address) in range(2, 255) else None


def _allocatable(subnet: ipaddress.IPv4Network) -> list[ipaddress.IPv4Address]:
    base = subnet.network_address
    return [base + offset for offset in range(2, 255)]

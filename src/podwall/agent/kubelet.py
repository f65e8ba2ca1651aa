"""The kubelet of one sandbox node: the pods bound to it become networks and processes.

`podwall agent --sandbox` runs it beside the agent's enforcement. It talks to the API server
only over HTTP: its pods come from a watch restricted to its node (`podwatch.NodePods`, the
JSON of those few pods), statuses go back through the `pods/status` subresource (a PUT with
the resourceVersion read, retried on 409), Events are POSTed. A worker thread does all the
host work; the watch only wakes it, and bursts coalesce into one pass. A pass, in the order
that fails closed:

1. pods gone from the API (or replaced under the same name) are stopped, by pid, and their
   namespaces removed;
2. each new pod gets an address in the node's range (the one it had before a restart when
   still free), written to `status.podIP` first; a `hostNetwork` pod gets the node's address
   and runs in the node's namespace (`Node`), as on Kubernetes;
3. the pass waits until the node's ruleset, loaded by the agent's own sync loop (the same path
   as on a real cluster: watch cache → `Compiler(node)` → one nft batch), reflects those
   writes: a new pod is isolated before its network or its process exists. When that does not
   happen in time, no new pod starts in this pass;
4. the new pods' networks and containers start; status becomes Running and Ready, or waiting
   (`ImageNotSupported`, `RunContainerError`). A container that declares TCP containerPorts
   is reported running once it listens on them (checked on the pod's loopback, at most
   `READY_SECONDS`), so Ready means it answers;
5. containers that exited are reported `terminated` and restarted as `restartPolicy` says,
   with a doubling back-off.

Each pod gets its service account's token, the cluster's CA and its namespace mounted where
in-cluster clients read them, and the `kubernetes` Service's KUBERNETES_SERVICE_HOST/PORT
variables, as a kubelet gives them (`runtime.serviceaccount`); unless the pod (or its
service account's `automountServiceAccountToken`, not read here) says false. The token is the
pod's ServiceAccount's (`spec.serviceAccountName`, `default` when unset), bound to the pod,
from `credentials` (TokenRequest: `agent.tokens`), and rewritten in place before it expires.
A pod whose token the API server refuses (its ServiceAccount missing) does not start: a
`FailedMount` Event says why, as upstream's kubelet does, and it is asked again with a
doubling back-off.

Each pod's `spec.volumes` are made as the kubelet makes them (`podvolumes`: configMap, secret,
downwardAPI, projected, emptyDir, hostPath), written by the node and mounted by the pod's PID 1
where its containers' `volumeMounts` say. A pod whose ConfigMap or Secret is missing waits in
`ContainerCreating` with a `FailedMount` Event, and its sources are read again with a doubling
back-off, as for a missing environment source. A running pod's ConfigMaps and Secrets are read
again every `VOLUME_SYNC_SECONDS` and its files rewritten in place when they changed.

The DNS stand-in runs as the `kube-system` pod labelled `k8s-app=kube-dns`, reading the
records file the agent writes from the Services it watches (see `sandbox`), so it works on
whichever node it lands. For `kubectl exec` and `logs` each running pod is published on this
machine (`runtime.published`); the API server reads that (the sandbox's shortcut: a real
kubelet serves exec itself).

The pod status transitions and Event bodies are the pure functions of `podwall.controllers`,
the same the API server's controllers use.
"""

from __future__ import annotations

import base64
import ipaddress
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from podwall.agent import podenv, podvolumes
from podwall.agent.tokens import BoundPod, PodToken, TokenUnavailable
from podwall.clock import Clock, utc_now
from podwall.controllers import (
    Create,
    events,
    pod_pending,
    pod_restarted,
    pod_running,
    pod_terminated,
    pod_waiting,
    record,
)
from podwall.controllers.ephemeralstatus import (
    ephemeral_running,
    ephemeral_terminated,
    ephemeral_waiting,
)
from podwall.runtime import images, published, serviceaccount
from podwall.runtime.addressplan import allocatable
from podwall.runtime.console import Console
from podwall.runtime.consolerelay import ConsoleRelay
from podwall.runtime.errors import SandboxError
from podwall.runtime.node import ContainerPlan, Node, PodPlan
from podwall.runtime.podvolumes import PodVolumes
from podwall.runtime.procstat import start_stamp
from podwall.runtime.published import PublishedContainer, PublishedPod

log = logging.getLogger(__name__)

DNS_NAMESPACE = "kube-system"
DNS_LABEL = ("k8s-app", "kube-dns")
COALESCE_SECONDS = 0.005
POLL_SECONDS = 0.5
STARTING_POLL_SECONDS = 0.02
READY_SECONDS = 10.0
ENFORCE_SECONDS = 10.0
MAX_BACKOFF = 30.0
MAX_EVENTS = 1000  # Events remembered for counting repeats
Object = dict[str, Any]
Credentials = Callable[[BoundPod], PodToken]  # the pod's ServiceAccount token (TokenRequest)
TOKEN_VOLUME = "kube-api-access"  # the projected volume's name, as the kubelet reports it
TOKEN_RETRY_SECONDS = 1.0
VOLUME_SYNC_SECONDS = 5.0  # how often a running pod's ConfigMaps and Secrets are read again


def meta(obj: Object) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def _key(pod: Object) -> str:
    m = meta(pod)
    return f"{m.get('namespace')}/{m.get('name')}"


def resource_version(obj: Object) -> int:
    text = str(meta(obj).get("resourceVersion") or "")
    return int(text) if text.isdigit() else 0


class PodApi(Protocol):
    """What the kubelet asks of the API server (`api.HttpPodApi` over HTTP)."""

    def write_status(self, pod: Object, change: Callable[[Object], Object]) -> Object | None:
        """Change the pod's status (the same pod: same uid); the written pod, None if gone."""
        ...

    def get_pod(self, namespace: str, name: str) -> Object | None: ...

    def get_object(self, namespace: str, resource: str, name: str) -> Object | None:
        """A core/v1 object (`configmaps`, `secrets`); None if there is none."""
        ...

    def create_event(self, event: Object) -> Object: ...

    def update_event(self, event: Object) -> Object: ...


class PodSource(Protocol):
    """This node's pods as JSON, and a flag raised when they change."""

    changed: threading.Event

    def pods(self) -> list[Object]: ...

    def saw(self, pod: Object) -> None: ...


Enforced = Callable[[int, float], bool]  # (resourceVersion, timeout) -> whether it is enforced


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
    replan: bool = False  # its environment could not be made: read its sources again


@dataclass(frozen=True, slots=True)
class _Retry:
    uid: str  # of the pod refused a token (a new pod under the same name starts afresh)
    due: float
    delay: float


@dataclass(eq=False)
class Kubelet:
    """The pods of one node. `start()` once (after the ruleset's first sync), `stop()` at the
    end; `ready` is set once the pods bound to the node at start run."""

    api: PodApi
    source: PodSource
    node: Node
    node_name: str
    enforced: Enforced
    _: KW_ONLY
    publish_dir: Path | None = None
    clock: Clock = utc_now
    credentials: Credentials | None = None

    def __post_init__(self) -> None:
        self._uids: dict[str, str] = {}
        self._broken: dict[str, str] = {}  # key -> uid of a pod whose network failed
        self._restarts: list[_Restart] = []
        self._backoff: dict[tuple[str, str], float] = {}
        self._posted: dict[str, Object] = {}  # name -> the Event as last written
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._starting: dict[str, _Starting] = {}
        self._relays: dict[str, dict[str, ConsoleRelay]] = {}
        self._tokens: dict[str, tuple[BoundPod, float]] = {}  # key -> (bound pod, refresh at)
        self._token_retry: dict[str, _Retry] = {}  # key -> when a refused pod asks again
        self._ephemeral: dict[str, set[str]] = {}  # key -> its ephemeral containers started
        self._volumes_due: dict[str, float] = {}  # key -> when its volumes' objects are read
        self.ready = threading.Event()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Run this node's pods (ruleset first), then follow changes in a thread."""
        self.sync_pass()
        deadline = time.monotonic() + READY_SECONDS
        while self._starting and time.monotonic() < deadline:
            time.sleep(STARTING_POLL_SECONDS)
            self.sync_pass()
        self.ready.set()
        self._thread = threading.Thread(target=self._run, name="kubelet", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following, stop every pod (by pid), remove every namespace. Safe to call twice."""
        self._stopping.set()
        self.source.changed.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        for key in list(self.node.pods):
            self._unpublish(key)
        self.node.stop()

    def _run(self) -> None:
        wake = self.source.changed
        while not self._stopping.is_set():
            wake.wait(STARTING_POLL_SECONDS if self._starting else POLL_SECONDS)
            if self._stopping.is_set():
                return
            time.sleep(COALESCE_SECONDS)
            wake.clear()
            try:
                self.sync_pass()
            except Exception:
                log.exception("kubelet pass failed")

    # -- one pass ------------------------------------------------------------------------

    def sync_pass(self) -> None:
        """Bring the node in line with its pods once (see the module docstring)."""
        pods = [p for p in self.source.pods() if (p.get("spec") or {}).get("nodeName")]
        by_key = {_key(p): p for p in pods}
        for key in list(self.node.pods):
            pod = by_key.get(key)
            if pod is None or meta(pod).get("uid") != self._uids.get(key):
                self._stop_pod(key)
        for key in [k for k in self._token_retry if k not in by_key]:
            del self._token_retry[key]
        new = [p for p in pods if self._wanted(p)]
        accounts = self._fetch_tokens(new)
        plans = self._assign_addresses([p for p in new if _key(p) in accounts], accounts)
        if plans:
            newest = max(resource_version(p) for p, _ in plans)
            if not self.enforced(newest, ENFORCE_SECONDS):
                log.error(
                    "the ruleset does not reflect resourceVersion %d yet: %d new pod(s) wait "
                    "for the next pass",
                    newest,
                    len(plans),
                )
                self.source.changed.set()
                return
        for pod, plan in plans:
            self._start_pod(pod, plan)
        for key, pod in by_key.items():
            if key in self.node.pods and self._uids.get(key) == meta(pod).get("uid"):
                self._start_ephemeral(pod)
                self._follow_images(pod)
        self._check_starting()
        self._reap()
        self._restart_due()
        self._refresh_tokens()
        self._refresh_volumes(by_key)

    def _wanted(self, pod: Object) -> bool:
        key = _key(pod)
        if key in self.node.pods or self._broken.get(key) == meta(pod).get("uid"):
            return False
        if meta(pod).get("deletionTimestamp"):
            return False
        return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")

    # -- starting ------------------------------------------------------------------------

    def _assign_addresses(
        self, new: list[Object], accounts: dict[str, PodToken | None]
    ) -> list[tuple[Object, PodPlan]]:
        """An address per new pod, written to its status before anything else happens."""
        used = {pod.plan.ip for pod in self.node.pods.values()}
        wanted: dict[str, ipaddress.IPv4Address] = {}
        for pod in new:  # first, the addresses pods had before a restart
            previous = _previous_ip(pod, self.node.subnet)
            if previous is not None and previous not in used:
                wanted[_key(pod)] = previous
                used.add(previous)
        free = (ip for ip in allocatable(self.node.subnet) if ip not in used)
        plans = []
        for pod in new:
            if _host_network(pod):
                ip = self._host_address(pod)
            else:
                ip = wanted.get(_key(pod)) or next(free, None)
                if ip is None:
                    message = f"no free address in {self.node.subnet}"
                    self._fail(pod, "CreatePodSandboxError", message)
            if ip is None:
                continue
            host = str(self.node.address) if self.node.address is not None else None
            change = partial(_pending, ip=ip, host_ip=host, now=self.clock())
            written = self._write_status(pod, change)
            if written is not None:
                token = accounts.get(_key(pod))
                plans.append((written, self._plan(written, ip, token)))
        return plans

    def _host_address(self, pod: Object) -> ipaddress.IPv4Address | None:
        """The node's address, for a host-network pod; None (and the pod failed) without."""
        if self.node.address is None:
            message = f"hostNetwork needs the node's address: node {self.node_name} has none"
            self._broken[_key(pod)] = meta(pod).get("uid", "")
            self._fail(pod, "CreatePodSandboxError", message)
        return self.node.address

    def _plan(self, pod: Object, ip: ipaddress.IPv4Address, token: PodToken | None) -> PodPlan:
        m, spec = meta(pod), pod.get("spec") or {}
        lookup = self._lookup(str(m.get("namespace")))
        files = self._lookup(str(m.get("namespace")), files=True)
        volumes, blocked = self._pod_volumes(pod, files, token.files if token else None)
        containers = tuple(
            self._container_plan(pod, c, lookup, blocked) for c in spec.get("containers") or ()
        )
        run_as_user = (spec.get("securityContext") or {}).get("runAsUser")
        return PodPlan(
            namespace=str(m.get("namespace")),
            name=m["name"],
            ip=ip,
            containers=containers,
            run_as_user=run_as_user if type(run_as_user) is int else None,
            service_account=token.files if token is not None else None,
            volumes=volumes,
            host_network=_host_network(pod),
            node_hostname=self.node_name,
        )

    # -- service account tokens ------------------------------------------------------------

    def _bound(self, pod: Object) -> BoundPod | None:
        """Whom the pod's token is for; None when it gets none."""
        spec = pod.get("spec") or {}
        if self.credentials is None or spec.get("automountServiceAccountToken") is False:
            return None
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        m = meta(pod)
        return BoundPod(
            namespace=str(m.get("namespace")),
            name=str(m.get("name")),
            uid=str(m.get("uid") or ""),
            account=str(account),
        )

    def _fetch_tokens(self, new: list[Object]) -> dict[str, PodToken | None]:
        """The token of each new pod that needs one (None: it needs none); a pod refused one
        is left out, with a FailedMount Event, until its back-off has passed."""
        out: dict[str, PodToken | None] = {}
        now = time.monotonic()
        for pod in new:
            key, bound = _key(pod), self._bound(pod)
            if bound is None or self.credentials is None:
                out[key] = None
                continue
            retry = self._token_retry.get(key)
            if retry is not None and retry.uid == bound.uid and now < retry.due:
                continue
            try:
                token = self.credentials(bound)
            except TokenUnavailable as exc:
                delay = TOKEN_RETRY_SECONDS
                if retry is not None and retry.uid == bound.uid:
                    delay = min(MAX_BACKOFF, retry.delay * 2)
                self._token_retry[key] = _Retry(bound.uid, now + delay, delay)
                log.warning("no token pod=%s error=%s", key, exc)
                message = f"failed to fetch token: {exc}"
                self._record(events.failed_mount(pod, TOKEN_VOLUME, message, self.clock()))
                continue
            self._token_retry.pop(key, None)
            self._tokens[key] = (bound, token.refresh_at)
            out[key] = token
        return out

    def _refresh_tokens(self) -> None:
        """Rewrite the token of each running pod whose token is due (80 % of its life)."""
        now = time.monotonic()
        for key, (bound, due) in list(self._tokens.items()):
            running = self.node.pods.get(key)
            if running is None or self._uids.get(key) != bound.uid:
                del self._tokens[key]
                continue
            if now < due or self.credentials is None:
                continue
            try:
                token = self.credentials(bound)
            except TokenUnavailable as exc:
                log.warning("token not refreshed pod=%s error=%s", key, exc)
                self._tokens[key] = (bound, now + TOKEN_RETRY_SECONDS * 10)
                continue
            serviceaccount.write(running.netns, token.files)
            running.plan = replace(running.plan, service_account=token.files)  # projected too
            self._tokens[key] = (bound, token.refresh_at)
            log.info("token refreshed pod=%s", key)

    def _pod_volumes(
        self,
        pod: Object,
        lookup: podenv.Lookup,
        account: serviceaccount.ServiceAccountFiles | None,
    ) -> tuple[PodVolumes | None, images.Waiting | None]:
        """The pod's volumes; or, when they cannot be made, why its containers wait (with a
        FailedMount Event when an object they need is missing, as the kubelet says)."""
        try:
            made = podvolumes.pod_volumes(pod, lookup, account.token if account else None)
        except podvolumes.VolumeError as exc:
            log.warning("volumes not made pod=%s error=%s", _key(pod), exc)
            if exc.reason != podvolumes.FAILED_MOUNT:
                return None, images.Waiting(CONFIG_ERROR, str(exc))
            self._record(events.failed_mount(pod, exc.volume, str(exc), self.clock()))
            message = f'MountVolume.SetUp failed for volume "{exc.volume}" : {exc}'
            return None, images.Waiting(MOUNT_WAIT, message)
        if made.skipped:
            log.warning("volumes not served pod=%s volumes=%s", _key(pod), made.skipped)
        return (made.volumes if made.volumes.volumes else None), None  # none: nothing written

    def _refresh_volumes(self, by_key: dict[str, Object]) -> None:
        """Every `VOLUME_SYNC_SECONDS`, read again the ConfigMaps and Secrets of each running
        pod's volumes, and rewrite its files when they changed (as the kubelet's periodic
        sync does); a source gone or unreadable leaves the files as they were."""
        now = time.monotonic()
        for key in [k for k in self._volumes_due if k not in self.node.pods]:
            del self._volumes_due[key]
        lookups: dict[str, podenv.Lookup] = {}  # per namespace: each object read once a pass
        for key, running in self.node.pods.items():
            pod, volumes = by_key.get(key), running.plan.volumes
            if pod is None or volumes is None or now < self._volumes_due.get(key, 0.0):
                continue
            if not any(v.kind == "files" for v in volumes.volumes):
                continue
            self._volumes_due[key] = now + VOLUME_SYNC_SECONDS
            account = running.plan.service_account
            namespace = running.plan.namespace
            lookup = lookups.setdefault(namespace, self._lookup(namespace, files=True))
            try:
                made = podvolumes.pod_volumes(pod, lookup, account.token if account else None)
            except podvolumes.VolumeError as exc:
                log.info("volumes not refreshed pod=%s error=%s", key, exc)
                continue
            if made.volumes.volumes != volumes.volumes:
                fresh = PodVolumes(made.volumes.volumes, volumes.mounts)
                rewritten = self.node.update_volumes(key, fresh)
                log.info("volumes refreshed pod=%s volumes=%s", key, rewritten)

    def _container_plan(
        self,
        pod: Object,
        c: dict[str, Any],
        lookup: podenv.Lookup,
        blocked: images.Waiting | None = None,
    ) -> ContainerPlan:
        launch: images.Launch | images.Waiting
        try:
            env = podenv.environment(pod, c, serviceaccount.environment(), lookup)
            launch = self._launch(pod, c, env) if blocked is None else blocked
        except podenv.EnvError as exc:
            env, launch = {}, images.Waiting(CONFIG_ERROR, str(exc))
        return ContainerPlan(
            name=str(c.get("name")),
            image=str(c.get("image") or ""),
            env=env,
            launch=launch,
            stdin=c.get("stdin") is True,
            stdin_once=c.get("stdinOnce") is True,
            tty=c.get("tty") is True,
        )

    def _lookup(self, namespace: str, *, files: bool = False) -> podenv.Lookup:
        """The ConfigMaps and Secrets a pod's containers read, each asked for once; for
        volume `files`, with their bytes exact (`_data`)."""
        found: dict[tuple[str, str], dict[str, str] | None] = {}

        def lookup(kind: str, name: str) -> dict[str, str] | None:
            if (kind, name) not in found:
                obj = self.api.get_object(namespace, _ENV_SOURCES[kind], name)
                found[kind, name] = None if obj is None else _data(kind, obj, files=files)
            return found[kind, name]

        return lookup

    def _launch(
        self, pod: Object, container: dict[str, Any], env: dict[str, str]
    ) -> images.Launch | images.Waiting:
        if is_dns_pod(pod) and "coredns" in str(container.get("image") or ""):
            return images.dns_launch(str(self.node.records_path))
        spec = images.ContainerSpec(
            image=str(container.get("image") or ""),
            # The kubelet expands $(VAR) in command and args with the container's environment.
            command=tuple(podenv.expand(str(a), env) for a in container.get("command") or ()),
            args=tuple(podenv.expand(str(a), env) for a in container.get("args") or ()),
            env=env,
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
        for name, waiting in results.items():
            if waiting is not None and waiting.reason in RETRIED:
                self._replan_later(key, name)
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

    def _start_ephemeral(self, pod: Object) -> None:
        """Start the pod's ephemeral containers not started yet (`kubectl debug`), each once,
        in the pod's namespaces as `kubectl exec` joins them: the same network (so the
        policies that select the pod apply to it), PID, UTS and IPC namespaces. Kubernetes
        shares the target's process namespace for `targetContainerName`; a podwall pod's
        containers share one PID namespace already, so every target is seen."""
        key = _key(pod)
        started = self._ephemeral.setdefault(key, set())
        specs = (pod.get("spec") or {}).get("ephemeralContainers") or ()
        new = [c for c in specs if str(c.get("name")) not in started]
        if not new:
            return
        running = self.node.pods[key]
        lookup = self._lookup(running.plan.namespace)
        for c in new:
            name = str(c.get("name"))
            started.add(name)
            plan = self._container_plan(pod, c, lookup)
            running.plan = replace(running.plan, containers=(*running.plan.containers, plan))
            waiting = self.node.restart(key, name)
            now = self.clock()
            change: Callable[[Object], Object]
            if waiting is None:
                self._publish(running.plan)
                self._record_started(pod, plan, now)
                change = partial(ephemeral_running, name=name, started_at=now)
            else:
                self._record(events.failed(pod, name, f"Error: {_said(waiting)}", now))
                change = partial(
                    ephemeral_waiting, name=name, reason=waiting.reason, message=waiting.message
                )
            log.info("ephemeral container pod=%s container=%s waiting=%s", key, name, waiting)
            self._write_status(pod, change)

    def _follow_images(self, pod: Object) -> None:
        """Restart each container whose image the pod's spec changed (`kubectl set image`,
        the one change to a container an update may make), as the kubelet does: Killing
        (`definition changed`), then the container again with the new image, its
        restartCount one more and the exit it was stopped with in lastState."""
        key = _key(pod)
        running = self.node.pods[key]
        images_now = {c.name: c.image for c in running.plan.containers}
        for c in (pod.get("spec") or {}).get("containers") or ():
            name, image = str(c.get("name")), str(c.get("image") or "")
            if images_now.get(name, image) == image:
                continue
            now = self.clock()
            self._record(events.killing(pod, name, now, changed=True))
            code = self.node.stop_container(key, name)
            self._restarts = [r for r in self._restarts if (r.key, r.container) != (key, name)]
            self._backoff.pop((key, name), None)
            self._replan(pod, key, name)
            waiting = self.node.restart(key, name)
            self._publish(running.plan)
            stamp = self.clock()
            change = partial(_replaced, exit_code=code, now=stamp, container=name)
            if waiting is None:
                self._record_started(pod, next(p for p in running.plan.containers
                                               if p.name == name), stamp)  # fmt: skip
            else:
                change = partial(pod_waiting, reason=waiting.reason, message=waiting.message,
                                 now=stamp, container=name)  # fmt: skip
            log.info("container image changed pod=%s container=%s image=%s", key, name, image)
            self._write_status(pod, change)

    def _record_started(self, pod: Object, c: ContainerPlan, now: datetime) -> None:
        moments = (now + timedelta(microseconds=i) for i in itertools.count())
        for event in (
            events.pulled(pod, c.name, c.image, next(moments)),
            events.created(pod, c.name, next(moments)),
            events.started(pod, c.name, next(moments)),
        ):
            self._record(event)

    def _events(
        self,
        pod: Object,
        plan: PodPlan,
        results: dict[str, images.Waiting | None],
        now: datetime,
    ) -> None:
        """What `kubectl describe pod` lists: Scheduled, then per container Pulled, Created,
        Started, or Failed with the reason."""
        # A microsecond apart, as if made one after another: an Event's name carries its time,
        # and describe and `get events` list events of one second in name order.
        moments = (now + timedelta(microseconds=i) for i in itertools.count())
        out = [events.scheduled(pod, self.node_name, next(moments))]
        for c in plan.containers:
            waiting = results.get(c.name)
            if waiting is not None and waiting.reason == MOUNT_WAIT:
                continue  # its FailedMount Event is recorded
            if waiting is None:
                out += [
                    events.pulled(pod, c.name, c.image, next(moments)),
                    events.created(pod, c.name, next(moments)),
                    events.started(pod, c.name, next(moments)),
                ]
            else:
                out.append(events.failed(pod, c.name, f"Error: {_said(waiting)}", next(moments)))
        for event in out:
            self._record(event)

    def _record(self, event: Object) -> None:
        """Create the Event, or count it on the one of this node it repeats."""
        action = record(event, self._posted.values())
        try:
            if isinstance(action, Create):
                written = self.api.create_event(action.obj)
            else:
                written = self.api.update_event(action.obj)
        except Exception as exc:  # an Event lost is not worth a pod
            log.warning("event not recorded reason=%s error=%s", event.get("reason"), exc)
            return
        self._posted[meta(written)["name"]] = written
        while len(self._posted) > MAX_EVENTS:
            del self._posted[next(iter(self._posted))]

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
        """What `kubectl exec`, `logs` and `attach` need of the pod, for the API server (and
        a relay for each container's console)."""
        if self.publish_dir is None:
            return
        running = self.node.pods.get(plan.key)
        if running is None:
            return
        relays = self._relays.setdefault(plan.key, {})
        containers = {}
        for c in plan.containers:
            process = running.processes.get(c.name)
            console = ""
            if process is not None and process.console is not None:
                console = published.console_name(plan.namespace, plan.name, c.name)
                if c.name not in relays:
                    relays[c.name] = ConsoleRelay(
                        published.console_dir(self.publish_dir),
                        console,
                        partial(self._console, plan.key, c.name),
                    )
            pid = process.pid if process is not None else 0
            containers[c.name] = PublishedContainer(
                image=c.image,
                env=c.env,
                log_path=str(running.log_dir / f"{c.name}.log"),
                pid=pid,
                started=start_stamp(pid) if pid else "",
                console=console,
                tty=c.tty,
                stdin_once=c.stdin_once,
            )
        pod = PublishedPod(netns=running.netns, hostname=plan.hostname, containers=containers)
        published.write(self.publish_dir, plan.namespace, plan.name, pod)

    def _console(self, key: str, container: str) -> Console | None:
        process = self.node.container_process(key, container)
        return process.console if process is not None else None

    def _unpublish(self, key: str) -> None:
        for relay in self._relays.pop(key, {}).values():
            relay.close()
        if self.publish_dir is not None:
            namespace, _, name = key.partition("/")
            published.remove(self.publish_dir, namespace, name)

    def _fail(self, pod: Object, reason: str, message: str) -> None:
        self._write_status(pod, lambda p: pod_waiting(p, reason, message, self.clock()))

    # -- stopping, exits and restarts ----------------------------------------------------

    def _stop_pod(self, key: str) -> None:
        self._unpublish(key)
        self._uids.pop(key, None)
        self._starting.pop(key, None)
        self._ephemeral.pop(key, None)
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
            if container in self._ephemeral.get(key, ()):  # never restarted
                now = self.clock()
                change = partial(ephemeral_terminated, name=container, exit_code=code, now=now)
                self._write_status(pod, change)
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
        self._record(events.back_off(pod, container, now))

    def _restart_due(self) -> None:
        now = time.monotonic()
        due = [r for r in self._restarts if r.at <= now]
        self._restarts = [r for r in self._restarts if r.at > now]
        for r in due:
            pod = self._stored(r.key)
            if pod is None or r.key not in self.node.pods:
                continue
            if r.replan:
                self._replan(pod, r.key, r.container)
            waiting = self.node.restart(r.key, r.container)
            if waiting is not None and waiting.reason in RETRIED:
                self._replan_later(r.key, r.container)
            running = self.node.pods.get(r.key)
            if running is not None:
                self._publish(running.plan)  # its process, and console, are new
            stamp = self.clock()
            change: Callable[[Object], Object]
            if waiting is None and r.replan and running is not None:  # its first start
                change = partial(
                    pod_running,
                    pod_ip=str(running.plan.ip),
                    started_at=stamp,
                    container=r.container,
                )
            elif waiting is None:
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

    def _replan_later(self, key: str, container: str) -> None:
        """Try a container whose ConfigMap or Secret was missing again, backing off."""
        delay = self._backoff.get((key, container), 0.5) * 2
        self._backoff[(key, container)] = min(delay, MAX_BACKOFF)
        self._restarts.append(_Restart(key, container, time.monotonic() + delay, replan=True))

    def _replan(self, pod: Object, key: str, container: str) -> None:
        running = self.node.pods[key]
        spec = next(
            (
                c
                for c in (pod.get("spec") or {}).get("containers") or ()
                if c.get("name") == container
            ),
            None,
        )
        if spec is None:
            return
        lookup = self._lookup(running.plan.namespace)
        files = self._lookup(running.plan.namespace, files=True)
        volumes, blocked = self._pod_volumes(pod, files, running.plan.service_account)
        fresh = self._container_plan(pod, spec, lookup, blocked)
        containers = tuple(fresh if c.name == container else c for c in running.plan.containers)
        # Volumes count only for a pod whose PID 1 has not started (none of its containers).
        volumes = volumes if volumes is not None else running.plan.volumes
        running.plan = replace(running.plan, containers=containers, volumes=volumes)

    def _stored(self, key: str) -> Object | None:
        namespace, _, name = key.partition("/")
        return self.api.get_pod(namespace, name)

    def _write_status(self, pod: Object, change: Callable[[Object], Object]) -> Object | None:
        """Change the pod's status through the API; the written pod, None if it is gone."""
        try:
            written = self.api.write_status(pod, change)
        except Exception as exc:  # the API server is away: the next pass tries again
            log.warning("status not written pod=%s error=%s", _key(pod), exc)
            return None
        if written is not None:
            self.source.saw(written)
        return written


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


def _replaced(pod: Object, *, exit_code: int | None, now: datetime, container: str) -> Object:
    """Stopped for its new image, and started again: the stop in lastState, one restart more."""
    code = 137 if exit_code is None else exit_code
    reason = "Completed" if code == 0 else "Error"
    stopped = pod_terminated(pod, code, reason, now, container=container)
    return pod_restarted(stopped, now, container=container)


def _host_network(pod: Object) -> bool:
    return (pod.get("spec") or {}).get("hostNetwork") is True


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


_ENV_SOURCES = {"ConfigMap": "configmaps", "Secret": "secrets"}
CONFIG_ERROR = "CreateContainerConfigError"
MOUNT_WAIT = "ContainerCreating"  # as upstream's pod waits while a volume cannot be mounted
RETRIED = (CONFIG_ERROR, MOUNT_WAIT)  # their sources are read again, backing off


def _said(waiting: images.Waiting) -> str:
    """What a Failed Event says after `Error: `: for a config error, what is missing, and for
    a container that could not start, why (a volume that could not be mounted, say), as the
    kubelet's do; else the reason."""
    told = waiting.reason in (CONFIG_ERROR, images.RUN_ERROR)
    return waiting.message if told else waiting.reason


def _data(kind: str, obj: Object, *, files: bool = False) -> dict[str, str]:
    """A ConfigMap's `data`; a Secret's, decoded (undecodable bytes replaced). For volume
    `files`, bytes are kept exact (as `surrogateescape` strings: `podvolumes` encodes them
    back) and a ConfigMap's `binaryData` counts too."""
    errors = "surrogateescape" if files else "replace"
    data = obj.get("data") or {}
    if kind == "Secret":
        return {str(k): base64.b64decode(str(v)).decode(errors=errors) for k, v in data.items()}
    out = {str(k): str(v) for k, v in data.items()}
    if files:
        binary = obj.get("binaryData") or {}
        out |= {str(k): base64.b64decode(str(v)).decode(errors=errors) for k, v in binary.items()}
    return out


def _pending(
    pod: Object, *, ip: ipaddress.IPv4Address, host_ip: str | None, now: datetime
) -> Object:
    """ContainerCreating, with the address the pod will have (and its node's)."""
    pod = pod_pending(pod, now, host_ip=host_ip)
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

"""`podwall up`: the API server with its controllers and scheduler, and N node agents.

The API server's process runs no pods and does no node work: as on a real cluster, each node
is its own process, `podwall agent --sandbox` (see `podwall.agent.sandbox`), connecting over
HTTPS with its own credentials (`credentials`). Nodes are named `node-1` … `node-N`; node i
(0-based index) owns the pod range 198.18.<i>.0/24 and the address 198.18.255.<i + 1> on the
fabric that routes between them (`runtime.addressplan`).

Start order (each step needs the one before):

1. what an earlier run left is cleared: its agents (by pid, `agents.stop_leftovers`), then
   every process in the cluster's namespaces and the namespaces themselves;
2. `Server.bind()`: state directory, credentials (the nodes' tokens included), the store, the
   bootstrap objects and the `podwall-system` namespace of the agents' Leases; every stored
   Node is marked not Ready until its agent says otherwise;
3. mutating admission with the scheduler (`apiserver.scheduler`), the controllers
   (`reconciler`), whose start-up pass goes over what is stored (Deployments stored before a
   restart have their pods again), and cluster DNS: the `kube-dns` Service (198.19.0.10) and
   the `coredns` Deployment in `kube-system`, created when missing; the controllers are
   waited for, so the nodes start with every pod the store should hold;
4. serving HTTPS, then each node's kubeconfig; `start` returns when every node is Ready (its
   ruleset loaded, then its stored pods running) and the DNS pod too.

The agents are started first of all, right after step 1 with the fabric namespace: importing
an agent takes longer than the server's start, and each waits for its kubeconfig.

Pods reach the API server as on a real cluster, through the `kubernetes` Service
(198.19.0.1:443, `kubernetes.default.svc`): the server also listens on the fabric's address,
198.18.255.254:6443 (as a control plane listens on its address on the nodes' network), the
Service's EndpointSlice names that address, and each node's DNAT sends the ClusterIP there.
The fabric's socket is opened inside its namespace, so nothing listens outside the sandbox.

`exec` and `logs` reach pods through `SandboxPods`, reading what the agents publish on this
machine (the sandbox's shortcut for the kubelet's own exec). A dead agent is restarted by the
supervisor (`agents`). `stop()` undoes it in reverse and leaves no process or namespace
behind. Files in the state directory stay (the store survives `stop()`; `remove_state()`
deletes what `up` wrote).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from podwall.apiserver import admission
from podwall.apiserver.errors import AlreadyExistsError, ApiError
from podwall.apiserver.mutating import Admission
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_key
from podwall.apiserver.sandboxpods import SandboxPods
from podwall.apiserver.scheduler import Scheduler, node_ready
from podwall.apiserver.server import Advertise, Server, listening_socket
from podwall.apiserver.store import Object, Store
from podwall.apiserver.tls import ensure_certificates
from podwall.cluster import credentials
from podwall.cluster.agents import NODES_DIR, Agents, AgentSpec, stop_leftovers
from podwall.controllers import kube_dns_service
from podwall.controllers.meta import rfc3339
from podwall.errors import PodwallError
from podwall.runtime import names
from podwall.runtime.addressplan import FABRIC_ADDRESS, MAX_NODES
from podwall.runtime.namespaces import run_in_netns
from podwall.runtime.node import Node
from podwall.runtime.underlay import Underlay

log = logging.getLogger(__name__)

RUN_ROOT = Path("/run/podwall")
DNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"
AGENT_NAMESPACE = "podwall-system"
READY_SECONDS = 60.0
STARTUP_SECONDS = 30.0  # the controllers' start-up pass over what is stored
ADVERTISE_PORT = 6443  # the API server's port on the fabric, whatever its loopback port
STATE_FILES = (
    "state.db",
    "state.db-wal",
    "state.db-shm",
    "ca.crt",
    "ca.key",
    "server.crt",
    "server.key",
    "token",
    "tokens.csv",
    "sa.key",  # signs ServiceAccount tokens (apiserver/serviceaccounttokens.py)
    "kubeconfig",
    "cluster-id",
    "podwall.pid",
    "podwall.log",
    "ready",
)


class NodesNotReady(PodwallError):
    """A node of the cluster did not get ready; the message names it and its agent's log."""


def node_names(count: int) -> list[str]:
    """`node-1` … `node-N`, as `podwall probe --nodes` names them."""
    if not 1 <= count <= MAX_NODES:
        raise ValueError(f"--nodes must be 1 to {MAX_NODES}, not {count}")
    return [f"node-{i + 1}" for i in range(count)]


def cluster_id(state_dir: Path) -> str:
    """This state directory's cluster id (names its namespaces), made on first use."""
    path = state_dir / "cluster-id"
    if path.exists():
        return names.check_cluster_id(path.read_text().strip())
    state_dir.mkdir(parents=True, exist_ok=True)
    new = names.random_cluster_id()
    path.write_text(new + "\n")
    return new


def coredns_deployment() -> dict[str, object]:
    """The cluster DNS Deployment: one replica of the DNS stand-in, as kubeadm names it."""
    labels = {"k8s-app": "kube-dns"}
    ports = [
        {"name": "dns", "containerPort": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
    ]  # no metrics port: the DNS stand-in serves none, and ready means listening
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "dnsPolicy": "Default",
                    "containers": [{"name": "coredns", "image": DNS_IMAGE, "ports": ports}],
                },
            },
        },
    }


def _create_missing(store: Store, key: str, obj: dict[str, object]) -> None:
    resource = by_key(key)
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    with contextlib.suppress(AlreadyExistsError):
        store.create(key, obj)


def ensure_cluster_dns(store: Store) -> None:
    """Create the kube-dns Service and the coredns Deployment unless they exist."""
    _create_missing(store, "services", kube_dns_service())
    _create_missing(store, "deployments.apps", coredns_deployment())


def ensure_agent_namespace(store: Store) -> None:
    """The namespace of the agents' Leases (deploy/namespace.yaml on a real cluster)."""
    namespace: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": AGENT_NAMESPACE},
    }
    _create_missing(store, "namespaces", namespace)


def mark_not_ready(store: Store, message: str, name: str | None = None) -> None:
    """Every stored Node's (or node `name`'s) Ready condition Unknown, as the node lifecycle
    controller sets it when a node stops posting: until its agent runs again, no pod is
    placed there."""
    nodes, _ = store.list("nodes", None, lambda n: name is None or n["metadata"]["name"] == name)
    now = rfc3339_now()
    for node in nodes:

        def unknown(current: Object) -> Object:
            status = current.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or () if c.get("type") != "Ready"]
            conditions.append(
                {
                    "type": "Ready",
                    "status": "Unknown",
                    "reason": "NodeStatusUnknown",
                    "message": message,
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": now,
                }
            )
            status["conditions"] = conditions
            return current

        with contextlib.suppress(ApiError):
            store.mutate("nodes", "", node["metadata"]["name"], unknown)


def mark_pods_not_ready(store: Store, node: str) -> None:
    """The Ready and ContainersReady conditions of the node's pods False (MarkPodsNotReady)."""
    pods, _ = store.list("pods", None, lambda p: (p.get("spec") or {}).get("nodeName") == node)
    now = rfc3339_now()

    def not_ready(current: Object) -> Object:
        for condition in (current.get("status") or {}).get("conditions") or ():
            if condition.get("type") in ("Ready", "ContainersReady"):
                if condition.get("status") != "False":
                    condition["lastTransitionTime"] = now
                condition["status"] = "False"
        return current

    for pod in pods:
        meta = pod["metadata"]
        with contextlib.suppress(ApiError):
            store.mutate("pods", meta["namespace"], meta["name"], not_ready)


def rfc3339_now() -> str:
    return rfc3339(datetime.now(UTC))


def advertise(fabric: str) -> Advertise:
    """The API server's address on the fabric namespace `fabric`, where pods reach it."""

    def listen() -> socket.socket:
        def bind() -> socket.socket:
            sock = listening_socket()
            try:
                sock.bind((str(FABRIC_ADDRESS), ADVERTISE_PORT))
                sock.listen(512)
            except OSError:
                sock.close()
                raise
            return sock

        return run_in_netns(fabric, bind)

    return Advertise(str(FABRIC_ADDRESS), ADVERTISE_PORT, listen)


def sweep(cluster: str, state_dir: Path, run_dir: Path) -> list[str]:
    """Kill every process in the cluster's namespaces and remove them (after `kill -9`)."""
    node = Node(cluster, run_dir=run_dir, log_dir=state_dir / "pods")
    return node.adopt_leftovers()


class LocalCluster:
    """Everything `podwall up` runs. `start()`, then `stop()` (also after a failed start)."""

    def __init__(
        self,
        state_dir: Path,
        port: int = 6443,
        *,
        nodes: int = 1,
        run_root: Path = RUN_ROOT,
        ready_seconds: float = READY_SECONDS,
    ) -> None:
        self.state_dir = Path(state_dir).absolute()
        self.cluster_id = cluster_id(self.state_dir)
        self.node_names = node_names(nodes)
        self.run_dir = run_root / self.cluster_id
        self.pods = SandboxPods(None, self.run_dir)
        self.underlay = Underlay(self.cluster_id)
        self.server = self._new_server(port)
        self.ready_seconds = ready_seconds
        self.scheduler: Scheduler | None = None
        self.admission: Admission | None = None
        self.reconciler: Reconciler | None = None
        self.agents: Agents | None = None
        self._stopped = threading.Event()

    @property
    def store(self) -> Store:
        assert self.server.store is not None, "start() first"
        return self.server.store

    def start(self) -> None:
        started = time.monotonic()
        for pid in stop_leftovers(self.state_dir):
            log.info("stopped a leftover agent pid=%d", pid)
        for name in sweep(self.cluster_id, self.state_dir, self.run_dir):
            log.info("removed leftover namespace %s", name)
        tokens = credentials.ensure_tokens(self.state_dir, self.node_names)
        configs = credentials.remove_kubeconfigs(self.state_dir, self.node_names)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.run_dir.chmod(0o755)  # the DNS stand-in, as the pod's uid, reads its node's records
        self.underlay.create()
        # The agents start now: their imports take longer than the server's start, and each
        # waits for its kubeconfig, written once the server serves.
        specs = [self._spec(i, n, configs[n]) for i, n in self._nodes()]
        self.agents = Agents(self.state_dir, specs, on_exit=self._lost)
        self.agents.start()
        self._serve(mark=True)
        ca = ensure_certificates(self.state_dir).ca_pem()
        credentials.write_kubeconfigs(self.state_dir, self.server.url, ca, tokens)
        self.wait_ready(self.ready_seconds)
        log.info(
            "cluster ready id=%s url=%s nodes=%d in %.2fs",
            self.cluster_id, self.server.url, len(self.node_names), time.monotonic() - started,
        )  # fmt: skip

    def _lost(self, node: str) -> None:
        """An agent died: its Node is NotReady (Unknown) and its pods not Ready until the
        replacement runs them again, as the node lifecycle controller marks them, so the
        Services' endpoints leave them and nothing is placed there meanwhile."""
        if not self.store_open():
            return
        message = f"the agent of {node} exited; podwall up restarts it"
        mark_not_ready(self.store, message, node)
        mark_pods_not_ready(self.store, node)

    def _serve(self, *, mark: bool) -> None:
        """Bind, install admission, controllers and scheduler on the store, then serve."""
        self.server.bind()
        self.pods.store = self.store
        ensure_agent_namespace(self.store)
        if mark:
            mark_not_ready(self.store, "podwall up is starting the node's agent")
        self.scheduler = Scheduler(self.store)
        self.admission = Admission(self.store, scheduler=self.scheduler)
        self.admission.install()
        self.reconciler = Reconciler(self.store)
        self.reconciler.install()
        ensure_cluster_dns(self.store)
        self.scheduler.install()
        if not self.reconciler.wait_idle(STARTUP_SECONDS):
            log.warning("controllers still busy after %.0fs; serving", STARTUP_SECONDS)
        self.server.start()

    def restart_server(self) -> None:
        """Stop the API server's part alone (serving, controllers, the store) and start it
        again on the same port and state, as a crashed API server comes back under its
        supervisor: the agents meanwhile keep enforcing what they had, and reconnect."""
        port = self.server.port
        self._stop_server()
        self.server = self._new_server(port)
        self._serve(mark=False)

    def _new_server(self, port: int) -> Server:
        return Server(
            self.state_dir, port, runtime=self.pods, advertise=advertise(self.underlay.netns)
        )

    def _stop_server(self) -> None:
        if self.store_open():
            self.store.close_watches()
        for part in (self.scheduler, self.reconciler, self.admission):
            if part is not None:
                part.remove()
        self.server.stop()
        self.pods.store = None

    def _nodes(self) -> list[tuple[int, str]]:
        return list(enumerate(self.node_names))

    def _spec(self, index: int, node: str, config: Path) -> AgentSpec:
        return AgentSpec(
            node=node,
            cluster_id=self.cluster_id,
            index=index,
            kubeconfig=config,
            run_dir=self.run_dir / node,
            log_dir=self.state_dir / "pods",
            lease_namespace=AGENT_NAMESPACE,
            cluster_pid=os.getpid(),
        )

    def wait_ready(self, timeout: float) -> None:
        """Until every node is Ready and the cluster DNS pod runs; NodesNotReady after
        `timeout`, naming the nodes that are not and where their logs are."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = self.not_ready()
            if not waiting:
                return
            if time.monotonic() > deadline or self._stopped.is_set():
                assert self.agents is not None
                logs = ", ".join(f"{n}: {self.agents.log_path(n)}" for n in waiting if n)
                what = ", ".join(w or "cluster DNS" for w in waiting)
                raise NodesNotReady(
                    f"not ready within {timeout:.0f}s: {what}"
                    + (f" (agent logs: {logs})" if logs else "")
                )
            time.sleep(0.02)

    def not_ready(self) -> list[str]:
        """The nodes not Ready yet ("" for the cluster DNS pod when it does not run)."""
        nodes, _ = self.store.list("nodes")
        ready = {n["metadata"]["name"] for n in nodes if node_ready(n)}
        out = [n for n in self.node_names if n not in ready]
        dns, _ = self.store.list(
            "pods",
            "kube-system",
            lambda p: p["metadata"].get("labels", {}).get("k8s-app") == "kube-dns",
        )
        if not any(_pod_ready(p) for p in dns):
            out.append("")
        return out

    def stop(self) -> None:
        """Stop the agents (each removes its node), then serving, the fabric, the store."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.agents is not None:
            try:
                self.agents.stop()
            except Exception:
                log.exception("stopping the agents")
        self._stop_server()
        try:
            sweep(self.cluster_id, self.state_dir, self.run_dir)  # what a killed agent left
        except Exception:
            log.exception("removing what the nodes left")
        shutil.rmtree(self.run_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.run_dir.parent.rmdir()  # /run/podwall, when no other cluster uses it

    def store_open(self) -> bool:
        return self.server.store is not None

    def remove_state(self) -> list[Path]:
        """Delete the files `up` wrote in the state directory (call after `stop()`)."""
        return remove_state(self.state_dir)


def _pod_ready(pod: Object) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or ()
    )


def remove_state(state_dir: Path) -> list[Path]:
    """Delete the files a cluster wrote in `state_dir`, and the directory if then empty."""
    removed = []
    for name in STATE_FILES:
        path = state_dir / name
        if path.exists():
            path.unlink()
            removed.append(path)
    shutil.rmtree(state_dir / "pods", ignore_errors=True)
    shutil.rmtree(state_dir / NODES_DIR, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(state_dir)
    return removed

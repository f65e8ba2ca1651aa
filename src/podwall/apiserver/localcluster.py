"""`podwall up` in one process: the API server, the controllers and the node, over one store.

Start order (each step needs the one before):

1. `Server.bind()`: state directory, credentials, the store, the bootstrap objects;
2. mutating admission (`mutating`) and the controllers (`reconciler`), whose start-up pass
   goes over what is stored: Deployments stored before a restart have their pods again;
3. cluster DNS: the `kube-dns` Service (198.19.0.10) and the `coredns` Deployment in
   `kube-system`, created when missing; then the controllers are waited for, so the node
   starts with every pod the store should hold;
4. the kubelet: the node namespace, the ruleset synced from the store, then every pod;
5. serving HTTPS; `LocalCluster` is the server's PodRuntime (`exec`, `logs`), handing each
   request to the kubelet.

`stop()` undoes it in reverse, and leaves no process or namespace behind. Files in the state
directory stay (the store survives `stop()`; `remove_state()` deletes what `up` wrote).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
from pathlib import Path

from podwall.apiserver import admission
from podwall.apiserver.controllers import kube_dns_service
from podwall.apiserver.errors import AlreadyExistsError
from podwall.apiserver.kubelet import Kubelet
from podwall.apiserver.mutating import Admission
from podwall.apiserver.podruntime import ExecProcess, ExecRequest, PodLookupError
from podwall.apiserver.reconciler import Reconciler
from podwall.apiserver.resources import by_key
from podwall.apiserver.server import Server
from podwall.apiserver.store import Store
from podwall.runtime import names
from podwall.runtime.node import Node

log = logging.getLogger(__name__)

RUN_ROOT = Path("/run/podwall")
STARTUP_SECONDS = 30.0  # the controllers' start-up pass, before the node starts the pods
DNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"
STATE_FILES = (
    "state.db",
    "state.db-wal",
    "state.db-shm",
    "ca.crt",
    "ca.key",
    "server.crt",
    "server.key",
    "token",
    "kubeconfig",
    "cluster-id",
    "podwall.pid",
    "podwall.log",
    "ready",
)


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


def ensure_cluster_dns(store: Store) -> None:
    """Create the kube-dns Service and the coredns Deployment unless they exist."""
    for key, obj in (
        ("services", kube_dns_service()),
        ("deployments.apps", coredns_deployment()),
    ):
        resource = by_key(key)
        admission.prepare_for_create(resource, obj)
        admission.default(resource, obj)
        with contextlib.suppress(AlreadyExistsError):
            store.create(key, obj)


class LocalCluster:
    """Everything `podwall up` runs. `start()`, then `stop()` (also after a failed start)."""

    def __init__(self, state_dir: Path, port: int = 6443, *, run_root: Path = RUN_ROOT) -> None:
        self.state_dir = Path(state_dir)
        self.server = Server(self.state_dir, port, runtime=self)
        self.cluster_id = cluster_id(self.state_dir)
        self.node = Node(
            self.cluster_id,
            run_dir=run_root / self.cluster_id,
            log_dir=self.state_dir / "pods",
        )
        self.admission: Admission | None = None
        self.reconciler: Reconciler | None = None
        self.kubelet: Kubelet | None = None
        self._stopped = threading.Event()

    @property
    def store(self) -> Store:
        assert self.server.store is not None, "start() first"
        return self.server.store

    def start(self) -> None:
        self.server.bind()
        self.admission = Admission(self.store)
        self.admission.install()
        self.reconciler = Reconciler(self.store)
        self.reconciler.install()
        ensure_cluster_dns(self.store)
        if not self.reconciler.wait_idle(STARTUP_SECONDS):
            log.warning("controllers still busy after %.0fs; starting the node", STARTUP_SECONDS)
        self.kubelet = Kubelet(self.store, self.node)
        self.kubelet.start()
        self.server.start()
        log.info("cluster ready id=%s url=%s", self.cluster_id, self.server.url)

    def stop(self) -> None:
        """Stop serving, then every pod and namespace, then close the store. Idempotent."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.store_open():
            self.store.close_watches()
        if self.kubelet is not None:
            try:
                self.kubelet.stop()
            except Exception:
                log.exception("stopping the node")
        elif self.node is not None:
            self.node.stop()
        if self.reconciler is not None:
            self.reconciler.remove()
        if self.admission is not None:
            self.admission.remove()
        self.server.stop()
        with contextlib.suppress(OSError):
            self.node.run_dir.parent.rmdir()  # /run/podwall, when no other cluster uses it

    # PodRuntime for the server, which is made before the kubelet (it needs the store).

    def check_container(self, namespace: str, pod: str, container: str) -> None:
        self._kubelet().check_container(namespace, pod, container)

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> ExecProcess:
        return self._kubelet().exec(namespace, pod, container, request)

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        return self._kubelet().log_path(namespace, pod, container)

    def attach(self, namespace: str, pod: str, container: str, request: ExecRequest) -> ExecProcess:
        return self._kubelet().attach(namespace, pod, container, request)

    def _kubelet(self) -> Kubelet:
        if self.kubelet is None or self._stopped.is_set():
            raise PodLookupError("the node is not running")
        return self.kubelet

    def store_open(self) -> bool:
        return self.server.store is not None

    def remove_state(self) -> list[Path]:
        """Delete the files `up` wrote in the state directory (call after `stop()`)."""
        return remove_state(self.state_dir)


def remove_state(state_dir: Path) -> list[Path]:
    """Delete the files a cluster wrote in `state_dir`, and the directory if then empty."""
    removed = []
    for name in STATE_FILES:
        path = state_dir / name
        if path.exists():
            path.unlink()
            removed.append(path)
    shutil.rmtree(state_dir / "pods", ignore_errors=True)
    with contextlib.suppress(OSError):
        os.rmdir(state_dir)
    return removed

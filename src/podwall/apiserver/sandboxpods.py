"""`kubectl exec`, `logs`, `attach` and `port-forward` for the local cluster's pods, which node
agents run on this machine.

On a real cluster the API server asks the pod's kubelet, which runs the exec in the container
and streams its logs. In the sandbox every node agent runs here, and publishes each pod it runs
(`runtime.published`: network namespace, hostname, per container image, environment and log
file) under its node's run directory; `SandboxPods` finds the pod's node in the store, reads
that, and starts the command itself with `kubeletexec.start_in_pod`, as the kubelet would; an
attach follows the container's log and reaches its console through the node's relay. This is
the sandbox's shortcut; `podwall agent` on a real cluster runs no pods and serves no exec.
"""

from __future__ import annotations

import socket
from pathlib import Path

from podwall.apiserver import errors
from podwall.apiserver.kubeletattach import AttachProcess
from podwall.apiserver.kubeletexec import ExecTarget, LocalProcess, start_in_pod
from podwall.apiserver.kubeletportforward import connect_in_pod
from podwall.apiserver.podruntime import ExecRequest, PodLookupError
from podwall.apiserver.store import Store
from podwall.runtime import published
from podwall.runtime.consolerelay import RemoteConsole
from podwall.runtime.published import PublishedContainer, PublishedPod


class SandboxPods:
    """PodRuntime over what the nodes of one cluster publish under `run_dir/<node>/`."""

    def __init__(self, store: Store | None, run_dir: Path) -> None:
        self.store = store
        self.run_dir = run_dir

    def check_container(self, namespace: str, pod: str, container: str) -> None:
        self._container(namespace, pod, container)

    def exec(self, namespace: str, pod: str, container: str, request: ExecRequest) -> LocalProcess:
        return start_in_pod(self.exec_target(namespace, pod, container), request)

    def attach(
        self, namespace: str, pod: str, container: str, request: ExecRequest
    ) -> AttachProcess:
        """`kubectl attach`: the container's log from now on, and its console through the
        node's relay (`runtime.consolerelay`); raises PodLookupError."""
        _, found = self._container(namespace, pod, container)
        node = self._node(namespace, pod)
        if not found.running():
            raise PodLookupError(f"container {container} of pod {pod} is not running")
        console = None
        if found.console:
            try:
                console = RemoteConsole(
                    published.console_dir(self.run_dir / node),
                    found.console,
                    tty=found.tty,
                    stdin_once=found.stdin_once,
                )
            except OSError as exc:
                raise PodLookupError(
                    f"container {container} of pod {pod}: its console is not reachable: {exc}"
                ) from None
        return RemoteAttach(RemoteContainer(found, console), request)

    def port_forward(self, namespace: str, pod: str, port: int) -> socket.socket:
        """`kubectl port-forward`: a socket connected to `port` in the pod's network
        namespace; raises PodLookupError, PortForwardError."""
        running = self._pod(namespace, pod)
        return connect_in_pod(running.netns, port, pod=pod)

    def exec_target(self, namespace: str, pod: str, container: str | None) -> ExecTarget:
        """Where an exec in the container runs; raises PodLookupError."""
        running, found = self._container(namespace, pod, container)
        return ExecTarget(
            netns=running.netns, hostname=running.hostname, image=found.image, env=found.env
        )

    def log_path(self, namespace: str, pod: str, container: str | None) -> Path:
        return Path(self._container(namespace, pod, container)[1].log_path)

    def _container(
        self, namespace: str, pod: str, container: str | None
    ) -> tuple[PublishedPod, PublishedContainer]:
        running = self._pod(namespace, pod)
        if container is None:
            return running, next(iter(running.containers.values()))
        found = running.containers.get(container)
        if found is None:
            raise PodLookupError(f"container {container} is not valid for pod {pod}")
        return running, found

    def _node(self, namespace: str, pod: str) -> str:
        if self.store is None:
            raise PodLookupError("the cluster is not running")
        try:
            stored = self.store.get("pods", namespace, pod)
        except errors.NotFoundError:
            raise PodLookupError(f'pods "{pod}" not found') from None
        return str((stored.get("spec") or {}).get("nodeName") or "")

    def _pod(self, namespace: str, pod: str) -> PublishedPod:
        node = self._node(namespace, pod)
        if not node:
            raise PodLookupError(f"pod {pod} is not scheduled to a node yet")
        running = published.read(self.run_dir / node, namespace, pod)
        if running is None or not running.containers:
            raise PodLookupError(f"pod {pod} is not running on node {node}")
        return running


class RemoteContainer:
    """A container of another process (its node's agent), as an attach uses it."""

    def __init__(self, published: PublishedContainer, console: RemoteConsole | None) -> None:
        self.published = published
        self.remote_console = console

    @property
    def log_path(self) -> Path:
        return Path(self.published.log_path)

    @property
    def console(self) -> RemoteConsole | None:
        return self.remote_console

    def running(self) -> bool:
        return self.published.running()


class RemoteAttach(AttachProcess):
    """An attach whose console connection is closed with it."""

    def __init__(self, container: RemoteContainer, request: ExecRequest) -> None:
        super().__init__(container, request)
        self.remote = container

    def close(self) -> None:
        super().close()
        if self.remote.remote_console is not None:
            self.remote.remote_console.close()

"""exec and logs for the sandbox's pods: found through the pod's node and what it publishes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.podruntime import ExecRequest, PodLookupError
from podwall.apiserver.sandboxpods import SandboxPods
from podwall.apiserver.store import Store
from podwall.runtime import published
from podwall.runtime.procstat import start_stamp
from podwall.runtime.published import PublishedContainer, PublishedPod


def bare_pod(name: str, node: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "cilium/json-mock"}]}
    if node:
        spec["nodeName"] = node
    meta = {"name": name, "namespace": "default"}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


WEB = PublishedPod(
    netns="pw-t1-p00000001",
    hostname="web",
    containers={
        "c": PublishedContainer(image="cilium/json-mock", env={"PORT": "8080"}, log_path="/l/c"),
        "side": PublishedContainer(image="busybox", log_path="/l/side"),
    },
)


@pytest.fixture
def pods(tmp_path: Path) -> Iterator[SandboxPods]:
    store = Store(tmp_path / "state.db")
    bootstrap(store)
    store.create("pods", bare_pod("web", "node-2"))
    store.create("pods", bare_pod("stopped", "node-1"))
    store.create("pods", bare_pod("waiting", None))
    published.write(tmp_path / "run" / "node-2", "default", "web", WEB)
    yield SandboxPods(store, tmp_path / "run")
    store.close()


def test_exec_runs_in_the_pods_namespace_with_its_containers_image_and_env(
    pods: SandboxPods,
) -> None:
    target = pods.exec_target("default", "web", "c")
    assert (target.netns, target.hostname, target.image) == (
        "pw-t1-p00000001",
        "web",
        WEB.containers["c"].image,
    )
    assert target.env == {"PORT": "8080"}
    assert pods.exec_target("default", "web", None).image == "cilium/json-mock"  # the first
    assert pods.log_path("default", "web", "side") == Path("/l/side")
    pods.check_container("default", "web", "side")


@pytest.mark.parametrize(
    ("pod", "container", "message"),
    [
        pytest.param("missing", "c", 'pods "missing" not found', id="no-such-pod"),
        pytest.param("waiting", "c", "pod waiting is not scheduled to a node yet", id="unbound"),
        pytest.param("stopped", "c", "pod stopped is not running on node node-1", id="not-running"),
        pytest.param("web", "nope", "container nope is not valid for pod web", id="no-container"),
    ],
)
def test_what_cannot_be_reached_says_why(
    pods: SandboxPods, pod: str, container: str, message: str
) -> None:
    with pytest.raises(PodLookupError) as caught:
        pods.check_container("default", pod, container)
    assert str(caught.value) == message


def test_a_stopped_cluster_reaches_no_pod(tmp_path: Path) -> None:
    with pytest.raises(PodLookupError):
        SandboxPods(None, tmp_path).log_path("default", "web", None)


def test_attach_follows_a_running_container_and_refuses_one_that_is_not(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "state.db")
    bootstrap(store)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        store.create("pods", bare_pod("web", "node-1"))
        log = tmp_path / "c.log"
        log.write_text("before\n")
        running = PublishedContainer(
            image="busybox",
            log_path=str(log),
            pid=child.pid,
            started=start_stamp(child.pid),
        )
        gone = PublishedContainer(image="busybox", pid=child.pid, started="1")
        pod = PublishedPod(netns="n", hostname="web", containers={"c": running, "old": gone})
        published.write(tmp_path / "run" / "node-1", "default", "web", pod)
        pods = SandboxPods(store, tmp_path / "run")
        request = ExecRequest(command=(), stdin=False, stdout=True, stderr=False, tty=False)
        attached = pods.attach("default", "web", "c", request)
        assert attached.container.running()
        assert attached.container.console is None  # no stdin, no tty: output only
        attached.close()
        with pytest.raises(PodLookupError, match="container old of pod web is not running"):
            pods.attach("default", "web", "old", request)
    finally:
        child.kill()
        child.wait()
        store.close()

"""The sandbox kubelet's passes, over a Store behind fakes of its HTTP side, with a Node that
touches nothing on the host.

`RecordingNode` keeps `Node`'s bookkeeping but replaces namespaces and processes with a log of
calls; `enforced` (the agent's sync loop, on a real node) logs what the ruleset would hold. So
the order that fails closed is checked without root: a new pod's address is in the API before
the ruleset is asked to reflect it, and the ruleset before the pod's network exists.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from podwall.agent import client, tokens
from podwall.agent import kubelet as kubelet_module
from podwall.agent.kubelet import Kubelet
from podwall.agent.tokens import TokenRequester
from podwall.apiserver import admission, errors, reviews
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.mutating import Admission
from podwall.apiserver.reconciler import Reconciler, write_event
from podwall.apiserver.resources import by_kind
from podwall.apiserver.serviceaccounttokens import TokenSigner
from podwall.apiserver.store import Store
from podwall.cluster.local import ensure_cluster_dns
from podwall.runtime import images, published, serviceaccount
from podwall.runtime.addressplan import allocatable
from podwall.runtime.node import Node, PodPlan, RunningPod
from tests.unit.controllers.manifests import backend_deployment, client_deployment

NODE = "podwall"  # where Admission without a scheduler puts every pod


class StoreApi:
    """The kubelet's HTTP calls, answered by a Store as the API server would."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get_pod(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.store.get("pods", namespace, name)
        except errors.NotFoundError:
            return None

    def get_object(self, namespace: str, resource: str, name: str) -> dict[str, Any] | None:
        try:
            return self.store.get(resource, namespace, name)
        except errors.NotFoundError:
            return None

    def write_status(
        self, pod: dict[str, Any], change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any] | None:
        m = pod["metadata"]

        def update(current: dict[str, Any]) -> dict[str, Any]:
            if current["metadata"]["uid"] != m["uid"]:
                raise errors.conflict("pods", "", m["name"])
            return {**current, "status": change(copy.deepcopy(current)).get("status", {})}

        try:
            return self.store.mutate("pods", m["namespace"], m["name"], update)
        except (errors.NotFoundError, errors.ConflictError):
            return None

    def create_event(self, event: dict[str, Any]) -> dict[str, Any]:
        write_event(self.store, event)
        return event

    def update_event(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.store.update("events", event)


class StorePods:
    """The node's pods watch, read straight from the Store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.changed = threading.Event()

    def pods(self) -> list[dict[str, Any]]:
        items, _ = self.store.list("pods", None, lambda p: p["spec"].get("nodeName") == NODE)
        return items

    def saw(self, pod: dict[str, Any]) -> None:
        pass


class RecordingNode(Node):
    def __init__(self, tmp: Path) -> None:
        super().__init__("t1", run_dir=tmp / "run", log_dir=tmp / "logs")
        self.calls: list[tuple[str, Any]] = []
        self.exits: list[tuple[str, str, int]] = []
        self.listens = True

    def listening(self, key: str, ports: tuple[int, ...]) -> bool:
        return self.listens

    def start(self, *, adopt: bool = True) -> None:
        self.calls.append(("start", None))

    def start_pod(self, plan: PodPlan) -> dict[str, images.Waiting | None]:
        self.calls.append(("start_pod", plan))
        self.pods[plan.key] = RunningPod(
            plan=plan, netns=f"pw-t1-{plan.name}", log_dir=self.log_dir
        )
        return {
            c.name: c.launch if isinstance(c.launch, images.Waiting) else None
            for c in plan.containers
        }

    def restart(self, key: str, container: str) -> images.Waiting | None:
        self.calls.append(("restart", (key, container)))
        plan = next(c for c in self.pods[key].plan.containers if c.name == container)
        return plan.launch if isinstance(plan.launch, images.Waiting) else None

    def exited(self) -> list[tuple[str, str, int]]:
        out, self.exits = self.exits, []
        return out

    def stop_pod(self, key: str) -> None:
        self.calls.append(("stop_pod", key))
        self.pods.pop(key, None)

    def stop(self) -> None:
        self.calls.append(("stop", None))


CONTROLLERS: weakref.WeakKeyDictionary[Store, Reconciler] = weakref.WeakKeyDictionary()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    Admission(s).install()
    controllers = CONTROLLERS[s] = Reconciler(s)
    controllers.install()
    yield s
    controllers.remove()
    s.close()


def settle(store: Store) -> None:
    """Wait for the controllers to act on what was written (they run in their own threads)."""
    assert CONTROLLERS[store].wait_idle()


@pytest.fixture
def node(tmp_path: Path) -> RecordingNode:
    return RecordingNode(tmp_path)


def make_kubelet(
    store: Store, node: RecordingNode, *, enforce: bool = True, publish: Path | None = None
) -> Kubelet:
    def enforced(resource_version: int, timeout: float) -> bool:
        assert store.resource_version >= resource_version
        pods, _ = store.list("pods")
        node.calls.append(("sync", {_key(p): p["status"].get("podIP") for p in pods}))
        return enforce

    return Kubelet(StoreApi(store), StorePods(store), node, NODE, enforced, publish_dir=publish)


def _key(pod: dict[str, Any]) -> str:
    return f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"


@pytest.fixture
def kubelet(store: Store, node: RecordingNode, tmp_path: Path) -> Kubelet:
    return make_kubelet(store, node, publish=tmp_path / "published")


def put(store: Store, obj: dict[str, Any]) -> dict[str, Any]:
    resource = by_kind(obj["apiVersion"], obj["kind"])
    assert resource is not None
    admission.prepare_for_create(resource, obj)
    admission.default(resource, obj)
    created = store.create(resource.key, obj)
    settle(store)
    return created


def pods(store: Store, namespace: str = "default") -> list[dict[str, Any]]:
    return store.list("pods", namespace)[0]


def test_a_new_pod_has_its_address_in_the_ruleset_before_its_network_exists(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, backend_deployment())
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = f"default/{pod['metadata']['name']}"
    kinds = [kind for kind, _ in node.calls]
    assert kinds == ["sync", "start_pod"]
    synced = node.calls[0][1]
    assert synced[key] == pod["status"]["podIP"]
    assert ipaddress.ip_address(pod["status"]["podIP"]) in ipaddress.ip_network("198.18.0.0/24")


def test_no_pod_starts_while_the_ruleset_does_not_reflect_its_address(
    store: Store, node: RecordingNode
) -> None:
    kubelet = make_kubelet(store, node, enforce=False)
    put(store, backend_deployment())
    kubelet.sync_pass()
    assert [kind for kind, _ in node.calls] == ["sync"]
    (pod,) = pods(store)
    assert pod["status"]["podIP"]  # written, and waiting for the ruleset


def test_a_started_pod_is_running_and_ready(store: Store, kubelet: Kubelet) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    settle(store)
    (pod,) = pods(store)
    status = pod["status"]
    assert status["phase"] == "Running"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "True"
    assert status["containerStatuses"][0]["ready"] is True
    deploy = store.get("deployments.apps", "default", "frontend")
    assert deploy["status"]["readyReplicas"] == 1


def test_a_container_with_a_port_is_ready_once_it_listens(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    node.listens = False
    put(store, backend_deployment())
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert pod["status"]["podIP"]
    assert pod["status"]["containerStatuses"][0]["ready"] is False
    node.listens = True
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert pod["status"]["containerStatuses"][0]["ready"] is True
    assert pod["status"]["phase"] == "Running"


def test_an_image_podwall_cannot_run_waits_with_the_reason(store: Store, kubelet: Kubelet) -> None:
    deploy = client_deployment("web")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container["image"] = "example/unknown-server:2.4"
    del container["command"]
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    state = pod["status"]["containerStatuses"][0]["state"]
    assert state["waiting"]["reason"] == "ImageNotSupported"
    assert pod["status"]["phase"] == "Pending"


def test_a_container_waits_for_its_configmap_then_starts(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    deploy = client_deployment("web")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container["envFrom"] = [{"configMapRef": {"name": "settings"}}]
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    (status,) = pod["status"]["containerStatuses"]
    assert status["state"]["waiting"] == {
        "reason": "CreateContainerConfigError",
        "message": 'configmap "settings" not found',
    }
    settings = {"metadata": {"name": "settings", "namespace": "default"}, "data": {"MODE": "a"}}
    put(store, {"apiVersion": "v1", "kind": "ConfigMap", **settings})
    for restart in kubelet._restarts:
        restart.at = 0.0
    kubelet.sync_pass()
    (pod,) = pods(store)
    (status,) = pod["status"]["containerStatuses"]
    assert "running" in status["state"]
    assert status["restartCount"] == 0
    (running,) = node.pods.values()
    assert running.plan.containers[0].env["MODE"] == "a"


def test_command_and_args_are_expanded_with_the_environment(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    deploy = client_deployment("web")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "GREETING", "value": "hello"}]
    container["command"] = ["/bin/sh", "-c", "echo $(GREETING) $(NOPE) $$(GREETING)"]
    put(store, deploy)
    kubelet.sync_pass()
    (running,) = node.pods.values()
    launch = running.plan.containers[0].launch
    assert isinstance(launch, images.Launch)
    assert "echo hello $(NOPE) $(GREETING)" in launch.argv


def test_a_running_pod_is_published_for_exec_and_logs(
    store: Store, kubelet: Kubelet, tmp_path: Path
) -> None:
    put(store, backend_deployment())
    kubelet.sync_pass()
    (pod,) = pods(store)
    name = pod["metadata"]["name"]
    found = published.read(tmp_path / "published", "default", name)
    assert found is not None
    assert found.netns == f"pw-t1-{name}"
    assert found.hostname == name
    container = found.containers["backend-container"]
    assert container.image == "docker.io/cilium/json-mock:1.2"
    # Its own variables, and the `kubernetes` Service's, as a kubelet sets them.
    assert container.env == {**serviceaccount.environment(), "PORT": "8080"}
    assert container.env["KUBERNETES_SERVICE_HOST"] == "198.19.0.1"
    assert Path(container.log_path).name == "backend-container.log"


def test_a_deleted_pod_is_stopped_and_no_longer_published(
    store: Store, node: RecordingNode, kubelet: Kubelet, tmp_path: Path
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    store.delete("deployments.apps", "default", "frontend")
    settle(store)  # the garbage collector deletes its ReplicaSet, then the pod
    assert pods(store) == []
    kubelet.sync_pass()
    assert ("stop_pod", f"default/{pod['metadata']['name']}") in node.calls
    assert published.read(tmp_path / "published", "default", pod["metadata"]["name"]) is None


def test_a_restarted_node_gives_each_pod_its_previous_address(store: Store, tmp_path: Path) -> None:
    put(store, client_deployment("frontend"))
    put(store, client_deployment("other"))
    first = make_kubelet(store, RecordingNode(tmp_path))
    first.sync_pass()
    before = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods(store)}
    second = make_kubelet(store, RecordingNode(tmp_path))
    second.sync_pass()
    after = {p["metadata"]["name"]: p["status"]["podIP"] for p in pods(store)}
    assert after == before


def test_an_exited_container_is_reported_and_restarted(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = f"default/{pod['metadata']['name']}"
    node.exits.append((key, "frontend-container", 1))
    kubelet.sync_pass()
    (pod,) = pods(store)
    state = pod["status"]["containerStatuses"][0]["state"]
    assert state["terminated"]["exitCode"] == 1
    for restart in kubelet._restarts:
        restart.at = 0.0
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert ("restart", (key, "frontend-container")) in node.calls
    assert pod["status"]["containerStatuses"][0]["restartCount"] == 1
    assert "running" in pod["status"]["containerStatuses"][0]["state"]


def test_an_unsupported_image_waits_without_restarts_while_its_sibling_crash_loops(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    """restartCount counts starts after the first: a container whose image cannot run never
    started, so it stays 0 and is never restarted, however often a sibling crashes."""
    deploy = client_deployment("web")
    containers = deploy["spec"]["template"]["spec"]["containers"]
    containers.append({"name": "unsupported", "image": "example/unknown-server:2.4"})
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = f"default/{pod['metadata']['name']}"
    for _ in range(4):
        node.exits.append((key, "web-container", 127))
        kubelet.sync_pass()
        for restart in kubelet._restarts:
            restart.at = 0.0
        kubelet.sync_pass()
    (pod,) = pods(store)
    statuses = {s["name"]: s for s in pod["status"]["containerStatuses"]}
    assert statuses["web-container"]["restartCount"] == 4
    assert statuses["unsupported"]["restartCount"] == 0
    assert statuses["unsupported"]["state"]["waiting"]["reason"] == "ImageNotSupported"
    assert ("restart", (key, "unsupported")) not in node.calls


NODE_ADDRESS = ipaddress.IPv4Address("198.18.255.2")


def host_network_deployment(name: str) -> dict[str, Any]:
    deploy = client_deployment(name)
    deploy["spec"]["template"]["spec"]["hostNetwork"] = True
    return deploy


def test_a_host_network_pod_has_the_nodes_address_and_runs_in_its_namespace(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    node.sandbox.address = NODE_ADDRESS
    put(store, host_network_deployment("centaur"))
    kubelet.sync_pass()
    put(store, client_deployment("harry"))
    kubelet.sync_pass()
    by_app = {p["metadata"]["labels"]["app"]: p for p in pods(store)}
    centaur, harry = by_app["centaur"]["status"], by_app["harry"]["status"]
    assert centaur["podIP"] == centaur["hostIP"] == str(NODE_ADDRESS)
    assert centaur["podIPs"] == [{"ip": str(NODE_ADDRESS)}]
    assert centaur["phase"] == "Running"
    # It takes no address of the node's range: the next pod gets the range's first.
    assert harry["podIP"] == str(next(iter(allocatable(node.subnet))))
    plans = {p.name.split("-")[0]: p for p in started_plans(node)}
    assert plans["centaur"].host_network
    assert plans["centaur"].ip == NODE_ADDRESS
    assert plans["centaur"].hostname == NODE
    assert not plans["harry"].host_network
    assert plans["harry"].hostname == by_app["harry"]["metadata"]["name"]


def test_a_host_network_pod_on_a_node_without_an_address_does_not_start(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, host_network_deployment("centaur"))
    kubelet.sync_pass()
    kubelet.sync_pass()
    (pod,) = pods(store)
    state = pod["status"]["containerStatuses"][0]["state"]
    assert state["waiting"]["reason"] == "CreatePodSandboxError"
    assert "hostNetwork needs the node's address" in state["waiting"]["message"]
    assert "podIP" not in pod["status"]
    assert started_plans(node) == []


def test_the_dns_pod_runs_the_dns_stand_in_on_the_records_file(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    ensure_cluster_dns(store)
    settle(store)
    kubelet.sync_pass()
    plan = next(arg for kind, arg in node.calls if kind == "start_pod")
    launch = plan.containers[0].launch
    assert isinstance(launch, images.Launch)
    assert launch.kind == images.KIND_DNS
    assert str(node.records_path) in launch.argv


def test_starting_a_pod_records_the_kubelets_events(store: Store, kubelet: Kubelet) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    reasons = [
        e["reason"]
        for e in store.list("events", "default")[0]
        if e["involvedObject"]["name"] == pod["metadata"]["name"]
    ]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"]  # by name, as listed


@pytest.mark.parametrize(
    ("security_context", "run_as_user"),
    [({"runAsUser": 1234}, 1234), ({}, None)],
    ids=["runAsUser is the pod's uid", "without it the node gives one"],
)
def test_the_pods_run_as_user_reaches_the_node(
    store: Store,
    node: RecordingNode,
    kubelet: Kubelet,
    security_context: dict[str, Any],
    run_as_user: int | None,
) -> None:
    put(store, {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"securityContext": security_context,
                 "containers": [{"name": "c", "image": "alpine", "command": ["sleep", "9"]}]},
    })  # fmt: skip
    kubelet.sync_pass()
    (plan,) = [arg for kind, arg in node.calls if kind == "start_pod"]
    assert plan.run_as_user == run_as_user


# -- ServiceAccount tokens --------------------------------------------------------------------


class TokenServer:
    """The agent's connection for TokenRequest, answered by the API server's own handler."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.signer = TokenSigner(None)
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, path: str, query: Any = (), body: Any = None) -> Any:
        assert method == "POST"
        _, _, _, namespace, _, account, _ = path.strip("/").split("/")
        self.asked.append((path, body))
        try:
            return reviews.token_request(self.store, self.signer, namespace, account, body)
        except errors.ApiError as exc:
            raise client.ApiError(exc.code, exc.reason, exc.message) from exc


def token_kubelet(
    store: Store, node: RecordingNode, clock: Callable[[], float] = time.monotonic
) -> tuple[Kubelet, TokenServer]:
    server = TokenServer(store)
    requester = TokenRequester(cast(client.Connection, server), b"CA", clock=clock)
    kubelet = make_kubelet(store, node)
    kubelet.credentials = requester
    return kubelet, server


def bare_pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
        "spec": {**spec, "containers": [{"name": "c", "image": "alpine",
                                          "command": ["sleep", "9"]}]},
    }  # fmt: skip


def started_plans(node: RecordingNode) -> list[PodPlan]:
    return [arg for kind, arg in node.calls if kind == "start_pod"]


def test_a_pod_gets_a_token_of_its_service_account_bound_to_it(
    store: Store, node: RecordingNode
) -> None:
    kubelet, server = token_kubelet(store, node)
    put(store, bare_pod("web"))
    kubelet.sync_pass()
    (plan,) = started_plans(node)
    assert plan.service_account is not None
    assert (plan.service_account.namespace, plan.service_account.ca_pem) == ("default", b"CA")
    claims = server.signer.verify(plan.service_account.token)
    assert claims is not None
    pod = store.get("pods", "default", "web")
    assert (claims.namespace, claims.name) == ("default", "default")
    assert claims.pod is not None
    assert (claims.pod.name, claims.pod.uid) == ("web", pod["metadata"]["uid"])
    ((path, body),) = server.asked
    assert path == "/api/v1/namespaces/default/serviceaccounts/default/token"
    assert body["spec"]["expirationSeconds"] == tokens.EXPIRATION_SECONDS
    assert "audiences" not in body["spec"]  # the API server's own


def test_a_pod_that_opts_out_gets_no_token(store: Store, node: RecordingNode) -> None:
    kubelet, server = token_kubelet(store, node)
    put(store, bare_pod("web", automountServiceAccountToken=False))
    kubelet.sync_pass()
    (plan,) = started_plans(node)
    assert plan.service_account is None
    assert server.asked == []


def test_a_pod_whose_service_account_is_missing_waits_with_the_reason(
    store: Store, node: RecordingNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kubelet_module, "TOKEN_RETRY_SECONDS", 0.0)
    kubelet, _ = token_kubelet(store, node)
    put(store, bare_pod("web", serviceAccountName="robot"))
    kubelet.sync_pass()
    assert started_plans(node) == []
    assert store.get("pods", "default", "web")["status"].get("podIP") is None
    (event,) = [e for e in store.list("events", "default")[0] if e["reason"] == "FailedMount"]
    assert event["type"] == "Warning"
    assert event["message"] == (
        'MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: '
        'serviceaccounts "robot" not found'
    )
    put(store, {"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "robot", "namespace": "default"}})  # fmt: skip
    kubelet.sync_pass()
    (plan,) = started_plans(node)
    assert plan.service_account is not None


def test_a_token_is_rewritten_in_the_pods_files_once_due(
    store: Store, node: RecordingNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serviceaccount, "SECRETS_ROOT", tmp_path / "secrets")
    monkeypatch.setattr(serviceaccount, "MOUNT_POINT", tmp_path / "mount")
    stale = iter([-1e9])  # the first token was asked for long ago: due at once
    kubelet, server = token_kubelet(store, node, clock=lambda: next(stale, time.monotonic()))
    put(store, bare_pod("web"))
    kubelet.sync_pass()
    assert len(server.asked) == 2
    kubelet.sync_pass()
    assert len(server.asked) == 2, "a fresh token is not asked for again"
    (plan,) = started_plans(node)
    assert plan.service_account is not None
    written = (tmp_path / "secrets" / node.pods["default/web"].netns / "token").read_text()
    assert written != plan.service_account.token
    now = node.pods["default/web"].plan.service_account
    assert now is not None
    assert now.token == written  # what a projected serviceAccountToken volume is rewritten from
    claims = server.signer.verify(written)
    assert claims is not None
    assert claims.pod is not None
    assert claims.pod.name == "web"


def _add_ephemeral(store: Store, pod: dict[str, Any], **container: Any) -> None:
    """What the pods/ephemeralcontainers subresource stores: the pod with one more."""
    name = pod["metadata"]["name"]

    def change(current: dict[str, Any]) -> dict[str, Any]:
        current["spec"].setdefault("ephemeralContainers", []).append(container)
        return current

    store.mutate("pods", "default", name, change, preserve=("status",))


def test_an_ephemeral_container_starts_once_in_the_running_pod(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = _key(pod)
    _add_ephemeral(store, pod, name="debugger", image="busybox", stdin=True, tty=True)
    kubelet.sync_pass()
    kubelet.sync_pass()
    assert node.calls.count(("restart", (key, "debugger"))) == 1
    plan = next(c for c in node.pods[key].plan.containers if c.name == "debugger")
    assert (plan.stdin, plan.tty) == (True, True)
    (pod,) = pods(store)
    (status,) = pod["status"]["ephemeralContainerStatuses"]
    assert status["name"] == "debugger"
    assert "running" in status["state"]
    assert status["ready"] is False
    # The pod's readiness is its own containers': still Ready.
    assert {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"] == "True"
    assert [c["name"] for c in pod["status"]["containerStatuses"]] == ["frontend-container"]


def test_an_exited_ephemeral_container_is_reported_and_never_restarted(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    key = _key(pod)
    _add_ephemeral(store, pod, name="debugger", image="busybox")
    kubelet.sync_pass()
    node.exits.append((key, "debugger", 3))
    kubelet.sync_pass()
    for restart in kubelet._restarts:
        restart.at = 0.0
    kubelet.sync_pass()
    assert node.calls.count(("restart", (key, "debugger"))) == 1
    assert kubelet._restarts == []
    (pod,) = pods(store)
    (status,) = pod["status"]["ephemeralContainerStatuses"]
    assert status["state"]["terminated"]["exitCode"] == 3
    assert status["state"]["terminated"]["reason"] == "Error"
    assert status["restartCount"] == 0
    assert pod["status"]["phase"] == "Running"


def test_an_ephemeral_container_podwall_cannot_run_waits_with_the_reason(
    store: Store, kubelet: Kubelet
) -> None:
    put(store, client_deployment("frontend"))
    kubelet.sync_pass()
    (pod,) = pods(store)
    _add_ephemeral(store, pod, name="debugger", image="example.com/unknown:1")
    kubelet.sync_pass()
    (pod,) = pods(store)
    (status,) = pod["status"]["ephemeralContainerStatuses"]
    assert status["state"]["waiting"]["reason"] == "ImageNotSupported"


def test_a_container_whose_image_changes_is_restarted_with_it(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    """`kubectl set image`: the kubelet stops the container and starts it with the new image;
    restartCount counts it, the sibling containers are left alone."""
    store.create("pods", bare_pod("web"))
    kubelet.sync_pass()
    key = "default/web"

    def new_image(current: dict[str, Any]) -> dict[str, Any]:
        current["spec"]["containers"][0]["image"] = "busybox"
        return current

    store.mutate("pods", "default", "web", new_image, preserve=("status",))
    kubelet.sync_pass()
    kubelet.sync_pass()
    assert node.calls.count(("restart", (key, "c"))) == 1
    assert [c.image for c in node.pods[key].plan.containers] == ["busybox"]
    (status,) = store.get("pods", "default", "web")["status"]["containerStatuses"]
    assert (status["image"], status["restartCount"]) == ("busybox", 1)
    assert "running" in status["state"]
    assert "terminated" in status["lastState"]
    messages = [e["message"] for e in store.list("events", "default")[0]]
    assert "Container c definition changed, will be restarted" in messages


def test_a_pod_waits_for_its_volumes_configmap_then_starts_with_it(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    deploy = client_deployment("web")
    template = deploy["spec"]["template"]["spec"]
    template["volumes"] = [{"name": "cfg", "configMap": {"name": "settings"}}]
    template["containers"][0]["volumeMounts"] = [{"name": "cfg", "mountPath": "/config"}]
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    (status,) = pod["status"]["containerStatuses"]
    assert status["state"]["waiting"] == {
        "reason": "ContainerCreating",
        "message": 'MountVolume.SetUp failed for volume "cfg" : configmap "settings" not found',
    }
    said = [e["reason"] for e in store.list("events", "default")[0]]
    assert "FailedMount" in said
    assert "Failed" not in said  # no `Error: ...` per container: the FailedMount says it
    settings = {"metadata": {"name": "settings", "namespace": "default"}, "data": {"k": "v"}}
    put(store, {"apiVersion": "v1", "kind": "ConfigMap", **settings})
    for restart in kubelet._restarts:
        restart.at = 0.0
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert "running" in pod["status"]["containerStatuses"][0]["state"]
    (running,) = node.pods.values()
    assert running.plan.volumes is not None
    (volume,) = running.plan.volumes.volumes
    assert [(f.path, f.data) for f in volume.files] == [("k", b"v")]
    assert [m.path for m in running.plan.volumes.mounts] == ["/config"]


def test_a_mount_of_a_volume_the_pod_lacks_is_left_out(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    deploy = client_deployment("web")
    deploy["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "www", "mountPath": "/usr/share/nginx/html"}
    ]
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    assert "running" in pod["status"]["containerStatuses"][0]["state"]
    (running,) = node.pods.values()
    assert running.plan.volumes is None  # nothing to write or mount


def test_a_running_pods_volume_follows_its_configmap(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    settings = {"metadata": {"name": "settings", "namespace": "default"}, "data": {"k": "v1"}}
    put(store, {"apiVersion": "v1", "kind": "ConfigMap", **settings})
    deploy = client_deployment("web")
    template = deploy["spec"]["template"]["spec"]
    template["volumes"] = [{"name": "cfg", "configMap": {"name": "settings"}}]
    template["containers"][0]["volumeMounts"] = [{"name": "cfg", "mountPath": "/config"}]
    put(store, deploy)
    kubelet.sync_pass()
    changed = store.get("configmaps", "default", "settings")
    store.update("configmaps", {**changed, "data": {"k": "v2"}})
    kubelet._volumes_due = dict.fromkeys(kubelet._volumes_due, 0.0)
    kubelet.sync_pass()
    (running,) = node.pods.values()
    assert running.plan.volumes is not None
    (volume,) = running.plan.volumes.volumes
    assert [(f.path, f.data) for f in volume.files] == [("k", b"v2")]
    assert [m.path for m in running.plan.volumes.mounts] == ["/config"]


def test_binary_secret_and_configmap_bytes_reach_the_volume_exactly(
    store: Store, node: RecordingNode, kubelet: Kubelet
) -> None:
    blob = bytes(range(256))
    encoded = base64.b64encode(blob).decode()
    meta_ = {"namespace": "default"}
    put(
        store,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "keys", **meta_},
            "data": {"store.p12": encoded},
        },
    )
    put(store, {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "bin", **meta_}, "binaryData": {"b": encoded}})  # fmt: skip
    deploy = client_deployment("web")
    template = deploy["spec"]["template"]["spec"]
    template["volumes"] = [
        {"name": "keys", "secret": {"secretName": "keys"}},
        {"name": "bin", "configMap": {"name": "bin"}},
    ]
    template["containers"][0]["volumeMounts"] = [
        {"name": "keys", "mountPath": "/keys"},
        {"name": "bin", "mountPath": "/bin-data"},
    ]
    put(store, deploy)
    kubelet.sync_pass()
    (running,) = node.pods.values()
    assert running.plan.volumes is not None
    assert [f.data for v in running.plan.volumes.volumes for f in v.files] == [blob, blob]


def test_a_container_that_cannot_start_has_a_failed_event_saying_why(
    store: Store, kubelet: Kubelet
) -> None:
    deploy = client_deployment("web")
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container.update(image="httpd", command=["httpd-not-on-this-host"])
    put(store, deploy)
    kubelet.sync_pass()
    (pod,) = pods(store)
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "RunContainerError"
    failed = [e["message"] for e in store.list("events", "default")[0] if e["reason"] == "Failed"]
    assert failed == [f"Error: {waiting['message']}"]

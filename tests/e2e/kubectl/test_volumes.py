"""Pod volumes on a `podwall up` cluster, through the real kubectl.

A busybox pod mounts a ConfigMap at /config (a path the node's root lacks), a Secret's key over
a file of the node's (/etc/motd, by subPath) and an emptyDir its two containers share; `kubectl
exec` reads them, and a changed ConfigMap reaches the running pod. A pod whose ConfigMap is
missing waits with FailedMount; one whose volume cannot be mounted has it named in its Failed
event. `kubectl debug node/NAME` gets the node's root at /host (a hostPath of `/`). The cluster
is removed at the end, also on failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_cluster import clear_cluster, wait_for
from tests.e2e.kubectl.test_workflows import Kubectl
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

APP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {key: "value-1", other.conf: "a = 1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {motd: "from the secret"}
---
apiVersion: v1
kind: Pod
metadata: {name: vol}
spec:
  volumes:
  - {name: config, configMap: {name: settings}}
  - {name: creds, secret: {secretName: creds}}
  - {name: shared, emptyDir: {}}
  containers:
  - name: app
    image: busybox
    command: [sleep, "3600"]
    volumeMounts:
    - {name: config, mountPath: /config}
    - {name: creds, mountPath: /etc/motd, subPath: motd}
    - {name: shared, mountPath: /shared}
  - name: writer
    image: busybox
    command: [sh, -c, "echo written-by-writer > /shared/note; sleep 3600"]
    volumeMounts:
    - {name: shared, mountPath: /shared}
---
apiVersion: v1
kind: Pod
metadata: {name: waits}
spec:
  volumes:
  - {name: config, configMap: {name: absent}}
  containers:
  - name: app
    image: busybox
    command: [sleep, "3600"]
    volumeMounts:
    - {name: config, mountPath: /config}
---
apiVersion: v1
kind: Pod
metadata: {name: refused}
spec:
  volumes:
  - {name: data, hostPath: {path: /podwall-no-such-dir, type: Directory}}
  containers:
  - name: app
    image: busybox
    command: [sleep, "3600"]
    volumeMounts:
    - {name: data, mountPath: /data}
"""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    tmp = tmp_path_factory.mktemp("volumes")
    local = LocalCluster(tmp / "state", port=0)
    try:
        local.start()
        client = Kubectl(local.server.kubeconfig_path, tmp / "cache")
        client("apply", "-f", "-", stdin=APP)
        client("wait", "--for=condition=Ready", "pod/vol", "--timeout=120s")
        yield client
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def test_a_configmaps_keys_are_files_at_the_mount_path(kubectl: Kubectl) -> None:
    assert kubectl("exec", "vol", "-c", "app", "--", "cat", "/config/key") == "value-1"
    listed = kubectl("exec", "vol", "-c", "app", "--", "ls", "/config").split()
    assert listed == ["key", "other.conf"]


def test_a_secrets_key_covers_a_file_by_sub_path(kubectl: Kubectl) -> None:
    assert kubectl("exec", "vol", "-c", "app", "--", "cat", "/etc/motd") == "from the secret"


def test_an_empty_dir_is_shared_by_the_pods_containers(kubectl: Kubectl) -> None:
    def read() -> str:
        done = kubectl.run("exec", "vol", "-c", "app", "--", "cat", "/shared/note")
        return done.stdout

    wait_for(lambda: "written-by-writer" in read(), PODS_READY_SECONDS)


def _waiting(kubectl: Kubectl, pod: str) -> dict[str, str]:
    """The `waiting` state of the pod's first container ({} while it has none)."""
    found = json.loads(kubectl("get", "pod", pod, "-o", "json"))
    statuses = found.get("status", {}).get("containerStatuses") or [{}]
    state = statuses[0].get("state", {}).get("waiting") or {}
    return state if isinstance(state, dict) else {}


def test_a_pod_whose_configmap_is_missing_waits_with_failed_mount(kubectl: Kubectl) -> None:
    def waiting() -> dict[str, str]:
        return _waiting(kubectl, "waits")

    wait_for(lambda: waiting().get("reason") == "ContainerCreating", PODS_READY_SECONDS)
    assert 'configmap "absent" not found' in waiting()["message"]
    events = kubectl("get", "events", "--field-selector=involvedObject.name=waits")
    assert "FailedMount" in events


def test_a_volume_that_cannot_be_mounted_is_named_in_the_pods_event(kubectl: Kubectl) -> None:
    def failed() -> str:
        return kubectl(
            "get", "events", "--field-selector=involvedObject.name=refused,reason=Failed"
        )

    def waiting() -> dict[str, str]:
        return _waiting(kubectl, "refused")

    wait_for(lambda: "hostPath type check failed" in failed(), PODS_READY_SECONDS)
    said = failed()
    assert "volume 'data'" in said
    assert "/podwall-no-such-dir is not a directory" in said
    # The agent records the Event before it writes the pod's status: wait for that too.
    wait_for(lambda: bool(waiting()), SETTLED_SECONDS)
    assert waiting()["reason"] == "RunContainerError"


def test_debug_node_sees_the_nodes_root_at_host(kubectl: Kubectl) -> None:
    node = json.loads(kubectl("get", "nodes", "-o", "json"))["items"][0]["metadata"]["name"]
    done = kubectl.run("debug", f"node/{node}", "--image=busybox", "--attach", "-i",
                       "--", "ls", "/host")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {"etc", "usr", "proc"} <= set(done.stdout.split())


def test_a_changed_configmap_reaches_the_running_pod(kubectl: Kubectl) -> None:
    kubectl("patch", "configmap", "settings", "-p", '{"data": {"key": "value-2"}}')

    def read() -> str:
        return kubectl.run("exec", "vol", "-c", "app", "--", "cat", "/config/key").stdout

    wait_for(lambda: read() == "value-2", SETTLED_SECONDS)
    # A subPath mount keeps its file, as upstream's do.
    assert kubectl("exec", "vol", "-c", "app", "--", "cat", "/etc/motd") == "from the secret"

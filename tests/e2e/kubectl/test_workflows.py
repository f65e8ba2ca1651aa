"""The kubectl commands labs use all day, in one sequence on one `podwall up` cluster.

A Deployment `web` (nginx, 2 replicas), its Service, a DaemonSet and a pod: `kubectl wait` on
conditions, jsonpath and deletion; `describe svc` (its EndpointSlice ports); a rollout with
history, undo and scale; labels; Secrets made with `--dry-run=client -o yaml | kubectl apply`;
logs (also of the instance before a restart), exec (with the downward API's env) and `top`.
Each step is checked against what kubectl prints on a real cluster. The cluster and its
namespaces are removed at the end, also on failure.
"""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import kubectl_binary, table
from tests.e2e.kubectl.test_cluster import clear_cluster, wait_for
from tests.e2e.kubectl.watching import KUBECTL_SECONDS, PODS_READY_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "nginx:1.25", ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: a, image: busybox, command: [sh, -c, "while true; do echo tick; sleep 1; done"]}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, labels: {app: solo}}
spec:
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: GREETING, value: "hi from $(POD_NAME)"}
"""


class Kubectl:
    def __init__(self, kubeconfig: Path, cache: Path) -> None:
        self.base = [kubectl_binary(), "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache)]
        self.env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.base, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=KUBECTL_SECONDS,
            env=self.env,
            check=False,
        )

    def __call__(self, *args: str, stdin: str = "") -> str:
        done = self.run(*args, stdin=stdin)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    tmp = tmp_path_factory.mktemp("workflows")
    local = LocalCluster(tmp / "state", port=0)
    try:
        local.start()
        client = Kubectl(local.server.kubeconfig_path, tmp / "cache")
        client("apply", "-f", "-", stdin=APP)
        yield client
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def test_wait_on_conditions_and_jsonpath(kubectl: Kubectl) -> None:
    ready = kubectl("wait", "--for=condition=Ready", "pod", "-l", "app=web", "--timeout=120s")
    assert ready.count("condition met") == 2
    available = kubectl("wait", "--for=condition=Available", "deploy/web", "--timeout=120s")
    assert available == "deployment.apps/web condition met\n"
    running = "--for=jsonpath={.status.phase}=Running"
    assert kubectl("wait", running, "pod/solo", "--timeout=120s") == "pod/solo condition met\n"
    kubectl("rollout", "status", "ds/agent", "--timeout=120s")


def test_a_pods_events_are_listed_in_the_order_they_happened(kubectl: Kubectl) -> None:
    described = kubectl("describe", "pod", "solo").split("Events:")[1]
    reasons = [row[1] for row in table(described)[2:]]
    assert reasons == ["Scheduled", "Pulled", "Created", "Started"]
    listed = kubectl("get", "events", "--field-selector=involvedObject.name=solo")
    assert [row[2] for row in table(listed)[1:]] == reasons


def test_describe_service_lists_the_endpoints_of_an_unnamed_port(kubectl: Kubectl) -> None:
    described = dict(
        line.split(":", 1) for line in kubectl("describe", "svc", "web").splitlines() if ":" in line
    )
    assert described["Port"].split() == ["<unset>", "80/TCP"]
    assert len(described["Endpoints"].strip().split(",")) == 2
    assert all(e.endswith(":80") for e in described["Endpoints"].strip().split(","))


def test_rollout_history_undo_and_scale(kubectl: Kubectl) -> None:
    cause = "kubernetes.io/change-cause"
    kubectl("annotate", "deploy/web", f"{cause}=first")
    kubectl("set", "image", "deploy/web", "nginx=nginx:1.26")
    kubectl("annotate", "deploy/web", f"{cause}=to 1.26", "--overwrite")
    assert "successfully rolled out" in kubectl("rollout", "status", "deploy/web", "--timeout=120s")
    history = table(kubectl("rollout", "history", "deploy/web"))
    assert history[1:] == [["REVISION", "CHANGE-CAUSE"], ["1", "first"], ["2", "to 1.26"]]
    assert kubectl("rollout", "undo", "deploy/web") == "deployment.apps/web rolled back\n"
    kubectl("rollout", "status", "deploy/web", "--timeout=120s")
    image = "jsonpath={.spec.template.spec.containers[0].image}"
    assert kubectl("get", "deploy/web", "-o", image) == "nginx:1.25"
    assert [row[0] for row in table(kubectl("rollout", "history", "deploy/web"))[2:]] == ["2", "3"]
    kubectl("scale", "deploy/web", "--replicas=3")
    kubectl("rollout", "status", "deploy/web", "--timeout=120s")
    assert table(kubectl("get", "deploy/web"))[1][1] == "3/3"
    refused = kubectl.run("scale", "deploy/web", "--replicas=2", "--current-replicas=5")
    assert refused.stderr == "error: Expected replicas to be 5, was 3\n"


def test_labels_need_overwrite_to_change(kubectl: Kubectl) -> None:
    kubectl("label", "pod/solo", "tier=a")
    refused = kubectl.run("label", "pod/solo", "tier=b")
    assert "'tier' already has a value (a), and --overwrite is false" in refused.stderr
    kubectl("label", "pod/solo", "tier=b", "--overwrite")
    assert kubectl("get", "pod/solo", "-o", "jsonpath={.metadata.labels.tier}") == "b"


def test_secrets_from_dry_run_yaml_piped_to_apply(kubectl: Kubectl) -> None:
    made = kubectl(
        "create", "secret", "generic", "creds", "--from-literal=user=admin",
        "--dry-run=client", "-o", "yaml",
    )  # fmt: skip
    assert kubectl("apply", "-f", "-", stdin=made) == "secret/creds created\n"
    data = kubectl("get", "secret/creds", "-o", "jsonpath={.data.user}")
    assert base64.b64decode(data) == b"admin"
    assert table(kubectl("get", "secrets"))[1][:3] == ["creds", "Opaque", "1"]
    plain = "apiVersion: v1\nkind: Secret\nmetadata: {name: plain}\nstringData: {user: root}\n"
    kubectl("apply", "-f", "-", stdin=plain)
    stored = kubectl("get", "secret/plain", "-o", "jsonpath={.data.user} {.stringData}")
    assert base64.b64decode(stored.strip()) == b"root"
    bad = "apiVersion: v1\nkind: Secret\nmetadata: {name: bad}\ndata: {user: admin}\n"
    refused = kubectl.run("apply", "-f", "-", stdin=bad)
    assert refused.stderr == (
        'Error from server (BadRequest): error when creating "STDIN": Secret in version "v1" '
        "cannot be handled as a Secret: illegal base64 data at input byte 4\n"
    )


ENV_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: envpod}
spec:
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
    envFrom: [{configMapRef: {name: settings}}]
    env: [{name: USER_NAME, valueFrom: {secretKeyRef: {name: creds, key: user}}}]
"""


def test_env_from_a_configmap_made_after_the_pod_and_a_secret(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=ENV_POD)
    reason = "jsonpath={.status.containerStatuses[0].state.waiting.reason}"
    kubectl("wait", f"--for={reason}=CreateContainerConfigError", "pod/envpod", "--timeout=120s")
    events = kubectl("get", "events", "--field-selector=involvedObject.name=envpod")
    assert 'Error: configmap "settings" not found' in events
    kubectl("create", "configmap", "settings", "--from-literal=MODE=fast")
    kubectl("wait", "--for=condition=Ready", "pod/envpod", "--timeout=120s")
    shown = kubectl("exec", "envpod", "--", "sh", "-c", 'echo "$MODE $USER_NAME"')
    assert shown == "fast admin\n"
    assert (
        kubectl("get", "pod/envpod", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
        == "0"
    )


def test_logs_exec_and_top(kubectl: Kubectl) -> None:
    logs = kubectl("logs", "-l", "app=agent", "--prefix", "--tail=1").splitlines()
    assert logs
    assert all(line.startswith("[pod/agent-") and line.endswith("/a] tick") for line in logs)
    assert kubectl("exec", "deploy/web", "--", "echo", "hi") == "hi\n"
    top = kubectl.run("top", "pods")
    assert (top.returncode, top.stderr) == (1, "error: Metrics API not available\n")


def test_logs_previous_shows_the_instance_before_the_restart(kubectl: Kubectl) -> None:
    never = kubectl.run("logs", "pod/solo", "--previous")
    assert never.stderr == (
        'Error from server (BadRequest): previous terminated container "c" in pod "solo" not '
        "found\n"
    )
    kubectl("run", "crash", "--image=busybox", "--", "sh", "-c", "echo boom; exit 3")
    restarts = "jsonpath={.status.containerStatuses[0].restartCount}"
    wait_for(
        lambda: kubectl("get", "pod/crash", "-o", restarts) not in ("", "0"),
        PODS_READY_SECONDS,
        0.2,
    )
    assert kubectl("logs", "crash", "--previous") == "boom\n"
    kubectl("delete", "pod/crash")


def test_env_from_the_downward_api_and_expanded(kubectl: Kubectl) -> None:
    ip = kubectl("get", "pod/solo", "-o", "jsonpath={.status.podIP}")
    shown = kubectl("exec", "solo", "--", "sh", "-c", 'echo "$GREETING $POD_IP"')
    assert shown == f"hi from solo {ip}\n"


def test_args_are_expanded_with_the_environment(kubectl: Kubectl) -> None:
    kubectl(
        "run", "greet", "--image=busybox", "--restart=Never", "--env=WHO=world",
        "--command", "--", "sh", "-c", "echo hello $(WHO)",
    )  # fmt: skip
    done = "--for=jsonpath={.status.phase}=Succeeded"
    kubectl("wait", done, "pod/greet", "--timeout=120s")
    assert kubectl("logs", "greet") == "hello world\n"


def test_delete_and_wait_for_delete(kubectl: Kubectl) -> None:
    assert kubectl("delete", "pod/solo", "--wait") == 'pod "solo" deleted\n'
    gone = kubectl.run("wait", "--for=delete", "pod/solo", "--timeout=10s")
    assert gone.returncode == 0
    kubectl("delete", "pod", "-l", "app=web", "--wait")
    kubectl("wait", "--for=condition=Available", "deploy/web", "--timeout=120s")


WEB_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: webpod}}
spec:
  containers:
  - {name: web, image: "nginx:1.26", ports: [{containerPort: 80}]}
"""


def test_a_changed_pod_is_refused_and_set_image_restarts_its_container(kubectl: Kubectl) -> None:
    """kube-apiserver's ValidatePodUpdate: `apply` of a pod with a new port is refused in its
    words (without the go-cmp diff upstream appends); `set image` is allowed, and the kubelet
    restarts the container with the new image."""
    assert kubectl("apply", "-f", "-", stdin=WEB_POD) == "pod/web created\n"
    kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=120s")
    changed = WEB_POD.replace("[{containerPort: 80}]", "[{containerPort: 80}, {containerPort: 81}]")
    refused = kubectl.run("apply", "-f", "-", stdin=changed)
    assert refused.returncode == 1
    assert refused.stderr == (
        'The Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other '
        "than `spec.containers[*].image`,`spec.initContainers[*].image`,"
        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously negative)\n"
    )
    relabelled = WEB_POD.replace("app: webpod", "app: webpod, tier: front")
    assert kubectl("apply", "-f", "-", stdin=relabelled) == "pod/web configured\n"
    assert kubectl("set", "image", "pod/web", "web=nginx:1.27") == "pod/web image updated\n"
    restarted = "--for=jsonpath={.status.containerStatuses[0].restartCount}=1"
    kubectl("wait", restarted, "pod/web", "--timeout=120s")
    kubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=120s")
    image = kubectl("get", "pod/web", "-o", "jsonpath={.status.containerStatuses[0].image}")
    assert image == "nginx:1.27"
    kubectl("delete", "pod/web", "--wait=true")

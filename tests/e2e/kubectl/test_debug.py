"""`kubectl debug` on a `podwall up` cluster: ephemeral containers in a running pod.

A busybox pod `client` behind an egress NetworkPolicy, an nginx `web` behind a Service.
`kubectl debug client --image=busybox` runs `wget http://web` in the pod's network namespace:
it is let through while the policy that selects `client` allows `web`, and dropped once the
policy no longer does. The ephemeral containers show in `status.ephemeralContainerStatuses`
(terminated, with the exit code), are never restarted and leave the pod Ready. Validation,
`-c NAME` and `--copy-to` are checked through the real kubectl. The cluster is removed at the
end, also on failure.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Iterator

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import kubectl_binary
from tests.e2e.kubectl.test_cluster import clear_cluster, wait_for
from tests.e2e.kubectl.test_workflows import Kubectl
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

APP = """\
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
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
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client}}
spec:
  containers:
  - {name: app, image: busybox, command: [sleep, "3600"]}
"""

DNS = "[{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}]"
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: client-egress}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress: EGRESS
"""
ALLOW_WEB = "[{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}, " + (
    "{to: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 80}]}]"
)
WGET = ("--", "wget", "-qO-", "--timeout=2", "http://web")


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    tmp = tmp_path_factory.mktemp("debug")
    local = LocalCluster(tmp / "state", port=0)
    try:
        local.start()
        client = Kubectl(local.server.kubeconfig_path, tmp / "cache")
        client("apply", "-f", "-", stdin=APP)
        client("apply", "-f", "-", stdin=POLICY.replace("EGRESS", ALLOW_WEB))
        client("wait", "--for=condition=Ready", "pod/web", "pod/client", "--timeout=120s")
        yield client
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def _pod(kubectl: Kubectl, name: str) -> dict[str, object]:
    found = json.loads(kubectl("get", "pod", name, "-o", "json"))
    assert isinstance(found, dict)
    return found


def _ephemeral_state(kubectl: Kubectl, pod: str, container: str) -> dict[str, object]:
    statuses = _pod(kubectl, pod).get("status", {}).get("ephemeralContainerStatuses") or []  # type: ignore[attr-defined]
    return next((s["state"] for s in statuses if s["name"] == container), {})


def _debug_wget(kubectl: Kubectl, container: str) -> tuple[str, int]:
    """`kubectl debug client --image=busybox -c NAME --attach -i -- wget ...`: what it
    printed, and the container's exit code once it terminated."""
    done = kubectl.run(
        "debug", "client", "--image=busybox", "-c", container, "--attach", "-i", *WGET
    )
    wait_for(
        lambda: "terminated" in _ephemeral_state(kubectl, "client", container), PODS_READY_SECONDS
    )
    terminated = _ephemeral_state(kubectl, "client", container)["terminated"]
    assert isinstance(terminated, dict)
    out = done.stdout
    if not out.strip():
        # kubectl attaches once it sees the container running; what a quick container wrote
        # before that is not streamed (real clusters race alike), and is in its log.
        out = kubectl("logs", "client", "-c", container)
    return out, int(terminated["exitCode"])


def _app_reaches_web(kubectl: Kubectl) -> bool:
    """Whether the pod's own container gets web's page: the network the debug containers join."""
    return kubectl.run("exec", "client", "-c", "app", *WGET).returncode == 0


def test_debug_follows_the_policy_of_the_debugged_pod(kubectl: Kubectl) -> None:
    # The Service's endpoint and each policy are in force a moment after they are applied;
    # the pod's own container says when, so what the debug containers meet is settled.
    wait_for(lambda: _app_reaches_web(kubectl), SETTLED_SECONDS)
    out, code = _debug_wget(kubectl, "probe1")
    assert code == 0
    assert "nginx" in out
    kubectl("apply", "-f", "-", stdin=POLICY.replace("EGRESS", DNS))
    wait_for(lambda: not _app_reaches_web(kubectl), SETTLED_SECONDS)
    out, code = _debug_wget(kubectl, "probe2")
    assert code != 0
    assert "nginx" not in out
    pod = _pod(kubectl, "client")
    status = pod["status"]
    assert isinstance(status, dict)
    # Both stay terminated, never restarted; the pod's own container is untouched and Ready.
    names_ = [s["name"] for s in status["ephemeralContainerStatuses"]]
    assert names_ == ["probe1", "probe2"]
    assert all(s["restartCount"] == 0 for s in status["ephemeralContainerStatuses"])
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["status"] == "True"
    assert [c["name"] for c in status["containerStatuses"]] == ["app"]


def test_existing_ephemeral_container_cannot_change(kubectl: Kubectl) -> None:
    wait_for(lambda: bool(_ephemeral_state(kubectl, "client", "probe1")), PODS_READY_SECONDS)
    patch = json.dumps({"spec": {"ephemeralContainers": [{"name": "probe1", "image": "alpine"}]}})
    done = kubectl.run("patch", "pod", "client", "--subresource=ephemeralcontainers", "-p", patch)
    assert done.returncode != 0
    assert 'existing ephemeral containers "probe1" may not be changed' in done.stderr


def test_target_must_name_a_container(kubectl: Kubectl) -> None:
    done = kubectl.run(
        "debug", "client", "--image=busybox", "-c", "t1", "--target=nope", "--", "true"
    )
    assert done.returncode != 0
    assert '.targetContainerName: Not found: "nope"' in done.stderr


def test_debug_with_target_runs_in_the_pod(kubectl: Kubectl) -> None:
    kubectl("debug", "client", "--image=busybox", "-c", "t2", "--target=app", "--", "sleep", "60")
    wait_for(lambda: "running" in _ephemeral_state(kubectl, "client", "t2"), PODS_READY_SECONDS)
    # Its `ps` sees the target's process: a podwall pod shares one PID namespace.
    seen = kubectl("exec", "client", "-c", "app", "--", "ps")
    assert "sleep 60" in seen


def test_copy_to_makes_a_new_pod(kubectl: Kubectl) -> None:
    kubectl("debug", "client", "--copy-to=client-copy", "--image=busybox", "-c", "extra",
            "--", "sleep", "3600")  # fmt: skip
    kubectl("wait", "--for=condition=Ready", "pod/client-copy", "--timeout=120s")
    pod = _pod(kubectl, "client-copy")
    spec = pod["spec"]
    assert isinstance(spec, dict)
    assert [c["name"] for c in spec["containers"]] == ["app", "extra"]
    kubectl("delete", "pod", "client-copy", "--wait=false")


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_older_and_newer_kubectl_debug(kubectl: Kubectl, version: str) -> None:
    versioned = Kubectl.__new__(Kubectl)
    versioned.base = [kubectl_binary(version), *kubectl.base[1:]]
    versioned.env = kubectl.env
    name = "v" + version.replace(".", "")
    versioned("debug", "client", "--image=busybox", "-c", name, "--", "sh", "-c", "exit 7")
    wait_for(lambda: "terminated" in _ephemeral_state(kubectl, "client", name), PODS_READY_SECONDS)
    terminated = _ephemeral_state(kubectl, "client", name)["terminated"]
    assert isinstance(terminated, dict)
    assert terminated["exitCode"] == 7


def test_debug_it_with_netshoot_gives_a_shell_in_the_pod(kubectl: Kubectl) -> None:
    """`kubectl debug -it POD --image=nicolaka/netshoot` under a terminal: lines typed reach
    the shell, and its exit code is the ephemeral container's."""
    command = shlex.join([*kubectl.base, "debug", "-it", "client", "--image=nicolaka/netshoot",
                          "-c", "shell"])  # fmt: skip
    with subprocess.Popen(
        ["script", "-qec", command, "/dev/null"], env=kubectl.env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as process:  # fmt: skip
        assert process.stdin is not None
        assert process.stdout is not None
        # Kept open until the shell exits: an end of input would end the session first.
        process.stdin.write(b"echo hi-$((40+2)) $(hostname)\nexit 3\n")
        process.stdin.flush()
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
        shown = process.stdout.read().decode(errors="replace")
    assert "hi-42 client" in shown
    wait_for(
        lambda: "terminated" in _ephemeral_state(kubectl, "client", "shell"), PODS_READY_SECONDS
    )
    terminated = _ephemeral_state(kubectl, "client", "shell")["terminated"]
    assert isinstance(terminated, dict)
    assert terminated["exitCode"] == 3

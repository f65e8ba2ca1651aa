"""A StatefulSet on `podwall up`, driven by the real kubectl.

One cluster (a `LocalCluster` in this process) serves the tests here, in order: a StatefulSet
with its headless Service is applied and `kubectl rollout status` completes with pods `web-0`,
`web-1`, `web-2` made one after the other; each pod's DNS name resolves; a NetworkPolicy
selecting the set's pods admits one client and refuses another (real connections from the
pods' network namespaces); `kubectl describe` counts the pods and `kubectl rollout restart`
replaces each; scaling down removes the highest ordinal; a new image rolls over and shows in
`kubectl rollout history`, and `kubectl rollout undo` brings the old one back; a set with
volumeClaimTemplates is accepted with a warning and an event; the set deleted, its pods and
ControllerRevisions are garbage-collected. Everything is removed at the end, also on failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import table
from tests.e2e.kubectl.test_cluster import Kubectl, clear_cluster, make_kubectl, reaches, wait_for
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WEB = """\
apiVersion: v1
kind: Service
metadata: {name: nginx, labels: {app: web}}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: nginx
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: "docker.io/library/nginx:1.25", ports: [{containerPort: 80}]}
"""
CLIENTS = """\
apiVersion: v1
kind: Pod
metadata: {name: allowed, labels: {access: "true"}}
spec:
  containers:
  - {name: c, image: "docker.io/library/busybox:1.36", command: [sh, -c, sleep 1000000]}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - {name: c, image: "docker.io/library/busybox:1.36", command: [sh, -c, sleep 1000000]}
"""
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-allowed}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {access: "true"}}}]
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Kubectl, str]]:
    tmp = tmp_path_factory.mktemp("statefulsets")
    local = LocalCluster(tmp / "state", port=0)
    try:
        local.start()
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp / "cache")
        (tmp / "web.yaml").write_text(WEB)
        kubectl("apply", "-f", str(tmp / "web.yaml"))
        yield kubectl, local.cluster_id
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def web_pods(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    listed = json.loads(kubectl("get", "pods", "-l", "app=web", "-o", "json").stdout)
    return {
        p["metadata"]["name"]: p
        for p in listed["items"]
        if not p["metadata"].get("deletionTimestamp")
    }


def rolled_out(kubectl: Kubectl) -> str:
    done = kubectl("rollout", "status", "sts/web", "--timeout=90s")
    return done.stdout.strip().splitlines()[-1]


def images(kubectl: Kubectl) -> dict[str, str]:
    return {n: p["spec"]["containers"][0]["image"] for n, p in web_pods(kubectl).items()}


def test_rollout_completes_with_ordered_pods(cluster: tuple[Kubectl, str]) -> None:
    kubectl, _ = cluster
    assert rolled_out(kubectl).startswith("partitioned roll out complete: 3 new pods")
    pods = web_pods(kubectl)
    assert sorted(pods) == ["web-0", "web-1", "web-2"]
    for name, pod in pods.items():
        labels = pod["metadata"]["labels"]
        assert labels["statefulset.kubernetes.io/pod-name"] == name
        assert labels["apps.kubernetes.io/pod-index"] == name[-1]
        assert labels["controller-revision-hash"].startswith("web-")
        assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == (name, "nginx")
        assert pod["status"]["phase"] == "Running"
    started = sorted(pods, key=lambda n: pods[n]["metadata"]["creationTimestamp"])
    assert started == ["web-0", "web-1", "web-2"]
    rows = table(kubectl("get", "sts").stdout)
    assert rows[0] == ["NAME", "READY", "AGE"]
    assert rows[1][:2] == ["web", "3/3"]
    sts = json.loads(kubectl("get", "sts", "web", "-o", "json").stdout)
    status = sts["status"]
    assert status["replicas"] == status["readyReplicas"] == status["updatedReplicas"] == 3
    assert status["currentRevision"] == status["updateRevision"]
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert sts["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"partition": 0},
    }
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=web").stdout
    assert "create Pod web-2 in StatefulSet web successful" in events


def test_pod_dns_names_resolve(cluster: tuple[Kubectl, str], tmp_path: Path) -> None:
    kubectl, _ = cluster
    (tmp_path / "clients.yaml").write_text(CLIENTS)
    kubectl("apply", "-f", str(tmp_path / "clients.yaml"))
    kubectl("wait", "--for=condition=Ready", "pod/allowed", "pod/other", "--timeout=120s")
    ip = web_pods(kubectl)["web-1"]["status"]["podIP"]
    looked_up = kubectl(
        "exec", "allowed", "--", "nslookup", "web-1.nginx.default.svc.cluster.local"
    ).stdout
    assert ip in looked_up
    endpoints = json.loads(kubectl("get", "endpoints", "nginx", "-o", "json").stdout)
    hostnames = [a.get("hostname") for s in endpoints["subsets"] for a in s["addresses"]]
    assert sorted(hostnames) == ["web-0", "web-1", "web-2"]


def test_a_policy_selecting_the_set_admits_only_its_peers(
    cluster: tuple[Kubectl, str], tmp_path: Path
) -> None:
    kubectl, cluster_id = cluster
    ip = web_pods(kubectl)["web-0"]["status"]["podIP"]
    # No policy yet: open (waited for: the pods' rules follow their start).
    wait_for(lambda: reaches(cluster_id, "other", ip, 80), timeout=SETTLED_SECONDS)
    (tmp_path / "policy.yaml").write_text(POLICY)
    kubectl("apply", "-f", str(tmp_path / "policy.yaml"))
    wait_for(lambda: not reaches(cluster_id, "other", ip, 80), timeout=SETTLED_SECONDS)
    assert reaches(cluster_id, "allowed", ip, 80)


def test_describe_and_rollout_restart(cluster: tuple[Kubectl, str]) -> None:
    kubectl, _ = cluster
    described = kubectl("describe", "sts", "web").stdout
    assert "Replicas:           3 desired | 3 total\n" in described
    assert "Pods Status:        3 Running / 0 Waiting / 0 Succeeded / 0 Failed\n" in described
    before = {n: p["metadata"]["uid"] for n, p in web_pods(kubectl).items()}
    kubectl("rollout", "restart", "sts/web")
    rolled_out(kubectl)

    def replaced() -> bool:
        now = {n: p["metadata"]["uid"] for n, p in web_pods(kubectl).items()}
        return sorted(now) == sorted(before) and not set(now.values()) & set(before.values())

    wait_for(replaced, timeout=PODS_READY_SECONDS, step=0.2)


def test_scaling_down_removes_the_highest_ordinal(cluster: tuple[Kubectl, str]) -> None:
    kubectl, _ = cluster
    assert (
        kubectl("scale", "sts/web", "--replicas=2").stdout.strip() == "statefulset.apps/web scaled"
    )
    wait_for(
        lambda: sorted(web_pods(kubectl)) == ["web-0", "web-1"],
        timeout=PODS_READY_SECONDS,
        step=0.2,
    )
    rolled_out(kubectl)
    assert table(kubectl("get", "sts", "web").stdout)[1][1] == "2/2"


def test_a_new_image_rolls_over_and_undo_brings_the_old_one_back(
    cluster: tuple[Kubectl, str],
) -> None:
    kubectl, _ = cluster
    kubectl("set", "image", "sts/web", "nginx=docker.io/library/nginx:1.27")
    rolled_out(kubectl)
    wait_for(
        lambda: set(images(kubectl).values()) == {"docker.io/library/nginx:1.27"},
        PODS_READY_SECONDS,
        0.2,
    )
    history = table(kubectl("rollout", "history", "sts/web").stdout)
    assert history[:2] == [["statefulset.apps/web"], ["REVISION", "CHANGE-CAUSE"]]
    assert [row[0] for row in history[2:]] == ["1", "2", "3"]  # created, restarted, new image
    shown = kubectl("rollout", "history", "sts/web", "--revision=1").stdout
    assert "nginx:1.25" in shown
    undone = kubectl("rollout", "undo", "sts/web").stdout.strip()
    assert undone == "statefulset.apps/web rolled back"
    rolled_out(kubectl)
    wait_for(
        lambda: set(images(kubectl).values()) == {"docker.io/library/nginx:1.25"},
        PODS_READY_SECONDS,
        0.2,
    )
    history = table(kubectl("rollout", "history", "sts/web").stdout)
    assert [row[0] for row in history[2:]] == ["1", "3", "4"]  # the restarted one is back
    revisions = table(kubectl("get", "controllerrevisions").stdout)
    assert revisions[0] == ["NAME", "CONTROLLER", "REVISION", "AGE"]
    assert {row[1] for row in revisions[1:]} == {"statefulset.apps/web"}


CLAIMS = """\
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store}
spec:
  serviceName: store
  replicas: 1
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      containers:
      - name: nginx
        image: docker.io/library/nginx:1.25
        volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
"""


def test_claim_templates_are_accepted_with_a_warning_and_an_event(
    cluster: tuple[Kubectl, str], tmp_path: Path
) -> None:
    kubectl, _ = cluster
    (tmp_path / "claims.yaml").write_text(CLAIMS)
    applied = kubectl("apply", "-f", str(tmp_path / "claims.yaml"))
    assert applied.stdout.strip() == "statefulset.apps/store created"
    assert "Warning: spec.volumeClaimTemplates: podwall serves no PersistentVolumeClaims" in (
        applied.stderr
    )
    kubectl("rollout", "status", "sts/store", "--timeout=120s")
    events = kubectl("get", "events", "--field-selector", "involvedObject.name=store").stdout
    assert "FailedCreatePodVolume" in events
    kubectl("delete", "sts", "store")


def test_the_set_deleted_its_pods_and_revisions_go(cluster: tuple[Kubectl, str]) -> None:
    kubectl, _ = cluster
    kubectl("delete", "sts", "web", "--wait=false")
    wait_for(lambda: web_pods(kubectl) == {}, timeout=PODS_READY_SECONDS, step=0.2)

    def revisions_left() -> str:
        return kubectl("get", "controllerrevisions", "-o", "name").stdout.strip()

    wait_for(lambda: revisions_left() == "", timeout=PODS_READY_SECONDS, step=0.2)

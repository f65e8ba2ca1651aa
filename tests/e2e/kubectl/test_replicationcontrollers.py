"""A ReplicationController on `podwall up`, driven by the real kubectl, as Calico's stars demo
and the old Guestbook create theirs.

One cluster (a `LocalCluster` in this process) serves the tests here, in order: an RC without a
selector is applied (it takes its template's labels) and its pods come up Running, each owned by
the RC (`v1`, `ReplicationController`); `kubectl get rc` prints upstream's columns, `-o wide`
the containers, images and selector; `kubectl scale rc` grows and shrinks it; `kubectl describe
rc` counts its pods and shows the controller's events; `podwall check --kubeconfig` reads the
RC's pods from the cluster (`rc/NAME`); a pod relabelled out of the selector is released (no
longer owned, still running) and replaced; a selector that does not pick the
template is refused in the API server's words; `kubectl delete rc` removes its pods.
Everything is removed at the end, also on failure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.clirunner import invoke
from tests.e2e.kubectl.test_apiserver import table
from tests.e2e.kubectl.test_cluster import Kubectl, clear_cluster, make_kubectl, wait_for
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

FRONTEND = """\
kind: ReplicationController
apiVersion: v1
metadata:
  name: frontend
spec:
  replicas: 1
  template:
    metadata:
      labels: {role: frontend}
    spec:
      containers:
      - name: frontend
        image: "docker.io/library/nginx:1.25"
        ports: [{containerPort: 80}]
"""
MISMATCHED = """\
kind: ReplicationController
apiVersion: v1
metadata: {name: wrong}
spec:
  selector: {role: backend}
  template:
    metadata: {labels: {role: frontend}}
    spec:
      containers: [{name: c, image: "docker.io/library/nginx:1.25"}]
"""
PATHS: dict[str, Path] = {}  # what the cluster fixture wrote: the manifests, the kubeconfig


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    tmp = tmp_path_factory.mktemp("replicationcontrollers")
    local = LocalCluster(tmp / "state", port=0)
    try:
        local.start()
        PATHS["kubeconfig"] = local.server.kubeconfig_path
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp / "cache")
        for name, text in (("frontend.yaml", FRONTEND), ("mismatched.yaml", MISMATCHED)):
            PATHS[name] = tmp / name
            PATHS[name].write_text(text)
        kubectl("apply", "-f", str(PATHS["frontend.yaml"]))
        yield kubectl
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def pods(kubectl: Kubectl) -> list[dict[str, Any]]:
    listed = json.loads(kubectl("get", "pods", "-l", "role=frontend", "-o", "json").stdout)
    return [p for p in listed["items"] if not p["metadata"].get("deletionTimestamp")]


def running(kubectl: Kubectl, count: int) -> bool:
    found = pods(kubectl)
    return len(found) == count and all(p["status"].get("phase") == "Running" for p in found)


def test_an_rc_without_a_selector_runs_its_pods_owned_by_it(cluster: Kubectl) -> None:
    rc = json.loads(cluster("get", "rc", "frontend", "-o", "json").stdout)
    assert rc["spec"]["selector"] == {"role": "frontend"}  # defaulted from the template
    assert rc["metadata"]["labels"] == {"role": "frontend"}
    wait_for(lambda: running(cluster, 1), PODS_READY_SECONDS)
    (pod,) = pods(cluster)
    assert pod["metadata"]["name"].startswith("frontend-")
    assert pod["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "ReplicationController",
            "name": "frontend",
            "uid": rc["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def test_get_rc_prints_upstream_s_columns(cluster: Kubectl) -> None:
    wait_for(
        lambda: table(cluster("get", "rc").stdout)[1][:4] == ["frontend", "1", "1", "1"],
        SETTLED_SECONDS,
    )
    rows = table(cluster("get", "rc", "-o", "wide").stdout)
    assert rows[0] == [
        "NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"
    ]  # fmt: skip
    assert rows[1][5:] == ["frontend", "docker.io/library/nginx:1.25", "role=frontend"]
    everything = cluster("get", "all").stdout
    assert "replicationcontroller/frontend" in everything


def test_scale_rc_grows_and_shrinks_it(cluster: Kubectl) -> None:
    assert cluster("scale", "rc", "frontend", "--replicas=3").stdout == (
        "replicationcontroller/frontend scaled\n"
    )
    wait_for(lambda: running(cluster, 3), PODS_READY_SECONDS)
    described = cluster("describe", "rc", "frontend").stdout
    assert "Replicas:     3 current / 3 desired" in described
    assert "Pods Status:  3 Running / 0 Waiting / 0 Succeeded / 0 Failed" in described
    assert "SuccessfulCreate" in described
    assert "replication-controller" in described
    cluster("scale", "rc/frontend", "--replicas=1")
    wait_for(lambda: running(cluster, 1), PODS_READY_SECONDS)


def test_the_analyzer_reads_the_rc_s_pods_from_the_cluster(cluster: Kubectl) -> None:
    live = ("--kubeconfig", str(PATHS["kubeconfig"]))
    args = ["check", *live, "--from", "rc/frontend", "--to", "replicationcontroller/frontend:80"]
    result = invoke(args)
    assert result.exit_code == 0, result.output
    (pod,) = pods(cluster)
    assert f"ALLOWED  default/{pod['metadata']['name']}" in result.stdout


def test_a_pod_relabelled_out_of_the_rc_is_released_and_replaced(cluster: Kubectl) -> None:
    (pod,) = pods(cluster)
    name = pod["metadata"]["name"]
    cluster("label", "pod", name, "role=debug", "--overwrite")
    wait_for(
        lambda: running(cluster, 1) and pods(cluster)[0]["metadata"]["name"] != name,
        PODS_READY_SECONDS,
    )
    released = json.loads(cluster("get", "pod", name, "-o", "json").stdout)
    assert "ownerReferences" not in released["metadata"]
    assert released["status"]["phase"] == "Running"  # still there, for debugging


def test_a_selector_that_misses_the_template_is_refused(cluster: Kubectl) -> None:
    done = cluster("apply", "-f", str(PATHS["mismatched.yaml"]), check=False)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        'The ReplicationController "wrong" is invalid: spec.template.metadata.labels: '
        'Invalid value: map[string]string{"role":"frontend"}: '
        "`selector` does not match template `labels`"
    )


def test_delete_rc_removes_its_pods(cluster: Kubectl) -> None:
    assert cluster("delete", "rc", "frontend").stdout == (
        'replicationcontroller "frontend" deleted\n'
    )
    wait_for(lambda: not pods(cluster), PODS_READY_SECONDS)
    assert cluster("get", "rc").stderr.strip() == "No resources found in default namespace."
    left = json.loads(cluster("get", "pods", "-l", "role=debug", "-o", "json").stdout)["items"]
    assert len(left) == 1  # the released pod is no longer the RC's: not collected with it
    cluster("delete", "pods", "-l", "role=debug")

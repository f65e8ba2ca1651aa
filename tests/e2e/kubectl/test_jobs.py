"""Jobs as labs run them: a client pod that connects to a Service, waited on, its logs read.

On one `podwall up` cluster: an nginx Deployment `web` with its Service; `kubectl create job`
of a busybox `wget` to it, `kubectl wait --for=condition=complete`, `kubectl logs job/NAME`
shows nginx's page; a NetworkPolicy that denies `web` its ingress makes a Job with
backoffLimit 0 fail (`kubectl wait --for=condition=failed`); `kubectl delete job` takes its
pods; an Indexed Job's pods each read their index; `kubectl create job --from=cronjob/NAME`
runs a CronJob's template at once; `kubectl apply --prune -l` works without
`--prune-allowlist` (batch/v1 kinds are in its default list). The cluster and its namespaces
are removed at the end, also on failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import table
from tests.e2e.kubectl.test_cluster import clear_cluster, wait_for
from tests.e2e.kubectl.test_workflows import Kubectl

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 1
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
"""
DENY_WEB = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-deny-all}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
"""
BLOCKED_PROBE = """\
apiVersion: batch/v1
kind: Job
metadata: {name: blocked}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: probe, image: busybox, command: [wget, -q, -T, "2", -O-, "http://web"]}
"""
INDEXED = """\
apiVersion: batch/v1
kind: Job
metadata: {name: indexed}
spec:
  completionMode: Indexed
  completions: 3
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: c, image: busybox, command: [sh, -c, "echo index $JOB_COMPLETION_INDEX"]}
"""
PRUNED = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: keep, labels: {lab: prune}}
"""
PRUNABLE = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: drop, labels: {lab: prune}}
"""


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    tmp = tmp_path_factory.mktemp("jobs")
    local = LocalCluster(tmp / "state", port=0)
    try:
        local.start()
        client = Kubectl(local.server.kubeconfig_path, tmp / "cache")
        client("apply", "-f", "-", stdin=APP)
        client("rollout", "status", "deploy/web", "--timeout=90s")
        yield client
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def _pods_of(kubectl: Kubectl, job: str) -> list[str]:
    out = kubectl("get", "pods", "-l", f"job-name={job}", "-o", "name")
    return out.split()


def test_a_job_reaches_a_service_completes_and_logs_the_answer(kubectl: Kubectl) -> None:
    created = kubectl("create", "job", "probe", "--image=busybox", "--", "wget", "-qO-", "web")
    assert created == "job.batch/probe created\n"
    done = kubectl("wait", "--for=condition=complete", "job/probe", "--timeout=90s")
    assert done == "job.batch/probe condition met\n"
    assert "Welcome to nginx!" in kubectl("logs", "job/probe")
    rows = table(kubectl("get", "jobs"))
    assert rows[0] == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert rows[1][:3] == ["probe", "Complete", "1/1"]
    [pod] = _pods_of(kubectl, "probe")
    phase = kubectl("get", pod, "-o", "jsonpath={.status.phase}")
    assert phase == "Succeeded"
    listed = table(kubectl("get", "pods", "-l", "job-name=probe"))
    assert listed[1][1:4] == ["0/1", "Completed", "0"]
    conditions = kubectl("get", "job/probe", "-o", "jsonpath={.status.conditions[*].type}")
    assert conditions == "SuccessCriteriaMet Complete"


def test_a_policy_that_blocks_the_service_fails_a_job_without_retries(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=DENY_WEB)
    try:
        kubectl("apply", "-f", "-", stdin=BLOCKED_PROBE)
        failed = kubectl("wait", "--for=condition=failed", "job/blocked", "--timeout=90s")
        assert failed == "job.batch/blocked condition met\n"
        reason = kubectl(
            "get", "job/blocked", "-o", "jsonpath={.status.conditions[?(@.type=='Failed')].reason}"
        )
        assert reason == "BackoffLimitExceeded"
        assert len(_pods_of(kubectl, "blocked")) == 1  # backoffLimit 0: no second attempt
        listed = table(kubectl("get", "pods", "-l", "job-name=blocked"))
        assert listed[1][1:3] == ["0/1", "Error"]
        assert table(kubectl("get", "job/blocked"))[1][:3] == ["blocked", "Failed", "0/1"]
    finally:
        kubectl("delete", "networkpolicy", "web-deny-all")


def test_deleting_a_job_deletes_its_pods(kubectl: Kubectl) -> None:
    kubectl("create", "job", "doomed", "--image=busybox", "--", "sleep", "3600")
    kubectl("wait", "--for=condition=Ready", "pod", "-l", "job-name=doomed", "--timeout=90s")
    assert kubectl("delete", "job", "doomed") == 'job.batch "doomed" deleted\n'
    wait_for(lambda: not _pods_of(kubectl, "doomed"), timeout=90, step=0.5)


def test_apply_prune_needs_no_allowlist(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=PRUNED + "---\n" + PRUNABLE)
    out = kubectl("apply", "--prune", "-l", "lab=prune", "-f", "-", stdin=PRUNED)
    assert "configmap/drop pruned" in out
    assert kubectl("get", "configmaps", "-l", "lab=prune", "-o", "name") == "configmap/keep\n"


def test_a_job_from_a_cronjob_runs_its_template_now(kubectl: Kubectl) -> None:
    schedule = "--schedule=0 0 1 1 *"  # once a year: the test never sees it run by itself
    kubectl("create", "cronjob", "yearly", "--image=busybox", schedule, "--", "wget", "-qO-", "web")
    rows = table(kubectl("get", "cronjobs"))
    assert rows[1][:5] == ["yearly", "0 0 1 1 *", "<none>", "False", "0"]
    assert kubectl("create", "job", "now", "--from=cronjob/yearly") == "job.batch/now created\n"
    kubectl("wait", "--for=condition=complete", "job/now", "--timeout=90s")
    assert "Welcome to nginx!" in kubectl("logs", "job/now")
    owner = kubectl("get", "job/now", "-o", "jsonpath={.metadata.ownerReferences[0].name}")
    assert owner == "yearly"
    kubectl("delete", "cronjob", "yearly")
    wait_for(lambda: "job.batch/now" not in kubectl("get", "jobs", "-o", "name"), 90, 0.5)


def test_an_indexed_job_gives_each_pod_its_index(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=INDEXED)
    kubectl("wait", "--for=condition=complete", "job/indexed", "--timeout=90s")
    said = sorted(kubectl("logs", pod).strip() for pod in _pods_of(kubectl, "indexed"))
    assert said == ["index 0", "index 1", "index 2"]
    completed = kubectl("get", "job/indexed", "-o", "jsonpath={.status.completedIndexes}")
    assert completed == "0-2"

"""The analyzer on a running cluster: check, explain, matrix, diff, lint and exposure read it
with the official client (`--kubeconfig`, and `--cluster` for the running `podwall up`), and
`-f` files and `--git` revisions layer on top of it ("what if I apply this?").

A `LocalCluster` runs in this process (tmp state directory, a free port); the tutorial is
applied with the real kubectl, so the pods have their real names and addresses.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podwall.cli import daemon
from podwall.cluster.local import LocalCluster
from tests.clirunner import Result, invoke
from tests.e2e.kubectl.test_apiserver import ALLOW, DENY, SIMPLE_APP
from tests.e2e.kubectl.test_cluster import Kubectl, cluster, make_kubectl, wait_for
from tests.e2e.kubectl.watching import PODS_READY_SECONDS
from tests.unit.cli.gitrepo import make_repo

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

__all__ = ["cluster"]  # the fixture, shared with test_cluster.py


@pytest.fixture
def lab(cluster: LocalCluster, tmp_path: Path) -> tuple[Path, Kubectl]:
    """The tutorial's app and its deny policy applied; every pod has its address."""
    kubeconfig = cluster.server.kubeconfig_path
    kubectl = make_kubectl(kubeconfig, tmp_path / "cache")
    kubectl("apply", "-f", str(SIMPLE_APP), "-f", str(DENY))

    def addressed() -> bool:
        pods = json.loads(kubectl("get", "pods", "-o", "json").stdout)["items"]
        return len(pods) == 3 and all((p.get("status") or {}).get("podIP") for p in pods)

    wait_for(addressed, timeout=PODS_READY_SECONDS)
    return kubeconfig, kubectl


def run(*args: str) -> Result:
    return invoke(args)


def test_check_on_the_cluster_and_with_a_file_on_top(lab: tuple[Path, Kubectl]) -> None:
    kubeconfig, _ = lab
    live = ("--kubeconfig", str(kubeconfig))
    denied = run("check", *live, "--from", "deploy/frontend", "--to", "svc/backend:8080")
    assert denied.exit_code == 1, denied.output
    assert "isolated for ingress by default/backend-ingress-deny" in denied.stdout
    # The pods are the cluster's own: names with their ReplicaSet's hash, real addresses.
    assert "DENIED  default/frontend-" in denied.stdout
    allowed = run(
        "check", *live, "-f", str(ALLOW), "--from", "deploy/frontend", "--to", "svc/backend:8080"
    )
    assert allowed.exit_code == 0, allowed.output
    assert "allowed by default/backend-allow-ingress-frontend ingress[0]" in allowed.stdout


def test_explain_and_matrix(lab: tuple[Path, Kubectl]) -> None:
    kubeconfig, _ = lab
    live = ("--kubeconfig", str(kubeconfig))
    explained = run("explain", *live, "--from", "deploy/not-frontend", "--to", "svc/backend:8080")
    assert explained.exit_code == 1
    assert "has no ingress rules: default deny" in explained.stdout
    data = json.loads(run("matrix", *live, "--port", "8080", "-o", "json").stdout)
    mine = [p for p in data["pods"] if p.startswith("default/")]
    assert len(mine) == 3
    backend = data["pods"].index(next(p for p in mine if p.startswith("default/backend-")))
    frontend = data["pods"].index(next(p for p in mine if p.startswith("default/frontend-")))
    assert data["allowed"][frontend][backend] is False


ADMIN_DENY = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: deny-not-frontend
spec:
  tier: Admin
  priority: 10
  subject:
    pods:
      namespaceSelector: {}
      podSelector: {matchLabels: {app: backend}}
  ingress:
  - name: no-not-frontend
    action: Deny
    from:
    - pods:
        namespaceSelector: {}
        podSelector: {matchLabels: {app: not-frontend}}
  - name: pass-the-rest
    action: Pass
    from:
    - namespaces: {}
"""


def test_explain_names_the_tiers_of_the_cluster(lab: tuple[Path, Kubectl]) -> None:
    kubeconfig, kubectl = lab
    live = ("--kubeconfig", str(kubeconfig))
    admin = kubeconfig.parent / "admin.yaml"
    admin.write_text(ADMIN_DENY)
    kubectl("apply", "-f", str(admin), "-f", str(ALLOW))
    denied = run("explain", *live, "--from", "deploy/not-frontend", "--to", "svc/backend:8080")
    assert denied.exit_code == 1, denied.output
    assert "denied by admin/deny-not-frontend rule 'no-not-frontend' (priority 10" in (
        denied.stdout
    )
    passed = run("explain", *live, "--from", "deploy/frontend", "--to", "svc/backend:8080")
    assert passed.exit_code == 0, passed.output
    assert "passed by admin/deny-not-frontend rule 'pass-the-rest'" in passed.stdout
    assert "then allowed by default/backend-allow-ingress-frontend ingress[0]" in passed.stdout
    # Deleted, the tier is gone from the next reading.
    kubectl("delete", "clusternetworkpolicy", "deny-not-frontend")
    after = run("explain", *live, "--from", "deploy/frontend", "--to", "svc/backend:8080")
    assert "admin/" not in after.stdout


def test_diff_of_the_cluster_and_a_file_applied(lab: tuple[Path, Kubectl]) -> None:
    kubeconfig, _ = lab
    result = run("diff", "--kubeconfig", str(kubeconfig), str(ALLOW), "-o", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["newly_denied"] == []
    ((entry),) = data["newly_allowed"]
    assert entry["src"].startswith("default/frontend-")
    assert entry["dst"].startswith("default/backend-")
    same = run("diff", "--kubeconfig", str(kubeconfig), str(DENY))
    assert same.exit_code == 0, same.output
    # The manifests the cluster runs: each Deployment is its running pods, no change.
    unchanged = run("diff", "--kubeconfig", str(kubeconfig), str(SIMPLE_APP), str(DENY))
    assert unchanged.exit_code == 0, unchanged.output
    assert unchanged.stdout.startswith("no change"), unchanged.output
    # The whole tutorial: its one new connection, named by workload on both ends.
    tutorial = run("diff", "--kubeconfig", str(kubeconfig), str(SIMPLE_APP.parent), "-o", "json")
    assert tutorial.exit_code == 1, tutorial.output
    assert json.loads(tutorial.stdout) == {
        "newly_allowed": [{"src": "default/frontend", "dst": "default/backend", "ports": "all"}],
        "newly_denied": [],
    }


def test_lint_and_exposure(lab: tuple[Path, Kubectl]) -> None:
    kubeconfig, _ = lab
    live = ("--kubeconfig", str(kubeconfig))
    linted = run("lint", *live, "-o", "json")
    assert linted.exit_code == 0, linted.output
    assert json.loads(linted.stdout) == {"findings": [], "skipped": []}
    # A policy whose label is misspelt, layered on top: found at its file and line.
    bad = ALLOW.read_text().replace("app: backend", "app: backnd")
    bad_file = kubeconfig.parent / "bad.yaml"
    bad_file.write_text(bad)
    found = run("lint", *live, "-f", str(bad_file))
    assert found.exit_code == 1
    assert f"{bad_file}:" in found.stdout
    assert "[PW001 policy-selects-nothing]" in found.stdout
    exposed = run("exposure", *live, "deploy/backend")
    assert exposed.exit_code == 0, exposed.output
    assert "from outside the cluster: no" in exposed.stdout
    assert "from pods: none" in exposed.stdout


def test_a_git_revision_applied_on_the_cluster(
    lab: tuple[Path, Kubectl], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command reads `--git REV:PATH` layered on the cluster, as it reads -f files."""
    kubeconfig, _ = lab
    monkeypatch.chdir(make_repo(tmp_path / "repo", (ALLOW,)))
    live = ("--kubeconfig", str(kubeconfig), "--git", "HEAD:k8s")
    connection = ("--from", "deploy/frontend", "--to", "svc/backend:8080")
    checked = run("check", *live, *connection)
    assert checked.exit_code == 0, checked.output
    assert "allowed by default/backend-allow-ingress-frontend ingress[0]" in checked.stdout
    explained = run("explain", *live, "--from", "deploy/not-frontend", "--to", "svc/backend:8080")
    assert explained.exit_code == 1, explained.output
    data = json.loads(run("matrix", *live, "--port", "8080", "-o", "json").stdout)
    backend = next(i for i, p in enumerate(data["pods"]) if p.startswith("default/backend-"))
    frontend = next(i for i, p in enumerate(data["pods"]) if p.startswith("default/frontend-"))
    assert data["allowed"][frontend][backend] is True
    diffed = run("diff", *live, "-o", "json")
    assert diffed.exit_code == 1, diffed.output
    ((entry),) = json.loads(diffed.stdout)["newly_allowed"]
    assert entry["src"].startswith("default/frontend-")
    assert entry["dst"].startswith("default/backend-")
    linted = run("lint", *live)
    assert linted.exit_code == 0, linted.output
    exposed = run("exposure", *live, "deploy/backend")
    assert exposed.exit_code == 0, exposed.output
    assert "from namespace default: frontend-" in exposed.stdout


def test_cluster_flag_reads_the_running_podwall_up(
    lab: tuple[Path, Kubectl],
    cluster: LocalCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kubeconfig, _ = lab
    state = tmp_path / "up-state"
    state.mkdir()
    monkeypatch.setenv(daemon.ENV_STATE_DIR, str(state))
    missing = run("matrix", "--cluster")
    assert missing.exit_code == 2
    assert "no kubeconfig there" in missing.stderr
    daemon.write_ready(
        state,
        daemon.Running(
            pid=0, url=cluster.server.url, kubeconfig=str(kubeconfig), cluster_id=cluster.cluster_id
        ),
    )
    result = run("check", "--cluster", "--from", "deploy/frontend", "--to", "svc/backend:8080")
    assert result.exit_code == 1, result.output


def test_an_unreachable_cluster_is_bad_input(lab: tuple[Path, Kubectl], tmp_path: Path) -> None:
    kubeconfig, _ = lab
    dead = tmp_path / "dead.kubeconfig"
    # The same credentials, a port nothing listens on (the cluster's own port plus nothing).
    text = kubeconfig.read_text()
    server = next(line for line in text.splitlines() if "server:" in line).split("server:")[1]
    dead.write_text(text.replace(server.strip(), "https://127.0.0.1:9"))
    result = run("matrix", "--kubeconfig", str(dead))
    assert result.exit_code == 2
    assert "cannot reach the cluster" in result.stderr

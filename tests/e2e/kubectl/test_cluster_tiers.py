"""ClusterNetworkPolicy enforced on `podwall up`: applied with the real kubectl, enforced by the
node agent on real connections from inside the pods' network namespaces.

The lab's app, then the tiers of examples/tiers: a Baseline default deny closes the backend; a
NetworkPolicy opening it to everyone is final for the pod it selects, so both clients get in;
an Admin Deny of not-frontend is evaluated before any NetworkPolicy, so not-frontend is out
again while frontend stays in; deleting the Admin policy lets not-frontend back in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.e2e.kubectl.test_apiserver import SIMPLE_APP, table
from tests.e2e.kubectl.test_cluster import (
    Kubectl,
    clear_cluster,
    make_kubectl,
    pod_ready_count,
    reaches,
    wait_for,
)
from tests.e2e.kubectl.watching import PODS_READY_SECONDS, SETTLED_SECONDS

pytestmark = [pytest.mark.kubectl, pytest.mark.netns]

TIERS = Path(__file__).resolve().parents[3] / "examples" / "tiers"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    local = LocalCluster(tmp_path / "state", port=0)
    try:
        local.start()
        yield local
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def _pod_of(kubectl: Kubectl, app: str) -> str:
    return kubectl(
        "get", "pods", "-l", f"app={app}", "-o", "jsonpath={.items[0].metadata.name}"
    ).stdout


def test_the_admin_and_baseline_tiers_around_the_lab(cluster: LocalCluster, tmp_path: Path) -> None:
    kubectl = make_kubectl(cluster.server.kubeconfig_path, tmp_path / "cache")
    kubectl("apply", "-f", str(SIMPLE_APP))
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=PODS_READY_SECONDS)
    service = next(r for r in table(kubectl("get", "svc").stdout) if r[0] == "backend")
    backend = service[2]
    ident = cluster.cluster_id
    frontend, not_frontend = _pod_of(kubectl, "frontend"), _pod_of(kubectl, "not-frontend")

    def state() -> tuple[bool, bool]:
        return reaches(ident, frontend, backend, 8080), reaches(ident, not_frontend, backend, 8080)

    def becomes(expected: tuple[bool, bool]) -> None:
        wait_for(lambda: state() == expected, timeout=SETTLED_SECONDS, step=0.2)

    becomes((True, True))
    kubectl("apply", "-f", str(TIERS / "baseline-default-deny.yaml"))
    becomes((False, False))
    kubectl("apply", "-f", str(TIERS / "backend-allow-all.yaml"))
    becomes((True, True))
    kubectl("apply", "-f", str(TIERS / "admin-deny-not-frontend.yaml"))
    becomes((True, False))
    rows = table(kubectl("get", "cnp").stdout)
    assert [r[:3] for r in rows[1:]] == [
        ["default-deny", "Baseline", "1000"],
        ["deny-not-frontend", "Admin", "10"],
    ]
    kubectl("delete", "cnp", "deny-not-frontend")
    becomes((True, True))


ANP = Path(__file__).resolve().parents[3] / "examples" / "anp"


def test_admin_network_policies_around_the_lab(cluster: LocalCluster, tmp_path: Path) -> None:
    """The same walk with the v1alpha1 kinds (examples/anp): the BaselineAdminNetworkPolicy
    closes the backend, a NetworkPolicy opens it, the AdminNetworkPolicy shuts not-frontend out
    before any NetworkPolicy, and deleting it lets not-frontend back in."""
    kubectl = make_kubectl(cluster.server.kubeconfig_path, tmp_path / "cache")
    kubectl("apply", "-f", str(SIMPLE_APP))
    wait_for(lambda: pod_ready_count(kubectl) == 3, timeout=20)
    service = next(r for r in table(kubectl("get", "svc").stdout) if r[0] == "backend")
    backend = service[2]
    ident = cluster.cluster_id
    frontend, not_frontend = _pod_of(kubectl, "frontend"), _pod_of(kubectl, "not-frontend")

    def state() -> tuple[bool, bool]:
        return reaches(ident, frontend, backend, 8080), reaches(ident, not_frontend, backend, 8080)

    def becomes(expected: tuple[bool, bool]) -> None:
        wait_for(lambda: state() == expected, timeout=10, step=0.2)

    becomes((True, True))
    kubectl("apply", "-f", str(ANP / "baseline-default-deny.yaml"))
    becomes((False, False))
    kubectl("apply", "-f", str(TIERS / "backend-allow-all.yaml"))
    becomes((True, True))
    kubectl("apply", "-f", str(ANP / "admin-deny-not-frontend.yaml"))
    becomes((True, False))
    assert [r[:2] for r in table(kubectl("get", "anp").stdout)] == [
        ["NAME", "PRIORITY"],
        ["deny-not-frontend", "10"],
    ]
    kubectl("delete", "anp", "deny-not-frontend")
    becomes((True, True))

"""The upstream ClusterNetworkPolicy conformance setup, verbatim, on `podwall up --nodes 2`.

network-policy-api's `conformance/base/manifests.yaml` (rendered as its suite renders it, with
the default HostNetworkPorts 34345..) is applied with the real kubectl and every StatefulSet
must roll out (`kubectl rollout status`): agnhost clients without command or args (the image's
CMD, pause), servers wrapped in `/bin/bash -c "/agnhost ..."`, porter on SCTP ports, and the
host-network centaurs, whose pods have their node's address. Then a few conformance tests'
first subtests: upstream's policy YAML applied verbatim with kubectl, and each row of the
translated truth tables (`tests/conformance/cnp/tests/*.yaml`, read with the suite's loader)
probed as upstream's PokeServer does, `kubectl exec -n NS POD -c CLIENT -- /agnhost connect
IP:PORT --timeout=3s --protocol=tcp`, until it matches (upstream polls too: a policy takes
effect shortly after it is written) or `POKE_SECONDS` pass.

A handful of probes, not the suite: `tests/integration/conformance` runs every row on real
packets. One cluster serves the tests here, in order; it is removed at the end, also on failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from podwall.cluster.local import LocalCluster
from podwall.runtime import names, netns
from tests.conformance.cnp import suite
from tests.e2e.kubectl.test_cluster import Kubectl, clear_cluster, make_kubectl

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

STATEFULSETS = {
    "network-policy-conformance-gryffindor": "harry-potter",
    "network-policy-conformance-slytherin": "draco-malfoy",
    "network-policy-conformance-hufflepuff": "cedric-diggory",
    "network-policy-conformance-ravenclaw": "luna-lovegood",
    "network-policy-conformance-forbidden-forrest": "centaur",
}
NAMESPACE_OF = {sts: ns for ns, sts in STATEFULSETS.items()}
POKE_SECONDS = 60.0  # returns once the probe matches: the bound is for a loaded machine
ROLLOUT = "--timeout=120s"  # per set, within make_kubectl's KUBECTL_SECONDS


@dataclass(frozen=True, slots=True)
class Live:
    kubectl: Kubectl
    tmp: Path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("cnp-conformance")
    local = LocalCluster(tmp / "state", port=0, nodes=2)
    try:
        local.start()
        kubectl = make_kubectl(local.server.kubeconfig_path, tmp / "cache")
        kubectl("apply", "-f", str(rendered(tmp, "manifests.yaml")))
        yield Live(kubectl, tmp)
    finally:
        local.stop()
        clear_cluster(local.cluster_id, local.state_dir)
    assert netns.leftovers(names.cluster_prefix(local.cluster_id)) == []


def rendered(tmp: Path, name: str) -> Path:
    """Upstream's file `name` (under conformance/base), rendered as its suite renders it."""
    out = tmp / name.replace("/", "--")
    out.write_text(suite.render_template((suite.UPSTREAM / name).read_text()))
    return out


def pod(kubectl: Kubectl, name: str) -> dict[str, Any]:
    namespace = NAMESPACE_OF[name.rsplit("-", 1)[0]]
    found: dict[str, Any] = json.loads(
        kubectl("get", "pod", "-n", namespace, name, "-o", "json").stdout
    )
    return found


def poke(kubectl: Kubectl, row: suite.Row) -> bool:
    """Upstream's PokeServer, once: the client pod's client container connects to the server
    pod's status.podIP."""
    client_set = row.client.rsplit("-", 1)[0]
    server_ip = pod(kubectl, row.server)["status"]["podIP"]
    done = kubectl(
        "exec", "-n", NAMESPACE_OF[client_set], row.client, "-c", f"{client_set}-client", "--",
        "/agnhost", "connect", f"{server_ip}:{row.port}", "--timeout=3s",
        f"--protocol={row.protocol.lower()}",
        check=False,
    )  # fmt: skip
    return done.returncode == 0


def matches(kubectl: Kubectl, row: suite.Row) -> bool:
    """Whether the row's probe gives its expected result within POKE_SECONDS."""
    deadline = time.monotonic() + POKE_SECONDS
    while poke(kubectl, row) != row.allowed:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True


def first_steps(test: str, count: int) -> list[suite.Step]:
    """The first `count` steps of conformance test `test`, which change nothing: upstream's
    policies as applied."""
    loaded = suite.load_file(suite.TESTS / f"{test}.yaml")
    for subtest in loaded.raw["subtests"][:count]:
        assert all("change" not in step for step in subtest["steps"]), subtest["name"]
    names_ = [s["name"] for s in loaded.raw["subtests"][:count]]
    return [step for step in loaded.steps if step.subtest in names_]


def run_steps(live: Live, test: str, count: int) -> None:
    """Apply test `test`'s upstream policies with kubectl, check its first `count` subtests'
    rows, then delete the policies (as upstream's suite cleans up after each test)."""
    loaded = suite.load_file(suite.TESTS / f"{test}.yaml")
    files = [rendered(live.tmp, name) for name in loaded.raw["manifests"]]
    for path in files:
        live.kubectl("apply", "-f", str(path))
    try:
        wrong = [
            f"{step.label}: {row.render()}"
            for step in first_steps(test, count)
            for row in step.rows
            if not matches(live.kubectl, row)
        ]
    finally:
        for path in files:
            live.kubectl("delete", "-f", str(path), "--wait=true")
    assert wrong == []


def not_ready(kubectl: Kubectl, namespace: str) -> list[str]:
    """Each container of the namespace's pods that is not ready, with its state: what a
    failed rollout says."""
    listed = json.loads(kubectl("get", "pods", "-n", namespace, "-o", "json").stdout)
    return [
        f"{p['metadata']['name']}/{c['name']} restarts={c['restartCount']} {c['state']}"
        for p in listed["items"]
        for c in p["status"].get("containerStatuses") or ()
        if not c.get("ready")
    ]


def test_every_statefulset_rolls_out(live: Live) -> None:
    for namespace, name in STATEFULSETS.items():
        done = live.kubectl(
            "rollout", "status", f"sts/{name}", "-n", namespace, ROLLOUT, check=False
        )
        last = (done.stdout.strip().splitlines() or [""])[-1]
        assert last.startswith("partitioned roll out complete"), (
            done.stderr,
            not_ready(live.kubectl, namespace),
        )


def test_clients_pause_with_no_restarts(live: Live) -> None:
    for name in STATEFULSETS.values():
        for replica in (0, 1):
            status = pod(live.kubectl, f"{name}-{replica}")["status"]
            client = next(c for c in status["containerStatuses"] if c["name"] == f"{name}-client")
            assert "running" in client["state"], client
            assert client["restartCount"] == 0


def test_host_network_pods_have_their_nodes_address(live: Live) -> None:
    nodes = json.loads(live.kubectl("get", "nodes", "-o", "json").stdout)["items"]
    internal = {
        n["metadata"]["name"]: next(
            a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"
        )
        for n in nodes
    }
    seen = set()
    for replica in (0, 1):
        found = pod(live.kubectl, f"centaur-{replica}")
        status = found["status"]
        node_ip = internal[found["spec"]["nodeName"]]
        assert status["podIP"] == status["hostIP"] == node_ip
        assert status["podIPs"] == [{"ip": node_ip}]
        seen.add(node_ip)
    assert len(seen) == 2  # one per node: their host ports would clash on one
    harry = pod(live.kubectl, "harry-potter-0")["status"]
    assert harry["podIP"] != harry["hostIP"]


def test_admin_tier_ingress_tcp(live: Live) -> None:
    run_steps(live, "CNPAdminTierIngressTCP", 2)


def test_baseline_tier_ingress_tcp(live: Live) -> None:
    run_steps(live, "CNPBaselineTierIngressTCP", 2)


def test_admin_tier_egress_to_a_host_network_pod(live: Live) -> None:
    run_steps(live, "CNPAdminTierEgressNodePeers", 1)

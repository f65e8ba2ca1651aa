"""Calico's stars policy demo (docs.tigera.io, *Kubernetes policy, demo*) on a two-node
`podwall up`, with the real kubectl and the demo's files verbatim.

The files in stars/ are the tutorial's, byte for byte: tigera/docs, `static/files/` at commit
f2a276243 (served as https://docs.tigera.io/files/...; the page creates them from those URLs,
here from local copies). The images are podwall's stand-ins for `calico/star-probe` and
`calico/star-collect` (podwall.runtime.standins.starprobe, .starcollect).

The reader views the UI at `http://<k8s-node-ip>:30002` in a browser: here curl on the node
fetches the page and the data the page draws (`/responses`), and the graph is read from it as
the page's script reads it. After each step the graph is what the tutorial says, once the
probes and the UI have polled again ("it may take up to 10 seconds"): the waits are bounded.
At each step podwall's own engine (`podwall matrix` on the running cluster) agrees with every
connection the UI shows, and with which probes the UI can reach.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.labs.conftest import TIMEOUT, Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

FILES = Path(__file__).parent / "stars"
NODE_PORT = 30002
SETTLE = 60.0  # seconds for the probes' and the UI's next polls to show a change
ALL = ("B", "C", "F")
# Who each probe probes (their --urls), as the page's edges: the client probes no one's /status
# but the frontend's and the backend's.
PROBED = [("B", "F"), ("B", "C"), ("F", "B"), ("F", "C"), ("C", "F"), ("C", "B")]
# The probe behind each node: its namespace, its pods' name prefix, its port.
PROBES = {"B": ("stars", "backend", 6379), "F": ("stars", "frontend", 80),
          "C": ("client", "client", 9000)}  # fmt: skip

Graph = tuple[tuple[str, ...], dict[tuple[str, str], bool]]


def graph(responses: dict[str, object]) -> Graph:
    """Nodes and edges as the UI's page draws them: a node for each probe the UI reached, an
    edge N -> M when N's status lists M's URL."""
    nodes = tuple(sorted(name for name, response in responses.items() if response))
    edges = {}
    for source in nodes:
        targets = responses[source]["json"]["status"]["targets"]  # type: ignore[index]
        for target in nodes:
            url = responses[target]["url"]  # type: ignore[index]
            for listed in targets:
                if source != target and listed["url"] == url:
                    edges[source, target] = listed["reachable"]
    return nodes, edges


def expected(shown: tuple[str, ...], reachable: set[tuple[str, str]]) -> Graph:
    edges = {edge: edge in reachable for edge in PROBED if set(edge) <= set(shown)}
    return shown, edges


class UI:
    """The management UI as the reader's browser on the node sees it."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        jsonpath = '{.items[0].status.addresses[?(@.type=="InternalIP")].address}'
        self.address = lab.kubectl("get", "nodes", "-o", f"jsonpath={jsonpath}").strip()

    def fetch(self, path: str) -> str:
        url = f"http://{self.address}:{NODE_PORT}{path}"
        return self.lab.on_node("node-1", f"curl -s --max-time 5 {url}")

    def graph(self) -> Graph:
        return graph(json.loads(self.fetch("/responses"))["responses"])

    def settles_on(self, want: Graph) -> Graph:
        """The graph once it shows `want`, or the last one seen after SETTLE seconds."""
        deadline = time.monotonic() + SETTLE
        seen = self.graph()
        while seen != want and time.monotonic() < deadline:
            time.sleep(1)
            seen = self.graph()
        return seen


def engine(lab: Lab) -> Graph:
    """podwall's verdicts on the running cluster: the UI's pod reaching each probe's port
    (the nodes it shows), and each probe reaching the ones it probes."""
    allowed: dict[tuple[str, str], bool] = {}
    for target, (namespace, prefix, port) in PROBES.items():
        matrix = json.loads(_podwall(lab, "matrix", "--kubeconfig", lab.env["KUBECONFIG"],
                                     "--port", str(port), "-o", "json"))  # fmt: skip
        pods = matrix["pods"]
        column = _index(pods, namespace, prefix)
        for source, (ns, name, _) in PROBES.items():
            allowed[source, target] = matrix["allowed"][_index(pods, ns, name)][column]
        allowed["UI", target] = matrix["allowed"][_index(pods, "management-ui", "management-ui")][
            column
        ]
    shown = tuple(sorted(node for node in PROBES if allowed["UI", node]))
    edges = {edge: allowed[edge] for edge in PROBED if set(edge) <= set(shown)}
    return shown, edges


def _index(pods: list[str], namespace: str, prefix: str) -> int:
    found = [i for i, pod in enumerate(pods) if pod.startswith(f"{namespace}/{prefix}-")]
    assert len(found) == 1, pods
    return found[0]


def _podwall(lab: Lab, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "podwall", *args], env=lab.env, capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def create(lab: Lab, name: str, *namespace: str) -> list[str]:
    return lab.kubectl("create", *namespace, "-f", name).splitlines()


def step(lab: Lab, ui: UI, want: Graph) -> None:
    assert ui.settles_on(want) == want
    assert engine(lab) == want


@pytest.mark.parametrize("lab", [2], indirect=True)
def test_stars_policy_demo(lab: Lab) -> None:
    for manifest in FILES.iterdir():
        (lab.work / manifest.name).write_bytes(manifest.read_bytes())

    # 1) Create the frontend, backend, client, and management-ui apps.
    assert create(lab, "00-namespace.yaml") == ["namespace/stars created"]
    assert create(lab, "01-management-ui.yaml") == [
        "namespace/management-ui created",
        "service/management-ui created",
        "deployment.apps/management-ui created",
    ]
    assert create(lab, "02-backend.yaml") == [
        "service/backend created",
        "deployment.apps/backend created",
    ]
    assert create(lab, "03-frontend.yaml") == [
        "service/frontend created",
        "deployment.apps/frontend created",
    ]
    assert create(lab, "04-client.yaml") == [
        "namespace/client created",
        "deployment.apps/client created",
        "service/client created",
    ]
    for namespace in ("management-ui", "stars", "client"):
        lab.wait_ready(namespace)
    pods = lab.kubectl("get", "pods", "--all-namespaces")
    for name in ("management-ui", "backend", "frontend", "client"):
        assert any(f" {name}-" in line and "1/1     Running" in line for line in pods.splitlines())

    ui = UI(lab)
    # Full connectivity: each service a node (B, F, C), every connection reachable.
    step(lab, ui, expected(ALL, set(PROBED)))
    page = ui.fetch("/")
    assert "<title>Visual Star</title>" in page
    assert "<tr><td>C</td><td>F</td><td>reachable</td></tr>" in page

    # 2) Enable isolation: the UI can no longer access the pods, so they no longer show up.
    out = create(lab, "default-deny.yaml", "-n", "stars")
    assert out == ["networkpolicy.networking.k8s.io/default-deny created"]
    out = create(lab, "default-deny.yaml", "-n", "client")
    assert out == ["networkpolicy.networking.k8s.io/default-deny created"]
    step(lab, ui, expected((), set()))
    assert "<td>" not in ui.fetch("/")  # the page itself still loads, with nothing to show

    # 3) Allow the UI to access the services: they show up, but cannot access each other.
    assert create(lab, "allow-ui.yaml") == ["networkpolicy.networking.k8s.io/allow-ui created"]
    out = create(lab, "allow-ui-client.yaml")
    assert out == ["networkpolicy.networking.k8s.io/allow-ui created"]
    step(lab, ui, expected(ALL, set()))

    # 4) The frontend can now access the backend (on TCP 6379 only); the backend cannot access
    # the frontend; the client can access neither.
    out = create(lab, "backend-policy.yaml")
    assert out == ["networkpolicy.networking.k8s.io/backend-policy created"]
    step(lab, ui, expected(ALL, {("F", "B")}))

    # 5) The client can now access the frontend, not the backend; neither the frontend nor the
    # backend can initiate connections to the client; the frontend still accesses the backend.
    out = create(lab, "frontend-policy.yaml")
    assert out == ["networkpolicy.networking.k8s.io/frontend-policy created"]
    step(lab, ui, expected(ALL, {("F", "B"), ("C", "F")}))
    assert "<tr><td>C</td><td>B</td><td>unreachable</td></tr>" in ui.fetch("/")

    # 6) Clean up the demo environment.
    out = lab.kubectl("delete", "ns", "client", "stars", "management-ui")
    assert out.splitlines() == [
        'namespace "client" deleted',
        'namespace "stars" deleted',
        'namespace "management-ui" deleted',
    ]

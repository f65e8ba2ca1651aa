"""AWS's *Amazon EKS Network Policy Demo (Stars)* (aws-samples/eks-network-policy-examples,
`stars`; the stars demo of the EKS user guide), verbatim with the real kubectl on a two-node
`podwall up`: `kubectl create -f manifests/` (ReplicationControllers of `calico/star-probe`
and `calico/star-collect`), the management UI reached by `kubectl port-forward
service/management-ui -n management-ui 9001`, the five policy steps and `./reset.sh`.

Source: https://github.com/aws-samples/eks-network-policy-examples/blob/main/stars/README.md
(commit b4f336741e30243213692ec6787f0f94543516cb). `eks/stars/` holds the repository's
`stars/manifests/`, `stars/policies/` and `reset.sh`, byte for byte. The reader opens
http://localhost:9001/ in a browser: here curl fetches the page and the data it draws
(`/responses`) through the same port-forward, and the graph is read from it as in Calico's
version of the demo (test_calico_stars.py, whose helpers this test shares). The images are
podwall's stand-ins for `calico/star-probe` and `calico/star-collect`. The reader stops
`kubectl get pods --all-namespaces --watch` with Ctrl-C once the pods are Running.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.labs.conftest import TIMEOUT, Lab
from tests.e2e.labs.test_calico_stars import ALL, PROBED, SETTLE, Graph, engine, expected, graph

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

FILES = Path(__file__).parent / "eks" / "stars"
PORT_FORWARD = "kubectl port-forward service/management-ui -n management-ui 9001"
UI = "http://localhost:9001"


@contextmanager
def port_forward(lab: Lab) -> Iterator[None]:
    """The page's port-forward, running once it says it forwards; stopped (Ctrl-C) after."""
    proc = subprocess.Popen(
        ["bash", "-c", f"exec {PORT_FORWARD}"], env=lab.env, cwd=lab.work,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first == "Forwarding from 127.0.0.1:9001 -> 9001\n", first
        yield
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)
        if proc.stdout is not None:
            proc.stdout.close()


def fetch(path: str) -> str:
    return subprocess.run(
        ["curl", "-s", "--max-time", "5", f"{UI}{path}"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    ).stdout  # fmt: skip


def settles_on(want: Graph) -> Graph:
    """The UI's graph once it shows `want`, or the last one seen after SETTLE seconds."""
    deadline = time.monotonic() + SETTLE
    seen = graph(json.loads(fetch("/responses"))["responses"])
    while seen != want and time.monotonic() < deadline:
        time.sleep(1)
        seen = graph(json.loads(fetch("/responses"))["responses"])
    return seen


def step(lab: Lab, want: Graph) -> None:
    assert settles_on(want) == want
    assert engine(lab) == want


def create(lab: Lab, command: str) -> list[str]:
    return lab.sh(command).splitlines()


@pytest.mark.parametrize("lab", [2], indirect=True)
def test_stars_policy_demo(lab: Lab) -> None:
    for folder in ("manifests", "policies"):
        shutil.copytree(FILES / folder, lab.work / folder)
    shutil.copy(FILES / "reset.sh", lab.work / "reset.sh")

    # 1) Create the frontend, backend, client, and management-ui apps.
    assert create(lab, "kubectl create -f manifests/") == [
        "namespace/stars created",
        "namespace/management-ui created",
        "service/management-ui created",
        "replicationcontroller/management-ui created",
        "service/backend created",
        "deployment.apps/backend created",
        "service/frontend created",
        "deployment.apps/frontend created",
        "namespace/client created",
        "deployment.apps/client created",
        "service/client created",
    ]
    # "Wait for all the pods to enter Running state."
    for namespace in ("management-ui", "stars", "client"):
        lab.wait_ready(namespace)
    rows = lab.sh("kubectl get pods --all-namespaces --watch", interrupt_after=3).splitlines()
    assert rows[-1] == "^C", rows
    pods = {(r.split()[0], r.split()[1].split("-")[0]): r.split()[2:4] for r in rows[1:-1]}
    for namespace, name in [("management-ui", "management"), ("stars", "backend"),
                            ("stars", "frontend"), ("client", "client")]:  # fmt: skip
        assert pods[namespace, name] == ["1/1", "Running"], rows
    assert len(rows) == 7, rows  # the header, the five pods (DNS's too), ^C

    with port_forward(lab):
        step(lab, expected(ALL, set(PROBED)))
        page = fetch("/")
        assert "<title>Visual Star</title>" in page, page

        # 2) Enable isolation
        assert create(lab, "kubectl create -n stars -f policies/default-deny.yaml") == [
            "networkpolicy.networking.k8s.io/default-deny created"
        ]
        assert create(lab, "kubectl create -n client -f policies/default-deny.yaml") == [
            "networkpolicy.networking.k8s.io/default-deny created"
        ]
        step(lab, expected((), set()))

        # 3) Allow the UI to access the services
        out = create(lab, "kubectl create -f policies/allow-ui.yaml\n"
                          "kubectl create -f policies/allow-ui-client.yaml")  # fmt: skip
        assert out == ["networkpolicy.networking.k8s.io/allow-ui created"] * 2, out
        step(lab, expected(ALL, set()))

        # 4) The frontend can now access the backend (on TCP port 6379 only) ...
        assert create(lab, "kubectl create -f policies/backend-policy.yaml") == [
            "networkpolicy.networking.k8s.io/backend-policy created"
        ]
        step(lab, expected(ALL, {("F", "B")}))

        # 5) The client can now access the frontend, but not the backend ...
        assert create(lab, "kubectl create -f policies/frontend-policy.yaml") == [
            "networkpolicy.networking.k8s.io/frontend-policy created"
        ]
        step(lab, expected(ALL, {("F", "B"), ("C", "F")}))
        assert "<tr><td>C</td><td>B</td><td>unreachable</td></tr>" in fetch("/")

    # 6) (Optional) Clean up the demo environment
    # (its rc,svc deletes find the Services and the UI's ReplicationController; the last four
    # lines delete policies that went with their namespaces, as on any cluster)
    not_found = 'Error from server (NotFound): networkpolicies.networking.k8s.io "{}" not found'
    assert lab.sh("./reset.sh").splitlines() == [
        'service "client" deleted',
        'replicationcontroller "management-ui" deleted',
        'service "management-ui" deleted',
        'service "backend" deleted',
        'service "frontend" deleted',
        'namespace "stars" deleted',
        'namespace "client" deleted',
        'namespace "management-ui" deleted',
        not_found.format("frontend-policy"),
        not_found.format("backend-policy"),
        not_found.format("allow-ui"),
        not_found.format("allow-ui"),
    ]

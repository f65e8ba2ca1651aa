"""aws-samples/eks-network-policy-examples, *Amazon EKS Network Policy Demo* (the `advanced`
walkthrough), verbatim with the real kubectl: an nginx `demo-app` serving a ConfigMap's page,
`curlimages/curl` client pods in `default` and `another-ns`, the page's policy files applied
and deleted in its order, every `kubectl exec -it ... -- curl --max-time 3` probe, and its
`./cleanup.sh`.

Source: https://github.com/aws-samples/eks-network-policy-examples/blob/main/advanced/README.md
(commit b4f336741e30243213692ec6787f0f94543516cb). `eks/manifests/`, `eks/policies/` and
`eks/cleanup.sh` are copies of the repository's `advanced/` files, byte for byte. The test
waits for the pods to be Ready after `kubectl apply -f manifests/`, as the reader's pace does.
The page's "Ingress Cleanup" deletes five files, two of them already deleted by its earlier
clean-up steps: kubectl reports those two as not found, as on any cluster; so does
`cleanup.sh` for every policy no longer there. One difference: `cleanup.sh` deletes
`another-ns` before the pods in it, and podwall removes a namespace's objects with it at once,
so those two pods are "not found" where a cluster (the namespace Terminating while its pods
stop) reports them deleted.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

FILES = Path(__file__).parent / "eks"
PAGE = "<title>Welcome to Amazon EKS!</title>"
SAME_NS = ("client-one", "client-two")
OTHER_NS = ("another-client-one", "another-client-two")
CLIENTS = SAME_NS + OTHER_NS
# curl's words for --max-time 3 (the page's: "after 3001 milliseconds"), then kubectl's.
TIMED_OUT = r"curl: \(28\) {} timed out after 30\d\d milliseconds"
EXIT_28 = "command terminated with exit code 28"


def probe(lab: Lab, client: str, flags: str = "") -> str:
    """The page's probe from `client` to the demo-app Service."""
    namespace, where = (
        ("", "demo-app") if client in SAME_NS else (" -n another-ns", "demo-app.default")
    )
    return lab.typed_nothing(
        f"kubectl exec -it {client}{namespace} -- curl --max-time 3 {flags}{where}"
    )


def reaches(lab: Lab, client: str) -> bool:
    """True when the probe gets the page; False when it times out as the page shows."""
    out = probe(lab, client)
    if PAGE in out:
        return True
    lines = out.splitlines()
    assert re.fullmatch(TIMED_OUT.format("Connection"), lines[0]), out
    assert lines[1:] == [EXIT_28], out
    return False


def reached(lab: Lab, clients: tuple[str, ...] = CLIENTS) -> list[str]:
    return [client for client in clients if reaches(lab, client)]


def run(lab: Lab, commands: str) -> list[str]:
    return lab.sh(commands).splitlines()


def test_amazon_eks_network_policy_demo(lab: Lab) -> None:
    for folder in ("manifests", "policies"):
        shutil.copytree(FILES / folder, lab.work / folder)
    shutil.copy(FILES / "cleanup.sh", lab.work / "cleanup.sh")

    assert run(lab, "kubectl apply -f manifests/") == [
        "namespace/another-ns created",
        "service/demo-app created",
        "configmap/demo-app-index created",
        "deployment.apps/demo-app created",
        "pod/client-one created",
        "pod/client-two created",
        "pod/another-client-one created",
        "pod/another-client-two created",
    ]
    lab.wait_ready()
    lab.wait_ready("another-ns")
    rows = run(lab, "kubectl get all")
    for pod in ("pod/client-one", "pod/client-two", "pod/demo-app-"):
        assert any(r.startswith(pod) and r.split()[1:3] == ["1/1", "Running"] for r in rows), rows
    assert any(r.split()[:2] == ["service/demo-app", "ClusterIP"] for r in rows), rows
    rows = run(lab, "kubectl get all -n another-ns")
    assert [r.split()[:3] for r in rows[1:]] == [
        ["pod/another-client-one", "1/1", "Running"],
        ["pod/another-client-two", "1/1", "Running"],
    ], rows

    # "You would see below response for each command"
    assert reached(lab) == list(CLIENTS)

    # Block all traffic to Demo app: "All the above calls would timeout".
    apply = "kubectl apply -f policies/{}.yaml"
    assert run(lab, apply.format("01-deny-all-ingress")) == [
        "networkpolicy.networking.k8s.io/demo-app-deny-all created"
    ]
    assert reached(lab) == []

    # "First two commands will succeed"
    assert run(lab, apply.format("02-allow-ingress-from-samens")) == [
        "networkpolicy.networking.k8s.io/demo-app-allow-samens created"
    ]
    assert reached(lab) == list(SAME_NS)
    assert run(lab, "kubectl delete -f policies/02-allow-ingress-from-samens.yaml") == [
        'networkpolicy.networking.k8s.io "demo-app-allow-samens" deleted'
    ]

    # "Only the first command works"
    assert run(lab, apply.format("03-allow-ingress-from-samens-client-one")) == [
        "networkpolicy.networking.k8s.io/demo-app-allow-samens-client-one created"
    ]
    assert reached(lab) == ["client-one"]

    # "Now, traffic is allowed from all pods in the another-ns namespace."
    assert run(lab, apply.format("04-allow-ingress-from-xns")) == [
        "networkpolicy.networking.k8s.io/demo-app-allow-another-ns created"
    ]
    assert reached(lab, OTHER_NS) == list(OTHER_NS)
    assert run(lab, "kubectl delete -f policies/04-allow-ingress-from-xns.yaml") == [
        'networkpolicy.networking.k8s.io "demo-app-allow-another-ns" deleted'
    ]

    # "... only another-client-one pod in the another-ns namespace"
    assert run(lab, apply.format("05-allow-ingress-from-xns-client-one")) == [
        "networkpolicy.networking.k8s.io/demo-app-allow-another-client created"
    ]
    assert reached(lab, OTHER_NS) == ["another-client-one"]

    # Ingress Cleanup.
    not_found = (
        'Error from server (NotFound): error when deleting "policies/{}.yaml": '
        'networkpolicies.networking.k8s.io "{}" not found'
    )
    out = run(
        lab,
        "kubectl delete -f policies/01-deny-all-ingress.yaml\n"
        "kubectl delete -f policies/02-allow-ingress-from-samens.yaml\n"
        "kubectl delete -f policies/03-allow-ingress-from-samens-client-one.yaml\n"
        "kubectl delete -f policies/04-allow-ingress-from-xns.yaml\n"
        "kubectl delete -f policies/05-allow-ingress-from-xns-client-one.yaml\n",
    )
    assert out == [
        'networkpolicy.networking.k8s.io "demo-app-deny-all" deleted',
        not_found.format("02-allow-ingress-from-samens", "demo-app-allow-samens"),
        'networkpolicy.networking.k8s.io "demo-app-allow-samens-client-one" deleted',
        not_found.format("04-allow-ingress-from-xns", "demo-app-allow-another-ns"),
        'networkpolicy.networking.k8s.io "demo-app-allow-another-client" deleted',
    ]

    # Deny all egress from client-one: the lookup itself times out.
    assert run(lab, apply.format("06-deny-egress-from-client-one")) == [
        "networkpolicy.networking.k8s.io/client-one-deny-egress created"
    ]
    lines = probe(lab, "client-one").splitlines()
    assert re.fullmatch(TIMED_OUT.format("Resolving"), lines[0]), lines
    assert lines[1:] == [EXIT_28], lines

    # DNS allowed (UDP 53 to kube-system's kube-dns pods): resolved, then the connect times out.
    assert run(lab, apply.format("07-allow-egress-to-coredns")) == [
        "networkpolicy.networking.k8s.io/client-one-allow-egress-coredns created"
    ]
    ip = lab.kubectl("get", "svc", "demo-app", "-o", "jsonpath={.spec.clusterIP}")
    lines = [
        line
        for line in probe(lab, "client-one", "-v ").splitlines()
        if line.startswith(("*", "curl", "command"))
    ]
    assert lines[0] == f"*   Trying {ip}:80...", lines
    assert re.fullmatch(r"\* Connection timed out after 30\d\d milliseconds", lines[1]), lines
    assert lines[2] == "* Closing connection 0", lines
    assert re.fullmatch(TIMED_OUT.format("Connection"), lines[3]), lines
    assert lines[4:] == [EXIT_28], lines

    # "This time, client-one is able to resolve the ip address and connect to the demo-app"
    assert run(lab, apply.format("08-allow-egress-to-demo-app")) == [
        "networkpolicy.networking.k8s.io/client-one-allow-egress-demo-app created"
    ]
    assert reaches(lab, "client-one")

    out = run(lab, "./cleanup.sh")
    assert out[:4] == [
        "Cleaning up Network policies",
        'networkpolicy.networking.k8s.io "client-one-deny-egress" deleted',
        'networkpolicy.networking.k8s.io "client-one-allow-egress-coredns" deleted',
        'networkpolicy.networking.k8s.io "client-one-allow-egress-demo-app" deleted',
    ], out
    assert out[-10:-2] == [
        "Cleaning up the sample apps",
        'namespace "another-ns" deleted',
        'service "demo-app" deleted',
        'configmap "demo-app-index" deleted',
        'deployment.apps "demo-app" deleted',
        'pod "client-one" deleted',
        'pod "client-two" deleted',
        # (a cluster: 'pod "another-client-one" deleted', see the module's docstring)
        'Error from server (NotFound): error when deleting "manifests/03-clients-another-ns.yaml":'
        ' pods "another-client-one" not found',
    ], out
    assert out[-1] == "Clean up completed!", out
    out = lab.kubectl("get", "pods,netpol,deploy", "--no-headers")
    assert out.strip() == "No resources found in default namespace.", out

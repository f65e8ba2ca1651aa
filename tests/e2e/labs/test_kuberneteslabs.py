"""nirgeier/KubernetesLabs, lab 33 *NetworkPolicies - Pod-Level Firewall Rules*
(github.com/nirgeier/KubernetesLabs/tree/master/Labs/33-NetworkPolicies, also
nirgeier.github.io/KubernetesLabs/33-NetworkPolicies), verbatim with the real kubectl: its
README's commands in order, its `manifests/` files as they are.

Its cluster set-up (kind with Calico) is what `podwall up` replaces. Step 05's egress policy and
step 06's default deny have no probe on the page; step 07 describes `allow-client-ingress`,
which step 06 deleted (`kubectl delete networkpolicy --all`), so that line gets NotFound, as on
the page's own cluster.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
MANIFESTS = {
    "test-pods.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: netpol-backend
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: nginx
          image: nginx:alpine
          ports:
            - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: netpol-backend
spec:
  selector:
    app: web
  ports:
    - port: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: client
  namespace: netpol-frontend
  labels:
    app: client
spec:
  containers:
    - name: curl
      image: curlimages/curl:latest
      command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: rogue
  namespace: netpol-frontend
  labels:
    app: rogue
spec:
  containers:
    - name: curl
      image: curlimages/curl:latest
      command: ["sleep", "3600"]
""",
    "default-deny-ingress.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: netpol-backend
spec:
  podSelector: {}
  policyTypes:
    - Ingress
""",
    "allow-client-ingress.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-ingress
  namespace: netpol-backend
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              role: frontend
          podSelector:
            matchLabels:
              app: client
      ports:
        - protocol: TCP
          port: 80
""",
    "restrict-egress.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: restrict-egress
  namespace: netpol-backend
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
    - Egress
  egress:
    - to: []
      ports:
        - protocol: UDP
          port: 53
        - protocol: TCP
          port: 53
    - to:
        - namespaceSelector:
            matchLabels:
              role: backend
""",
    "default-deny-all.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: netpol-backend
spec:
  podSelector: {}
  policyTypes:
    - Ingress
    - Egress
""",
}


def curl_web(lab: Lab, pod: str) -> str:
    """`kubectl exec POD -n netpol-frontend -- curl -s --max-time 3 web.netpol-backend...`."""
    return lab.kubectl("exec", pod, "-n", "netpol-frontend", "--", "curl", "-s", "--max-time",
                       "3", "web.netpol-backend.svc.cluster.local", check=False)  # fmt: skip


def test_kuberneteslabs_33_network_policies(lab: Lab) -> None:
    (lab.work / "manifests").mkdir()
    for name, text in MANIFESTS.items():
        (lab.work / "manifests" / name).write_text(text)

    # 01. Setup
    out = lab.kubectl("delete", "namespace", "netpol-frontend", "netpol-backend",
                      "--ignore-not-found")  # fmt: skip
    assert out == ""
    assert lab.kubectl("create", "namespace", "netpol-frontend").strip() == (
        "namespace/netpol-frontend created"
    )
    out = lab.kubectl("label", "namespace", "netpol-frontend", "role=frontend")
    assert out.strip() == "namespace/netpol-frontend labeled"
    lab.kubectl("create", "namespace", "netpol-backend")
    lab.kubectl("label", "namespace", "netpol-backend", "role=backend")
    out = lab.kubectl("apply", "-f", "manifests/test-pods.yaml")
    assert out.splitlines() == [
        "deployment.apps/web created",
        "service/web created",
        "pod/client created",
        "pod/rogue created",
    ]
    for pod in ("pod/client", "pod/rogue"):
        out = lab.kubectl("wait", "--for=condition=Ready", pod, "-n", "netpol-frontend",
                          "--timeout=120s")  # fmt: skip
        assert out.strip() == f"{pod} condition met"
    out = lab.kubectl("wait", "--for=condition=Ready", "-l", "app=web", "pod", "-n",
                      "netpol-backend", "--timeout=120s")  # fmt: skip
    assert out.startswith("pod/web-"), out
    assert out.endswith(" condition met\n"), out

    # 02. Default behavior (all-open)
    assert WELCOME in curl_web(lab, "client")
    assert WELCOME in curl_web(lab, "rogue")

    # 03. Default deny all ingress
    out = lab.kubectl("apply", "-f", "manifests/default-deny-ingress.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/default-deny-ingress created"
    for pod in ("client", "rogue"):
        assert curl_web(lab, pod) == "command terminated with exit code 28\n"

    # 04. Allow traffic from specific pods: namespaceSelector AND podSelector, one peer
    out = lab.kubectl("apply", "-f", "manifests/allow-client-ingress.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/allow-client-ingress created"
    assert WELCOME in curl_web(lab, "client")
    assert curl_web(lab, "rogue") == "command terminated with exit code 28\n"

    # 05. Egress policy, 06. Default deny all
    out = lab.kubectl("apply", "-f", "manifests/restrict-egress.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/restrict-egress created"
    out = lab.kubectl("delete", "networkpolicy", "--all", "-n", "netpol-backend")
    assert sorted(out.splitlines()) == [
        f'networkpolicy.networking.k8s.io "{name}" deleted'
        for name in ("allow-client-ingress", "default-deny-ingress", "restrict-egress")
    ]
    out = lab.kubectl("apply", "-f", "manifests/default-deny-all.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/default-deny-all created"
    # Not on the page: what the baseline does to the client it let in at step 04.
    assert curl_web(lab, "client") == "command terminated with exit code 28\n"

    # 07. Inspect and debug
    out = lab.kubectl("get", "networkpolicy", "-n", "netpol-backend")
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["NAME", "POD-SELECTOR"],
        ["default-deny-all", "<none>"],
    ]
    out = lab.kubectl("describe", "networkpolicy", "allow-client-ingress", "-n",
                      "netpol-backend", check=False)  # fmt: skip
    assert out.strip() == (
        'Error from server (NotFound): networkpolicies.networking.k8s.io "allow-client-ingress" '
        "not found"
    )
    out = lab.kubectl("get", "pods", "-n", "netpol-backend", "-l", "app=web")
    assert len(out.splitlines()) == 2, out
    assert "1/1     Running" in out, out

    # 08. Cleanup
    out = lab.kubectl("delete", "namespace", "netpol-frontend", "netpol-backend")
    assert out.splitlines() == [
        'namespace "netpol-frontend" deleted',
        'namespace "netpol-backend" deleted',
    ]

"""networkpolicy.io's *Getting started* examples (github.com/networkpolicy/examples,
gettingstarted/), verbatim, with the real kubectl: the demo app, then pages 01-08 in order on
the same cluster, each page's `kubectl create -f` and its `kubectl exec -ti ... curl` check.

The reader's shell runs the checks: `$FRONTEND` and `$MONITORING` are set as page 00 and 04 set
them (`kubectl get pods ... -o json | jq -r ...`), and `| head -1` reads curl's status line.
Left out: 01's `curl -I kubernetes.io` from the backend (outside the cluster); 05's second
`kubectl create namespace monitoring` (04 made it: on any cluster it says AlreadyExists). Page
07 shows `HTTP/1.1 200 OK` but notes that without page 08's DNS policy it is not enough: its
check is that the name still does not resolve, and 08's that it then does.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

OK = "HTTP/1.1 200 OK"
FRONTEND = "FRONTEND=$(kubectl get pods -l app=frontend -o json | jq -r '.items[0].metadata.name')"
MONITORING = (
    "MONITORING=$(kubectl -n monitoring get pods -l app=monitoring -o json | "
    "jq -r '.items[0].metadata.name')"
)
FROM_FRONTEND = "kubectl exec -ti $FRONTEND -- curl -I backend:8080 | head -1"
FROM_MONITORING = (
    "kubectl -n monitoring exec -ti $MONITORING -- curl -I "
    "backend.default.svc.cluster.local:8080 | head -1"
)
# The page's curl (alpine-curl 0.1.8) says "Connection timed out after 5001 milliseconds";
# today's, which podwall runs, says "Failed to connect to backend port 8080 after 5000 ms".
TIMED_OUT = "curl: (28) "
RESOLVING_TIMED_OUT = "curl: (28) Resolving timed out after 50"

DEMO_APP = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
  labels:
    app: frontend
spec:
  replicas: 1
  selector:
    matchLabels:
      app: frontend
  template:
    metadata:
      labels:
        app: frontend
    spec:
      containers:
      - name: frontend-container
        image: docker.io/byrnedo/alpine-curl:0.1.8
        imagePullPolicy: IfNotPresent
        command: [ "/bin/ash", "-c", "sleep 1000000000" ]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
  labels:
    app: backend
spec:
  replicas: 1
  selector:
    matchLabels:
      app: backend
  template:
    metadata:
      labels:
        app: backend
    spec:
      containers:
      - name: backend-container
        env:
        - name: PORT
          value: "8080"
        ports:
        - containerPort: 8080
        image: docker.io/cilium/json-mock:1.2
        imagePullPolicy: IfNotPresent
---
apiVersion: v1
kind: Service
metadata:
  name: backend
  labels:
    app: backend
spec:
  type: ClusterIP
  selector:
    app: backend
  ports:
  - name: http
    port: 8080
"""
MONITORING_APP = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: monitoring
  labels:
    app: monitoring
spec:
  replicas: 1
  selector:
    matchLabels:
      app: monitoring
  template:
    metadata:
      labels:
        app: monitoring
    spec:
      containers:
      - name: frontend-container
        image: docker.io/byrnedo/alpine-curl:0.1.8
        imagePullPolicy: IfNotPresent
        command: [ "/bin/ash", "-c", "sleep 1000000000" ]
"""
POLICIES = {
    "01-backend-ingress-deny.yaml": """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: backend-ingress-deny
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
  - Ingress
""",
    "02-backend-ingress-allow-frontend.yaml": """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: backend-ingress-allow-frontend
spec:
  podSelector:
    matchLabels:
      app: backend
  ingress:
    - from:
      - podSelector:
          matchLabels:
            app: frontend
""",
    "03-all-pods-allow-within-namespace.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: all-pods-ingress-allow-within-namespace
spec:
  podSelector: {}
  ingress:
    - from:
      - podSelector: {}
""",
    "04-backend-ingress-allow-monitoring-namespace.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-ingress-allow-monitoring-namespace
spec:
  podSelector:
    matchLabels:
      app: backend
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              type: monitoring
""",
    "05-backend-ingress-allow-monitoring-app.yaml": """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-ingress-allow-monitoring-app
spec:
  podSelector:
    matchLabels:
      app: backend
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              type: monitoring
          podSelector:
            matchLabels:
              app: monitoring
""",
    "06-frontend-egress-deny.yaml": """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: frontend-egress-deny
spec:
  podSelector:
    matchLabels:
      app: frontend
  policyTypes:
  - Egress
""",
    "07-frontend-egress-allow-to-backend.yaml": """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: frontend-egress-allow-to-backend
spec:
  podSelector:
    matchLabels:
      app: frontend
  policyTypes:
  - Egress
  egress:
    - to:
      - podSelector:
          matchLabels:
            app: backend
""",
    "08-all-pods-egress-allow-dns.yaml": """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: all-pods-egress-allow-dns
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
    - to:
      - namespaceSelector:
          matchLabels:
            contains: coredns
        podSelector:
          matchLabels:
            k8s-app: kube-dns
""",
}


def shell(lab: Lab, line: str, *variables: str) -> str:
    """`line` typed at the reader's shell (a terminal), after the lines setting `variables`."""
    return lab.typed_nothing("; ".join([*variables, line]))


def create(lab: Lab, name: str) -> str:
    (lab.work / name).write_text(POLICIES[name])
    return lab.kubectl("create", "-f", name).strip()


def test_networkpolicy_io_getting_started(lab: Lab) -> None:
    (lab.work / "demo-app.yaml").write_text(DEMO_APP)
    (lab.work / "monitoring-app.yaml").write_text(MONITORING_APP)
    out = lab.kubectl("create", "-f", "demo-app.yaml")
    assert out.splitlines() == [
        "deployment.apps/frontend created",
        "deployment.apps/backend created",
        "service/backend created",
    ]
    lab.kubectl("wait", "--for=condition=Available", "deployments", "--all", "--timeout=120s")
    out = lab.kubectl("get", "pods,svc")
    assert "service/backend      ClusterIP" in out, out
    assert out.count("1/1     Running") == 2, out
    assert shell(lab, FROM_FRONTEND, FRONTEND).strip() == OK

    out = create(lab, "01-backend-ingress-deny.yaml")
    assert out == "networkpolicy.networking.k8s.io/backend-ingress-deny created"
    command = "kubectl exec -ti $FRONTEND -- curl -I --connect-timeout 5 backend:8080"
    out = shell(lab, command, FRONTEND)
    assert TIMED_OUT in out, out
    assert "command terminated with exit code 28" in out, out

    out = create(lab, "02-backend-ingress-allow-frontend.yaml")
    assert out == "networkpolicy.networking.k8s.io/backend-ingress-allow-frontend created"
    assert shell(lab, FROM_FRONTEND, FRONTEND).strip() == OK

    out = create(lab, "03-all-pods-allow-within-namespace.yaml")
    assert out == "networkpolicy.networking.k8s.io/all-pods-ingress-allow-within-namespace created"
    assert shell(lab, FROM_FRONTEND, FRONTEND).strip() == OK

    out = create(lab, "04-backend-ingress-allow-monitoring-namespace.yaml")
    assert out == (
        "networkpolicy.networking.k8s.io/backend-ingress-allow-monitoring-namespace created"
    )
    lab.kubectl("create", "namespace", "monitoring")
    assert lab.kubectl("label", "namespace", "monitoring", "type=monitoring").strip() == (
        "namespace/monitoring labeled"
    )
    out = lab.kubectl("-n", "monitoring", "create", "-f", "monitoring-app.yaml")
    assert out.strip() == "deployment.apps/monitoring created"
    lab.kubectl("-n", "monitoring", "rollout", "status", "deployment/monitoring",
                "--timeout=120s")  # fmt: skip
    assert shell(lab, FROM_MONITORING, MONITORING).strip() == OK

    out = create(lab, "05-backend-ingress-allow-monitoring-app.yaml")
    assert out == "networkpolicy.networking.k8s.io/backend-ingress-allow-monitoring-app created"
    assert shell(lab, FROM_MONITORING, MONITORING).strip() == OK

    out = create(lab, "06-frontend-egress-deny.yaml")
    assert out == "networkpolicy.networking.k8s.io/frontend-egress-deny created"
    command = "kubectl exec -ti $FRONTEND -- curl -I --connect-timeout 5 backend:8080 | head -1"
    out = shell(lab, command, FRONTEND)
    assert RESOLVING_TIMED_OUT in out, out
    assert "command terminated with exit code 28" in out, out

    out = create(lab, "07-frontend-egress-allow-to-backend.yaml")
    assert out == "networkpolicy.networking.k8s.io/frontend-egress-allow-to-backend created"
    out = shell(lab, command, FRONTEND)
    assert RESOLVING_TIMED_OUT in out, out  # the page's note: DNS is still blocked

    assert lab.kubectl("label", "namespace", "kube-system", "contains=coredns").strip() == (
        "namespace/kube-system labeled"
    )
    out = create(lab, "08-all-pods-egress-allow-dns.yaml")
    assert out == "networkpolicy.networking.k8s.io/all-pods-egress-allow-dns created"
    assert shell(lab, FROM_FRONTEND, FRONTEND).strip() == OK

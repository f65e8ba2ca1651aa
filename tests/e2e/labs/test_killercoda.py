"""Killercoda scenarios (github.com/chadmcrowell/killercoda-scenarios), their solutions run
verbatim with the real kubectl: `ckad/default-deny-networkpolicy` (every pod of a namespace
denied both ways, shown with `kubectl exec` probes)."""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

PAYMENTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: payments
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: payments
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: payments
spec:
  selector:
    app: api
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: payments
spec:
  replicas: 1
  selector:
    matchLabels:
      app: worker
  template:
    metadata:
      labels:
        app: worker
    spec:
      containers:
      - name: busybox
        image: busybox:1.36
        command:
        - sh
        - -c
        - sleep 3600
"""
DEFAULT_DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: payments
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
  ingress: []
  egress: []
"""


def test_ckad_default_deny_networkpolicy(lab: Lab) -> None:
    out = lab.kubectl("apply", "-f", "-", stdin=PAYMENTS)
    assert out.splitlines() == [
        "namespace/payments created",
        "deployment.apps/api created",
        "service/api created",
        "deployment.apps/worker created",
    ]
    out = lab.kubectl("-n", "payments", "run", "tester", "--image=busybox:1.36",
                      "--restart=Never", "--command", "--", "sh", "-c", "sleep 3600")  # fmt: skip
    assert out.strip() == "pod/tester created"
    lab.wait_ready("payments")
    # Before the policy, the probes reach nginx (not in the scenario: what the policy changes).
    assert "Welcome to nginx!" in lab.kubectl("-n", "payments", "exec", "tester", "--", "wget",
                                              "-qO-", "http://api")  # fmt: skip
    out = lab.kubectl("apply", "-f", "-", stdin=DEFAULT_DENY)
    assert out.strip() == "networkpolicy.networking.k8s.io/default-deny created"

    out = lab.kubectl("-n", "payments", "exec", "tester", "--", "wget", "-qO-", "http://api",
                      check=False)  # fmt: skip
    assert out.splitlines() == ["wget: bad address 'api'", "command terminated with exit code 1"]
    out = lab.kubectl("-n", "payments", "exec", "deploy/api", "-c", "nginx", "--", "wget",
                      "-qO-", "http://example.com", check=False)  # fmt: skip
    # The nginx image has no wget: a real cluster says so ("executable file not found"); podwall
    # runs the host's, whose lookup the policy blocks. Blocked either way, as the scenario says.
    assert "Welcome to nginx!" not in out, out
    assert "command terminated with exit code" in out, out

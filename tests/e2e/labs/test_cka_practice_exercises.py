"""alijahnas/CKA-practice-exercises, *Security*, "Know how to configure network policies",
verbatim with the real kubectl: its `server-client.yml` (an nginx Deployment of two
`role: server` pods behind a Service, a `role: client` BusyBox pod and a `default-deny` ingress
policy, in one file), `kubectl exec busybox -- wget nginx`, then `allow-80.yml` (port 80 from
`role: client` pods) and the same `wget` again.

Source: https://github.com/alijahnas/CKA-practice-exercises/blob/CKA-v1.31/security.md#know-how-to-configure-network-policies
(commit 2b4f0f4411585cbee53e8871fd2c59a096495d8b). The page shows no output: the question says
the first `wget` "can't reach the nginx service" and the second reaches it. busybox's `wget`
without `-T` waits 15 minutes on a connection that gets no answer: the reader stops it with
Ctrl-C, and so does the test after a few seconds. The test waits for the pods to be Ready
before the first `wget`, as the reader's pace does.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

HANGS_AFTER = 6.0  # seconds the reader waits on a hanging wget before Ctrl-C

SERVER_CLIENT = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    app: nginx
    role: server
  name: nginx-deploy
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
      role: server
  template:
    metadata:
      labels:
        app: nginx
        role: server
    spec:
      containers:
      - image: nginx:latest
        name: nginx

---
apiVersion: v1
kind: Service
metadata:
  name: nginx
spec:
  selector:
    app: nginx
    role: server
  ports:
    - protocol: TCP
      port: 80
      targetPort: 80

---
apiVersion: v1
kind: Pod
metadata:
  labels:
    role: client
  name: busybox
spec:
  containers:
  - image: busybox:latest
    name: busybox
    args:
      - sleep
      - "3600"

---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
spec:
  podSelector: {}                                                                    
  policyTypes:
  - Ingress

"""
ALLOW_80 = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-80
spec:
  podSelector:
    matchLabels:
      role: server
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: client
    ports:
    - port: 80

"""


def test_network_policies(lab: Lab) -> None:
    (lab.work / "server-client.yml").write_text(SERVER_CLIENT)
    (lab.work / "allow-80.yml").write_text(ALLOW_80)

    out = lab.sh("kubectl apply -f server-client.yml")
    assert out.splitlines() == [
        "deployment.apps/nginx-deploy created",
        "service/nginx created",
        "pod/busybox created",
        "networkpolicy.networking.k8s.io/default-deny created",
    ], out
    lab.wait_ready()
    ip = lab.kubectl("get", "svc", "nginx", "-o", "jsonpath={.spec.clusterIP}")

    # "Check that the busybox pod can't reach the nginx service."
    out = lab.sh("kubectl exec busybox -- wget nginx", interrupt_after=HANGS_AFTER)
    assert out == f"Connecting to nginx ({ip}:80)\n^C", out

    out = lab.sh("kubectl apply -f allow-80.yml")
    assert out == "networkpolicy.networking.k8s.io/allow-80 created\n", out
    # "... and check again connectivity to the nginx service": busybox's wget saves the page
    # as index.html in the pod's working directory, /.
    out = lab.sh("kubectl exec busybox -- wget nginx")
    assert out.splitlines() == [
        f"Connecting to nginx ({ip}:80)",
        "saving to 'index.html'",
        "index.html           100% |********************************|   615  0:00:00 ETA",
        "'index.html' saved",
    ], out
    out = lab.kubectl("exec", "busybox", "--", "cat", "/index.html")
    assert "<title>Welcome to nginx!</title>" in out, out

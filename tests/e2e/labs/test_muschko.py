"""Benjamin Muschko's crash courses (github.com/bmuschko), their network policy exercises,
verbatim with the real kubectl: each exercise's `setup.yaml` and its solution's policy files and
`wget` probes, whose outputs the tests compare with the solution pages'.

The solutions address the backend by the IP address `kubectl get pods -o wide` shows (theirs
are minikube's, 10.0.0.x); the tests read the same column. The courses' backend image,
`bmuschko/nodejs-hello-world`, is a stand-in answering as its index.js does (`Hello World` on
port 3000).
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

TIMED_OUT = "wget: download timed out"
EXISTS = "remote file exists"

# cks-crash-course, exercises/01-network-policy-restrict.
CKS_SETUP = """\
apiVersion: v1
kind: Namespace
metadata:
  labels:
    app: orion
  name: g04
---
apiVersion: v1
kind: Pod
metadata:
  labels:
    tier: backend
  name: backend
  namespace: g04
spec:
  containers:
  - image: bmuschko/nodejs-hello-world:1.0.0
    name: hello
    ports:
    - containerPort: 3000
  restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata:
  labels:
    tier: frontend
  name: frontend
  namespace: g04
spec:
  containers:
  - image: alpine
    name: frontend
    args:
    - /bin/sh
    - -c
    - while true; do sleep 5; done;
  restartPolicy: Never
---
apiVersion: v1
kind: Pod
metadata:
  labels:
    tier: outside
  name: other
spec:
  containers:
  - image: alpine
    name: other
    args:
    - /bin/sh
    - -c
    - while true; do sleep 5; done;
  restartPolicy: Never"""
CKS_DENY_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: g04
spec:
  podSelector: {}
  policyTypes:
  - Ingress"""
CKS_BACKEND_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-ingress
  namespace: g04
spec:
  podSelector:
    matchLabels:
      tier: backend
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          tier: frontend
    ports:
    - protocol: TCP
      port: 3000"""


def write(lab: Lab, name: str, text: str) -> None:
    (lab.work / name).write_text(text)


def pod_ip(lab: Lab, namespace: str, name: str) -> str:
    """The IP column of `kubectl get pods -n NAMESPACE -o wide`, for the pod `name`."""
    out = lab.kubectl("get", "pods", "-n", namespace, "-o", "wide")
    header, *rows = out.splitlines()
    assert header.split()[:6] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP"], out
    return next(row.split()[5] for row in rows if row.split()[0] == name)


def in_shell(lab: Lab, command: str, line: str) -> str:
    """`command` (a `kubectl exec -it ... -- /bin/sh`), `line` typed at its prompt, then `exit`;
    what `line` printed."""
    with lab.shell(command) as shell:
        shell.wait_for("$ ")
        out = shell.run(line)
    return out.split("\n", 1)[1].rsplit("\n", 1)[0]


def test_cks_crash_course_network_policy_restrict(lab: Lab) -> None:
    """https://github.com/bmuschko/cks-crash-course/tree/master/exercises/01-network-policy-restrict"""
    write(lab, "setup.yaml", CKS_SETUP)
    out = lab.kubectl("apply", "-f", "setup.yaml")
    assert out.splitlines() == [
        "namespace/g04 created",
        "pod/backend created",
        "pod/frontend created",
        "pod/other created",
    ]
    lab.wait_ready("g04")
    lab.wait_ready()
    backend = pod_ip(lab, "g04", "backend")
    out = lab.kubectl("get", "pods")
    assert out.splitlines()[1].split()[:3] == ["other", "1/1", "Running"], out
    wget = f"wget --spider --timeout=1 {backend}:3000"
    connecting = f"Connecting to {backend}:3000 ({backend}:3000)"
    frontend = "kubectl exec frontend -it -n g04 -- /bin/sh"
    other = "kubectl exec other -it -- /bin/sh"
    assert in_shell(lab, frontend, wget).splitlines() == [connecting, EXISTS]
    assert in_shell(lab, other, wget).splitlines() == [connecting, EXISTS]

    write(lab, "deny-all-ingress-network-policy.yaml", CKS_DENY_ALL)
    out = lab.kubectl("apply", "-f", "deny-all-ingress-network-policy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/default-deny-ingress created"
    assert in_shell(lab, frontend, wget).splitlines() == [connecting, TIMED_OUT]
    assert in_shell(lab, other, wget).splitlines() == [connecting, TIMED_OUT]

    out = lab.kubectl("get", "ns", "g04", "--show-labels")
    assert out.splitlines()[1].split()[-1] == "app=orion,kubernetes.io/metadata.name=g04", out
    out = lab.kubectl("get", "pods", "-n", "g04", "--show-labels")
    assert [row.split()[-1] for row in out.splitlines()[1:]] == ["tier=backend", "tier=frontend"]

    write(lab, "backend-ingress-network-policy.yaml", CKS_BACKEND_INGRESS)
    out = lab.kubectl("apply", "-f", "backend-ingress-network-policy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/backend-ingress created"
    assert in_shell(lab, frontend, wget).splitlines() == [connecting, EXISTS]
    assert in_shell(lab, other, wget).splitlines() == [connecting, TIMED_OUT]


# ckad-crash-course, exercises/32-networkpolicy.
CKAD_SETUP = """\
apiVersion: v1
kind: Namespace
metadata:
  name: k1
  labels:
    role: consumer
---
apiVersion: v1
kind: Namespace
metadata:
  name: k2
  labels:
    role: producer
---
kind: Pod
apiVersion: v1
metadata:
  name: busybox
  namespace: k1
  labels:
    app: frontend
spec:
  containers:
  - name: busybox
    image: busybox:1.36.1
    command: ["sh", "-c", "sleep 1h"]
---
kind: Pod
apiVersion: v1
metadata:
  name: nginx
  namespace: k2
  labels:
    app: backend
spec:
  containers:
  - name: nginx
    image: nginx:1.23.4-alpine
    ports:
    - containerPort: 80
      protocol: TCP
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: k2
spec:
  podSelector: {}
  policyTypes:
  - Ingress"""
CKAD_ALLOW = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-networkpolicy
  namespace: k2
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
    - Ingress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              role: consumer
      ports:
        - protocol: TCP
          port: 80
"""


def test_ckad_crash_course_networkpolicy(lab: Lab) -> None:
    """https://github.com/bmuschko/ckad-crash-course/tree/master/exercises/32-networkpolicy"""
    write(lab, "setup.yaml", CKAD_SETUP)
    out = lab.kubectl("apply", "-f", "setup.yaml")
    assert out.splitlines() == [
        "namespace/k1 created",
        "namespace/k2 created",
        "pod/busybox created",
        "pod/nginx created",
        "networkpolicy.networking.k8s.io/default-deny-ingress created",
    ]
    lab.wait_ready("k1")
    lab.wait_ready("k2")
    out = lab.kubectl("get", "pod", "-n", "k1")
    assert out.splitlines()[1].split()[:3] == ["busybox", "1/1", "Running"], out
    nginx = pod_ip(lab, "k2", "nginx")
    wget = f"kubectl exec -it busybox -n k1 -- wget --timeout=5 {nginx}:80"
    connecting = f"Connecting to {nginx}:80 ({nginx}:80)"
    out = lab.typed_nothing(wget)
    assert out.splitlines()[-3:] == [connecting, TIMED_OUT, "command terminated with exit code 1"]

    write(lab, "allow-ingress-networkpolicy.yaml", CKAD_ALLOW)
    out = lab.kubectl("apply", "-f", "allow-ingress-networkpolicy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/allow-ingress-networkpolicy created"
    out = lab.typed_nothing(wget)
    assert connecting in out, out
    assert TIMED_OUT not in out, out
    # busybox's wget saves the page in the working directory, `/`: the pod's own root takes it.
    assert "saving to 'index.html'" in out, out
    assert "'index.html' saved" in out, out

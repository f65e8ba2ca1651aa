"""Popular NetworkPolicy labs, verbatim, with the real kubectl against `podwall up`.

Each lab runs the commands its page gives, in its order, and checks the outputs the page shows
its reader ("remote file exists", "wget: download timed out", nginx's welcome page).
"""

from __future__ import annotations

import random

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
TIMED_OUT = "wget: download timed out"


# Kubernetes documentation, Tasks > Administer a Cluster > Declare Network Policy.
ACCESS_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: access-nginx
spec:
  podSelector:
    matchLabels:
      app: nginx
  ingress:
  - from:
    - podSelector:
        matchLabels:
          access: "true"
"""


def test_declare_network_policy(lab: Lab) -> None:
    # kubectl sends this Deployment as a protobuf body.
    out = lab.kubectl("create", "deployment", "nginx", "--image=nginx")
    assert out.strip() == "deployment.apps/nginx created"
    assert lab.kubectl("expose", "deployment", "nginx", "--port=80").strip() == (
        "service/nginx exposed"
    )
    lab.kubectl("rollout", "status", "deployment/nginx", "--timeout=120s")
    out = lab.kubectl("get", "svc,pod")
    assert "service/nginx" in out
    assert "1/1     Running" in out
    busybox = "kubectl run busybox --rm -ti --image=busybox:1.28 -- /bin/sh"
    probe = ["wget --spider --timeout=1 nginx"]

    out = lab.session(busybox, probe, tty=True)
    assert "Connecting to nginx (198.19." in out
    assert "remote file exists" in out

    (lab.work / "nginx-policy.yaml").write_text(ACCESS_POLICY)
    out = lab.kubectl("apply", "-f", "nginx-policy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/access-nginx created"

    out = lab.session(busybox, probe, tty=True)
    assert TIMED_OUT in out
    assert "remote file exists" not in out

    labelled = 'kubectl run busybox --rm -ti --labels="access=true" --image=busybox:1.28 -- /bin/sh'
    out = lab.session(labelled, probe, tty=True)
    assert "remote file exists" in out


# ahmetb/kubernetes-network-policy-recipes, 01 and 02.
WEB_DENY_ALL = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: web-deny-all
spec:
  podSelector:
    matchLabels:
      app: web
  ingress: []
"""
API_ALLOW = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: api-allow
spec:
  podSelector:
    matchLabels:
      app: bookstore
      role: api
  ingress:
  - from:
      - podSelector:
          matchLabels:
            app: bookstore
"""


def alpine(labels: str = "") -> str:
    flag = f' --labels="{labels}"' if labels else ""
    return f"kubectl run --rm -i -t --image=alpine{flag} test-{random.randrange(32768)} -- sh"


def test_recipe_01_deny_all_traffic_to_an_application(lab: Lab) -> None:
    out = lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port", "80")
    assert out.splitlines() == ["service/web created", "pod/web created"]
    lab.wait_ready()
    out = lab.session(alpine(), ["wget -qO- --timeout=2 http://web"], tty=True)
    assert WELCOME in out

    (lab.work / "web-deny-all.yaml").write_text(WEB_DENY_ALL)
    out = lab.kubectl("apply", "-f", "web-deny-all.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/web-deny-all created"
    out = lab.session(alpine(), ["wget -qO- --timeout=2 http://web"], tty=True)
    assert TIMED_OUT in out
    assert WELCOME not in out


def test_recipe_02_limit_traffic_to_an_application(lab: Lab) -> None:
    lab.kubectl(
        "run", "apiserver", "--image=nginx", "--labels=app=bookstore,role=api",
        "--expose", "--port", "80",
    )  # fmt: skip
    lab.wait_ready()
    (lab.work / "api-allow.yaml").write_text(API_ALLOW)
    lab.kubectl("apply", "-f", "api-allow.yaml")
    out = lab.session(alpine(), ["wget -qO- --timeout=2 http://apiserver"], tty=True)
    assert TIMED_OUT in out
    frontend = alpine("app=bookstore,role=frontend")
    out = lab.session(frontend, ["wget -qO- --timeout=2 http://apiserver"], tty=True)
    assert WELCOME in out


# Calico, "Kubernetes policy, basic tutorial".
DEFAULT_DENY = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: default-deny
  namespace: policy-demo
spec:
  podSelector:
    matchLabels: {}
"""
ACCESS_NGINX = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: access-nginx
  namespace: policy-demo
spec:
  podSelector:
    matchLabels:
      app: nginx
  ingress:
    - from:
      - podSelector:
          matchLabels:
            run: access
"""


def test_calico_basic_policy_demo(lab: Lab) -> None:
    assert lab.kubectl("create", "ns", "policy-demo").strip() == "namespace/policy-demo created"
    out = lab.kubectl("create", "deployment", "--namespace=policy-demo", "nginx", "--image=nginx")
    assert out.strip() == "deployment.apps/nginx created"
    lab.kubectl("expose", "--namespace=policy-demo", "deployment", "nginx", "--port=80")
    lab.kubectl("rollout", "status", "-n", "policy-demo", "deployment/nginx", "--timeout=120s")
    access = "kubectl run --namespace=policy-demo access --rm -ti --image busybox /bin/sh"

    out = lab.session(access, ["wget -q nginx -O -"], tty=True)
    assert WELCOME in out

    out = lab.kubectl("create", "-f", "-", stdin=DEFAULT_DENY)
    assert out.strip() == "networkpolicy.networking.k8s.io/default-deny created"
    out = lab.session(access, ["wget -q --timeout=5 nginx -O -"], tty=True)
    assert TIMED_OUT in out

    out = lab.kubectl("create", "-f", "-", stdin=ACCESS_NGINX)
    assert out.strip() == "networkpolicy.networking.k8s.io/access-nginx created"
    out = lab.session(access, ["wget -q --timeout=5 nginx -O -"], tty=True)
    assert WELCOME in out
    cant = "kubectl run --namespace=policy-demo cant-access --rm -ti --image busybox /bin/sh"
    out = lab.session(cant, ["wget -q --timeout=5 nginx -O -"], tty=True)
    assert TIMED_OUT in out

    assert 'namespace "policy-demo" deleted' in lab.kubectl("delete", "ns", "policy-demo")


# Sander van Vugt's CKA course (github.com/sandervanvugt/cka), its network policy demo: one file
# with the policy and both pods (YAML documents closed with `...`), then `kubectl exec` probes
# before and after labelling the client.
NWPOLICY_COMPLETE_EXAMPLE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: access-nginx
spec:
  podSelector:
    matchLabels:
      app: nginx
  ingress:
  - from:
    - podSelector:
        matchLabels:
          access: "true"
...

---
apiVersion: v1
kind: Pod
metadata:
  name: nginx
  labels: 
    app: nginx
spec:
  containers:
  - name: nwp-nginx
    image: nginx:1.17
...

---
apiVersion: v1
kind: Pod
metadata:
  name: busybox
  labels:
    app: sleepy
spec:
  containers:
  - name: nwp-busybox
    image: busybox
    command:
    - sleep
    - "3600"
"""


def test_cka_course_network_policy_demo(lab: Lab) -> None:
    (lab.work / "nwpolicy-complete-example.yaml").write_text(NWPOLICY_COMPLETE_EXAMPLE)
    out = lab.kubectl("apply", "-f", "nwpolicy-complete-example.yaml")
    assert out.splitlines() == [
        "networkpolicy.networking.k8s.io/access-nginx created",
        "pod/nginx created",
        "pod/busybox created",
    ]
    assert lab.kubectl("expose", "pod", "nginx", "--port=80").strip() == "service/nginx exposed"
    lab.wait_ready()
    probe = "kubectl exec -it busybox -- wget --spider --timeout=1 nginx"
    out = lab.session(probe, [], tty=True)
    assert TIMED_OUT in out, out
    assert "remote file exists" not in out, out
    out = lab.kubectl("get", "pods", "--show-labels")
    assert "app=sleepy" in out, out
    assert lab.kubectl("label", "pod", "busybox", "access=true").strip() == "pod/busybox labeled"
    out = lab.session(probe, [], tty=True)
    assert "remote file exists" in out, out
    assert TIMED_OUT not in out, out


# A kind course's networking lab (Lab 5, Exercise 2): an http-echo backend, netshoot clients,
# `kubectl exec ... curl` probes. Its policy files are not on the page: they are written from
# its words ("default-deny-ingress", POD-SELECTOR <none>; "allow-frontend-to-backend",
# role=backend, from role=frontend on 5678).
TRAINING_DEFAULT_DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: training
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""
TRAINING_ALLOW_FRONTEND = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-frontend-to-backend
  namespace: training
spec:
  podSelector:
    matchLabels:
      role: backend
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - port: 5678
"""
BLOCKED = "blocked as expected"


def test_http_echo_and_netshoot_lab(lab: Lab) -> None:
    lab.kubectl("create", "namespace", "training")
    out = lab.kubectl("run", "backend", "--image=hashicorp/http-echo:0.2.3",
                      "--labels=role=backend", "--port=5678", "-n", "training", "--",
                      "-text=Hello from backend", "-listen=:5678")  # fmt: skip
    assert out.strip() == "pod/backend created"
    out = lab.kubectl("expose", "pod", "backend", "--port=5678", "--name=backend", "-n",
                      "training")  # fmt: skip
    assert out.strip() == "service/backend exposed"
    for name in ("frontend", "rogue"):
        out = lab.kubectl("run", name, "--image=nicolaka/netshoot:v0.14", f"--labels=role={name}",
                          "-n", "training", "--", "sleep", "3600")  # fmt: skip
        assert out.strip() == f"pod/{name} created"
    lab.wait_ready("training")
    out = lab.kubectl("get", "pods", "-n", "training", "--show-labels")
    assert [line.split()[:3] + line.split()[-1:] for line in out.splitlines()[1:]] == [
        ["backend", "1/1", "Running", "role=backend"],
        ["frontend", "1/1", "Running", "role=frontend"],
        ["rogue", "1/1", "Running", "role=rogue"],
    ]

    def curl(pod: str) -> str:
        command = (f"kubectl exec {pod} -n training -- curl -s --max-time 3 http://backend:5678 "
                   f'|| echo "{BLOCKED}"')  # fmt: skip
        return lab.session(command, [], tty=False).replace("exit\n", "")

    assert curl("frontend") == "Hello from backend\n"
    assert curl("rogue") == "Hello from backend\n"
    lab.kubectl("apply", "-f", "-", stdin=TRAINING_DEFAULT_DENY)
    out = lab.kubectl("get", "networkpolicies", "-n", "training")
    assert out.splitlines()[1].split()[:2] == ["default-deny-ingress", "<none>"], out
    assert BLOCKED in curl("frontend")
    assert BLOCKED in curl("rogue")
    lab.kubectl("apply", "-f", "-", stdin=TRAINING_ALLOW_FRONTEND)
    out = lab.kubectl("get", "networkpolicies", "-n", "training")
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["allow-frontend-to-backend", "role=backend"],
        ["default-deny-ingress", "<none>"],
    ]
    assert curl("frontend") == "Hello from backend\n"
    assert BLOCKED in curl("rogue")

"""CKS practice labs (github.com/ingcloud-fr/cks-labs, cks/*NP_*), verbatim with the real kubectl:
each lab's `deploy.sh` line `kubectl apply -f manifests/`, then its SOLUTION.md's policy and
`kubectl exec -it ... -- curl/nslookup/wget` probes, whose outputs the tests compare.

The labs' `deploy.sh` also runs `kubectl delete ciliumnetworkpolicy --all` (their clusters run
Cilium); podwall has no such resource, like any cluster without Cilium, and that line is left
out. The SOLUTION pages write `k` for kubectl.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
CURL_TIMED_OUT = "curl: (28) Connection timed out after 20"


def write(lab: Lab, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = lab.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def exec_it(lab: Lab, command: str) -> str:
    """A `kubectl exec -it ...` line as typed at the reader's terminal; what it showed."""
    return lab.typed_nothing(command)


def created(out: str) -> list[str]:
    return [line.rsplit(" ", 1)[0] for line in out.splitlines() if line.endswith(" created")]


# cks/INT-NP_Restrict_access_to_products_pod: one peer by namespace name, OR one peer that ANDs
# `namespaceSelector: {}` (any namespace) with a pod label.
PRODUCTS_MANIFESTS = {
    "manifests/01-namespaces.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: development
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-qa""",
    "manifests/02-products-pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: products-pod
  namespace: development
  labels:
    app: products
spec:
  containers:
    - name: products-pod
      securityContext:
        runAsUser: 0
      image: hashicorp/http-echo
      args:
        - "-text=Hello from products-pod on port 80"
        - "-listen=:80"
      ports:
        - containerPort: 80""",
    "manifests/03-products-service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: products-service
  namespace: development
spec:
  selector:
    app: products
  ports:
  - protocol: TCP
    port: 80
    targetPort: 80
""",
}
PRODUCTS_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: development
spec:
  podSelector:
    matchLabels:
      app: products
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: team-qa
    # OR (there is a -)
    - namespaceSelector: {}
      # AND (there is no -)
      podSelector:
        matchLabels:
          env: staging
"""
PRODUCTS_HELLO = "Hello from products-pod on port 80"


def test_cks_restrict_access_to_products_pod(lab: Lab) -> None:
    write(lab, PRODUCTS_MANIFESTS)
    out = lab.kubectl("apply", "-f", "manifests/")
    assert created(out) == [
        "namespace/development",
        "namespace/team-qa",
        "pod/products-pod",
        "service/products-service",
    ]
    lab.wait_ready("development")
    out = lab.kubectl("-n", "development", "get", "all", "--show-labels")
    assert "pod/products-pod   1/1     Running" in out, out
    assert out.splitlines()[1].endswith("app=products"), out
    out = lab.kubectl("get", "ns", "team-qa", "--show-labels")
    assert out.splitlines()[1].endswith("kubernetes.io/metadata.name=team-qa"), out

    write(lab, {"networkpolicy.yaml": PRODUCTS_POLICY})
    out = lab.kubectl("apply", "-f", "networkpolicy.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/test-network-policy created"

    out = lab.kubectl("run", "pod-qa", "-n", "team-qa", "--image", "curlimages/curl",
                      "--restart", "Never", "--command", "--", "sleep", "3600")  # fmt: skip
    assert out.strip() == "pod/pod-qa created"
    lab.wait_ready("team-qa")
    out = exec_it(lab, "kubectl -n team-qa exec -it pod/pod-qa -- curl "
                       "products-service.development:80 --max-time 2")  # fmt: skip
    assert out.strip() == PRODUCTS_HELLO, out

    out = lab.kubectl("run", "pod-with-label", "--image", "curlimages/curl", "--labels",
                      "env=staging", "--restart", "Never", "--command", "--", "sleep",
                      "3600")  # fmt: skip
    lab.wait_ready()
    out = exec_it(lab, "kubectl exec pod/pod-with-label -it -- curl "
                       "products-service.development:80 --max-time 2")  # fmt: skip
    assert out.strip() == PRODUCTS_HELLO, out

    lab.kubectl("run", "pod-no-label", "--image", "curlimages/curl", "--restart", "Never",
                "--command", "--", "sleep", "3600")  # fmt: skip
    lab.wait_ready()
    out = exec_it(lab, "kubectl exec pod/pod-no-label -it -- curl "
                       "products-service.development:80 --max-time 2")  # fmt: skip
    assert CURL_TIMED_OUT in out, out
    assert "command terminated with exit code 28" in out, out
    assert PRODUCTS_HELLO not in out, out


# cks/INT-NP_Cross_namespace_access_with_labels: `namespaceSelector: {}` AND a pod label, in one
# peer. Its manifest holds an empty document (`---` twice) and ends with `---`.
CROSS_TEAM_MANIFESTS = {
    "manifests/01-namespaces.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-orange
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-blue""",
    "manifests/02-pods.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: team-orange
  labels:
    app: api
spec:
  containers:
  - name: nginx
    image: nginx
    ports:
    - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: team-orange
spec:
  selector:
    app: api
  ports:
  - port: 80
    targetPort: 80
---
apiVersion: v1
kind: Pod
metadata:
  name: client-with-access
  namespace: team-blue
  labels:
    app: api
    access: cross-team
spec:
  containers:
  - name: curl
    image: curlimages/curl
    command: ["sleep", "3600"]
---
apiVersion: v1
kind: Pod
metadata:
  name: client-without-access
  namespace: team-blue
  labels:
    app: api
spec:
  containers:
  - name: curl
    image: curlimages/curl
    command: ["sleep", "3600"]
---
---
apiVersion: v1
kind: Pod
metadata:
  name: client-with-access
  namespace: team-orange
  labels:
    access: cross-team
spec:
  containers:
  - name: curl
    image: curlimages/curl
    command: ["sleep", "3600"]
---""",
}
ALLOW_ACROSS_TEAM = """\
# allow-across-team.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-across-team
  namespace: team-orange
spec:
  podSelector:
    matchLabels:
      app: api
  policyTypes:
  - Ingress
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          access: cross-team
    ports:
    - protocol: TCP
      port: 80
"""


def test_cks_cross_namespace_access_with_labels(lab: Lab) -> None:
    write(lab, CROSS_TEAM_MANIFESTS)
    out = lab.kubectl("apply", "-f", "manifests/")
    assert created(out) == [
        "namespace/team-orange",
        "namespace/team-blue",
        "pod/api",
        "service/api",
        "pod/client-with-access",
        "pod/client-without-access",
        "pod/client-with-access",
    ]
    lab.wait_ready("team-orange")
    lab.wait_ready("team-blue")
    out = lab.kubectl("get", "all", "-n", "team-blue", "--show-labels")
    rows = [line.split() for line in out.splitlines()[1:3]]
    assert [(row[0], row[2], row[-1]) for row in rows] == [
        ("pod/client-with-access", "Running", "access=cross-team,app=api"),
        ("pod/client-without-access", "Running", "app=api"),
    ], out

    with_access = "kubectl -n team-blue exec -it pod/client-with-access -- curl api.team-orange:80"
    without_access = with_access.replace("client-with-access", "client-without-access")
    assert WELCOME in exec_it(lab, with_access)
    assert WELCOME in exec_it(lab, without_access)

    write(lab, {"allow-across-team.yaml": ALLOW_ACROSS_TEAM})
    out = lab.kubectl("apply", "-f", "allow-across-team.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/allow-across-team created"

    out = exec_it(lab, f"{with_access} --max-time 2")
    assert WELCOME in out, out
    out = exec_it(lab, f"{without_access} --max-time 2")
    assert CURL_TIMED_OUT in out, out
    assert WELCOME not in out, out


# cks/INT-NP_Isolate_all_allow_only_DNS_egress: egress only to the kube-dns pods of kube-system
# (a namespace AND a pod label in one peer), UDP and TCP 53. The page resolves www.google.com;
# podwall's DNS refuses names outside the cluster, never forwarding them, so the answer is a
# REFUSED from the cluster's DNS server: the query got through, where a blocked one times out.
DNS_MANIFESTS = {
    "manifests/01-namespaces.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-white""",
    "manifests/02-dns-tester.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: dns-tester
  namespace: team-white
  labels:
    app: dns-tester
spec:
  containers:
  - name: busybox
    image: busybox
    command: ["sleep", "3600"]
""",
}
ALLOW_ONLY_DNS_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-only-dns-egress
  namespace: team-white
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
"""
# Not in the lab: "the pod cannot reach any other service or IP", shown with the cluster's own
# `kubernetes` Service (the API server), reached before the policy and not after.
TO_API = (
    "kubectl -n team-white exec dns-tester -- wget -q --timeout=2 -O /dev/null "
    "http://kubernetes.default.svc.cluster.local:443"
)


def test_cks_isolate_all_allow_only_dns_egress(lab: Lab) -> None:
    write(lab, DNS_MANIFESTS)
    out = lab.kubectl("apply", "-f", "manifests/")
    assert created(out) == ["namespace/team-white", "pod/dns-tester"]
    lab.wait_ready("team-white")
    before = lab.session(TO_API, [], tty=False)
    # Reached: the API server answers (its TLS port, spoken to in plain HTTP, hangs up).
    assert "wget: error getting response" in before, before

    write(lab, {"allow-only-dns-egress.yaml": ALLOW_ONLY_DNS_EGRESS})
    out = lab.kubectl("apply", "-f", "allow-only-dns-egress.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/allow-only-dns-egress created"

    out = exec_it(lab, "kubectl -n team-white exec -it pod/dns-tester -- nslookup www.google.com")
    assert "Server:\t\t198.19.0.10\nAddress:\t198.19.0.10:53\n" in out, out
    assert "** server can't find www.google.com: REFUSED" in out, out
    assert "timed out" not in out, out
    out = exec_it(lab, "kubectl -n team-white exec -it pod/dns-tester -- wget -q --timeout=2 "
                       "google.com")  # fmt: skip
    # The page's google.com resolves, then times out; here the name fails (REFUSED above).
    assert "wget: bad address 'google.com'" in out, out
    assert "command terminated with exit code 1" in out, out

    after = lab.session(TO_API, [], tty=False)
    assert "wget: download timed out" in after, after


# cks/INT-NP_Limit_ingress_between_pods: a namespace-wide ingress deny, then one allow on port
# 3000. Its frontend is wbitt/network-multitool (nginx saying its name, address and ports, and
# curl for the reader's probes).
LIMIT_MANIFESTS = {
    "manifests/01-namespaces.yaml": """\
apiVersion: v1
kind: Namespace
metadata:
  name: team-green""",
    "manifests/02-pods.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: backend
  namespace: team-green
  labels:
    app: backend
spec:
  containers:
  - name: backend
    image: hashicorp/http-echo
    args:
    - "-listen=:3000"
    - "-text=Hello from backend on port 3000"
    ports:
    - containerPort: 3000
---
apiVersion: v1
kind: Pod
metadata:
  name: frontend
  namespace: team-green
  labels:
    app: frontend
    role: frontend
spec:
  containers:
  - name: frontend
    image: wbitt/network-multitool
---
apiVersion: v1
kind: Pod
metadata:
  name: tester
  namespace: default
spec:
  containers:
  - name: tester
    image: curlimages/curl
    command: ["sh", "-c", "sleep 3600"]
""",
    "manifests/03-services.yaml": """\
apiVersion: v1
kind: Service
metadata:
  labels:
    app: backend
  name: backend-svc
  namespace: team-green
spec:
  ports:
  - port: 3000
    protocol: TCP
    targetPort: 3000
  selector:
    app: backend
  type: ClusterIP
---
apiVersion: v1
kind: Service
metadata:
  labels:
    app: frontend
    role: frontend
  name: frontend-svc
  namespace: team-green
spec:
  ports:
  - port: 80
    protocol: TCP
    targetPort: 80
  selector:
    app: frontend
    role: frontend
  type: ClusterIP
""",
}
INGRESS_DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ingress-deny
  namespace: team-green
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""
INGRESS_ALLOW = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: ingress-allow-backend
  namespace: team-green
spec:
  podSelector:
    matchLabels:
      app: backend
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 3000
"""
BACKEND_HELLO = "Hello from backend on port 3000"
MULTITOOL = "WBITT Network MultiTool (with NGINX) - frontend - 198.18."


def test_cks_limit_ingress_between_pods(lab: Lab) -> None:
    write(lab, LIMIT_MANIFESTS)
    out = lab.kubectl("apply", "-f", "manifests/")
    assert created(out) == [
        "namespace/team-green",
        "pod/backend",
        "pod/frontend",
        "pod/tester",
        "service/backend-svc",
        "service/frontend-svc",
    ]
    lab.wait_ready("team-green")
    lab.wait_ready()
    out = lab.kubectl("-n", "team-green", "get", "all", "--show-labels")
    rows = [line.split() for line in out.splitlines()[1:3]]
    assert [(row[0], row[2], row[-1]) for row in rows] == [
        ("pod/backend", "Running", "app=backend"),
        ("pod/frontend", "Running", "app=frontend,role=frontend"),
    ], out
    out = lab.kubectl("get", "ns", "team-green", "--show-labels")
    assert out.splitlines()[1].endswith("kubernetes.io/metadata.name=team-green"), out

    frontend_to_backend = "kubectl -n team-green exec -it pod/frontend -- curl backend-svc:3000"
    tester_to_frontend = "kubectl exec -it pod/tester -- curl frontend-svc.team-green:80"
    tester_to_backend = "kubectl exec -it pod/tester -- curl backend-svc.team-green:3000"
    assert exec_it(lab, frontend_to_backend).strip() == BACKEND_HELLO
    out = exec_it(lab, tester_to_frontend).strip()
    assert out.startswith(MULTITOOL), out
    assert out.endswith(" - HTTP: 80 , HTTPS: 443 . (Formerly praqma/network-multitool)"), out
    assert exec_it(lab, tester_to_backend).strip() == BACKEND_HELLO

    write(lab, {"ingress-deny.yaml": INGRESS_DENY})
    out = lab.kubectl("apply", "-f", "ingress-deny.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/ingress-deny created"
    for command in (frontend_to_backend, tester_to_frontend, tester_to_backend):
        out = exec_it(lab, f"{command} --max-time 2")
        assert CURL_TIMED_OUT in out, (command, out)

    write(lab, {"ingress-allow.yaml": INGRESS_ALLOW})
    out = lab.kubectl("apply", "-f", "ingress-allow.yaml")
    assert out.strip() == "networkpolicy.networking.k8s.io/ingress-allow-backend created"
    out = exec_it(lab, f"{frontend_to_backend} --max-time 2")
    assert out.strip() == BACKEND_HELLO, out
    out = exec_it(lab, f"{tester_to_backend} --max-time 2")
    assert CURL_TIMED_OUT in out, out

    out = lab.kubectl("run", "pod-with-label", "--image", "curlimages/curl", "--labels",
                      "role=frontend", "--command", "--", "sleep", "3600")  # fmt: skip
    assert out.strip() == "pod/pod-with-label created"
    lab.wait_ready()
    # The page's default namespace has no backend-svc: its curl gives up resolving it (there
    # "Resolving timed out"; here the cluster's DNS answers at once that there is no such name).
    out = exec_it(lab, "kubectl exec -it pod/pod-with-label -- curl backend-svc:3000 --max-time 2")
    assert "curl: (6) Could not resolve host: backend-svc" in out, out


# cks/INT-NP_Isolate_service_from_other_namespaces: one policy file without a namespace, applied
# with `-n` to each of three namespaces; probes typed at a shell in a curl image.
TEAMS = ("team-blue", "team-green", "team-red")
TEAM_NAMESPACES = "\n---\n".join(
    f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {team}" for team in TEAMS
)
TEAM_NGINX = "---\n".join(
    f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: {team}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
---
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: {team}
spec:
  selector:
    app: nginx
  ports:
  - port: 80
    targetPort: 80
"""
    for team in TEAMS
)
ALLOW_SAME_NAMESPACE_ONLY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-same-namespace-only
spec:
  podSelector:
    matchLabels:
      app: nginx
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector: {}
"""


def test_cks_isolate_service_from_other_namespaces(lab: Lab) -> None:
    write(lab, {"manifests/01-namespaces.yaml": f"{TEAM_NAMESPACES}\n",
                "manifests/02-nginx.yaml": TEAM_NGINX})  # fmt: skip
    out = lab.kubectl("apply", "-f", "manifests/")
    assert created(out) == [
        *(f"namespace/{team}" for team in TEAMS),
        *(name for team in TEAMS for name in ("deployment.apps/nginx", "service/nginx")),
    ]
    for pod, team in (("pod-blue", "team-blue"), ("pod-red", "team-red"),
                      ("pod-green", "team-green")):  # fmt: skip
        out = lab.kubectl("run", "-n", team, pod, "--image", "curlimages/curl", "--restart",
                          "Never", "--command", "--", "sleep", "3600")  # fmt: skip
        assert out.strip() == f"pod/{pod} created"
    for team in TEAMS:
        lab.wait_ready(team)
    shell = "kubectl -n team-green exec pod/pod-green -it -- sh"
    out = lab.session(shell, ["curl nginx:80", "curl nginx.team-red:80"], tty=True)
    assert out.count(WELCOME) == 2, out

    write(lab, {"allow-same-namespace-only.yaml": ALLOW_SAME_NAMESPACE_ONLY})
    for team in ("team-green", "team-red", "team-blue"):
        out = lab.kubectl("apply", "-n", team, "-f", "allow-same-namespace-only.yaml")
        assert out.strip() == ("networkpolicy.networking.k8s.io/allow-same-namespace-only created")
    out = lab.session(shell, ["curl nginx:80 --max-time 2", "curl nginx.team-red:80 --max-time 2"],
                      tty=True)  # fmt: skip
    assert out.count(WELCOME) == 1, out
    assert out.index(WELCOME) < out.index(CURL_TIMED_OUT), out

"""Killercoda scenarios (github.com/chadmcrowell/killercoda-scenarios), their solutions run
verbatim with the real kubectl: `ckad/default-deny-networkpolicy` (every pod of a namespace
denied both ways, shown with `kubectl exec` probes), `ckad/allow-only-port`,
`ckad/allow-label-traffic`, `ckad/allow-namespace-traffic` and `ckad/block-egress` (an nginx
Deployment behind a Service, BusyBox clients from `kubectl run --restart=Never`).

The solutions' `{{exec}}` blocks run one by one as the reader clicks them; the tests wait for the
pods to be Ready before the probes, as the reader's pace does. A probe the page says "should
time out" is busybox's `wget` without `--timeout` (15 minutes): the reader stops it with
Ctrl-C, and so do the tests after a few seconds.
"""

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


# Long enough for nginx's page, which the same wget gets in well under a second.
HANGS_AFTER = 5


def nginx_app(namespace: str, name: str, port_name: str = "") -> str:
    """The scenarios' first block: a namespace, an nginx:1.25 Deployment of two replicas
    labelled app=NAME, and its Service (a port name in one of them)."""
    named = f"\n  - name: {port_name}\n    port: 80" if port_name else "\n  - port: 80"
    return f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: {namespace}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {namespace}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
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
  name: {name}
  namespace: {namespace}
spec:
  selector:
    app: {name}
  ports:{named}
    targetPort: 80
"""


def deploy(lab: Lab, namespace: str, name: str, port_name: str = "") -> None:
    out = lab.kubectl("apply", "-f", "-", stdin=nginx_app(namespace, name, port_name))
    assert out.splitlines() == [
        f"namespace/{namespace} created",
        f"deployment.apps/{name} created",
        f"service/{name} created",
    ]


def sleeper(lab: Lab, namespace: str, name: str, *labels: str) -> None:
    """`kubectl -n NS run NAME --image=busybox:1.36 [--labels=...] --restart=Never --command --
    sh -c "sleep 3600"`, as the scenarios start their clients."""
    out = lab.kubectl("-n", namespace, "run", name, "--image=busybox:1.36", *labels,
                      "--restart=Never", "--command", "--", "sh", "-c", "sleep 3600")  # fmt: skip
    assert out.strip() == f"pod/{name} created"


def apply_policy(lab: Lab, policy: str, name: str) -> None:
    out = lab.kubectl("apply", "-f", "-", stdin=policy)
    assert out.strip() == f"networkpolicy.networking.k8s.io/{name} created"


def assert_page(out: str) -> None:
    assert "<title>Welcome to nginx!</title>" in out, out


def assert_hangs(out: str) -> None:
    """A probe that got nothing and was stopped with Ctrl-C."""
    assert "Welcome to nginx!" not in out, out
    assert out.endswith("^C"), out


ALLOW_ONLY_PORT = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-only-port
  namespace: allow-port
spec:
  podSelector:
    matchLabels:
      app: api
  policyTypes:
  - Ingress
  ingress:
  - ports:
    - protocol: TCP
      port: 80
    from:
    - podSelector: {}
"""


def test_ckad_allow_only_port(lab: Lab) -> None:
    """https://github.com/chadmcrowell/killercoda-scenarios/tree/main/ckad/allow-only-port"""
    deploy(lab, "allow-port", "api", port_name="http")
    sleeper(lab, "allow-port", "bb-http")
    sleeper(lab, "allow-port", "bb-ssh")
    apply_policy(lab, ALLOW_ONLY_PORT, "allow-only-port")
    lab.wait_ready("allow-port")
    assert_page(lab.sh("kubectl -n allow-port exec bb-http -- wget -qO- http://api"))
    out = lab.sh("kubectl -n allow-port exec bb-ssh -- nc -z api 22", interrupt_after=HANGS_AFTER)
    # "expect timeout or failure": the Service has no port 22, so nothing answers there (a
    # cluster's kube-proxy leaves the packet to the default route; podwall's has none for it).
    assert "nc: api (" in out, out
    assert out.endswith(":22): Network is unreachable\ncommand terminated with exit code 1\n"), out


ALLOW_LABEL_TRAFFIC = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-label-traffic
  namespace: allow-label
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          access: granted
    ports:
    - protocol: TCP
      port: 80
"""


def test_ckad_allow_label_traffic(lab: Lab) -> None:
    """https://github.com/chadmcrowell/killercoda-scenarios/tree/main/ckad/allow-label-traffic"""
    deploy(lab, "allow-label", "web")
    sleeper(lab, "allow-label", "bb-allowed", "--labels=access=granted")
    sleeper(lab, "allow-label", "bb-denied")
    apply_policy(lab, ALLOW_LABEL_TRAFFIC, "allow-label-traffic")
    lab.wait_ready("allow-label")
    assert_page(lab.sh("kubectl -n allow-label exec bb-allowed -- wget -qO- http://web"))
    out = lab.sh("kubectl -n allow-label exec bb-denied -- wget -qO- http://web",
                 interrupt_after=HANGS_AFTER)  # fmt: skip
    assert_hangs(out)


ALLOW_NAMESPACE_TRAFFIC = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-namespace-traffic
  namespace: allow-ns
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
          access: granted
    ports:
    - protocol: TCP
      port: 80
"""


def test_ckad_allow_namespace_traffic(lab: Lab) -> None:
    """https://github.com/chadmcrowell/killercoda-scenarios/tree/main/ckad/allow-namespace-traffic"""
    deploy(lab, "allow-ns", "web")
    assert lab.kubectl("create", "namespace", "trusted").strip() == "namespace/trusted created"
    assert lab.kubectl("create", "namespace", "untrusted").strip() == "namespace/untrusted created"
    out = lab.kubectl("label", "namespace", "trusted", "access=granted")
    assert out.strip() == "namespace/trusted labeled"
    sleeper(lab, "trusted", "client-trusted")
    sleeper(lab, "untrusted", "client-untrusted")
    apply_policy(lab, ALLOW_NAMESPACE_TRAFFIC, "allow-namespace-traffic")
    for namespace in ("allow-ns", "trusted", "untrusted"):
        lab.wait_ready(namespace)
    assert_page(lab.sh("kubectl -n trusted exec client-trusted -- wget -qO- http://web.allow-ns"))
    out = lab.sh("kubectl -n untrusted exec client-untrusted -- wget -qO- http://web.allow-ns",
                 interrupt_after=HANGS_AFTER)  # fmt: skip
    assert_hangs(out)


BLOCK_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: block-egress
  namespace: block-egress
spec:
  podSelector:
    matchLabels:
      app: api
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - podSelector: {}
    ports:
    - protocol: TCP
      port: 80
  egress: []
"""


def test_ckad_block_egress(lab: Lab) -> None:
    """https://github.com/chadmcrowell/killercoda-scenarios/tree/main/ckad/block-egress"""
    deploy(lab, "block-egress", "api")
    sleeper(lab, "block-egress", "bb-client")
    apply_policy(lab, BLOCK_EGRESS, "block-egress")
    lab.wait_ready("block-egress")
    assert_page(lab.sh("kubectl -n block-egress exec bb-client -- wget -qO- http://api"))
    out = lab.sh("kubectl -n block-egress exec deploy/api -c nginx -- wget -qO- "
                 "http://example.com")  # fmt: skip
    # As in default-deny-networkpolicy: the nginx image has no wget (a real cluster says so);
    # podwall runs the host's, whose lookup the policy blocks (-q: it says nothing). It fails.
    assert "Welcome to nginx!" not in out, out
    assert "command terminated with exit code" in out, out


DAY4_DEFAULT_DENY_ALL = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
"""
DAY4_ALLOW_DNS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns
spec:
  podSelector: {}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
    ports:
    - protocol: UDP
      port: 53
"""
DAY4_ALLOW_WEB_INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-web-ingress
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          run: client
    ports:
    - protocol: TCP
      port: 80
"""
DAY4_ALLOW_CLIENT_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-client-egress
spec:
  podSelector:
    matchLabels:
      run: client
  policyTypes:
  - Egress
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - protocol: TCP
      port: 80
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
    ports:
    - protocol: UDP
      port: 53
"""
NO_SERVERS = ";; connection timed out; no servers could be reached"


def test_kubeskills_day_004_network_policy_lockouts(lab: Lab) -> None:
    """https://github.com/chadmcrowell/killercoda-scenarios/tree/main/kubeskills-daily/day-004

    Its `kubectl run web --port=80` makes no Service (that needs `--expose`), so `http://web`
    never resolves, on any cluster: every `wget` says `bad address 'web'`, and what the policies
    change shows in the lookups. busybox's nslookup asks for `kubernetes.default` as it is (no
    search domains for a dotted name): a cluster's DNS forwards that upstream (NXDOMAIN); podwall's
    answers REFUSED, never forwarding (a name outside the cluster). Either way the server answers
    once DNS is allowed, and nothing answers while it is not. Left out: step 1's Calico install.
    """
    out = lab.sh('kubectl get pods -n kube-system | grep -E "calico|cilium|weave"')
    assert out == "", out
    assert lab.kubectl("run", "web", "--image=nginx", "--labels=app=web",
                       "--port=80").strip() == "pod/web created"  # fmt: skip
    assert lab.kubectl("run", "client", "--image=busybox", "--command", "--", "sleep",
                       "3600").strip() == "pod/client created"  # fmt: skip
    lab.wait_ready()
    wget = "kubectl exec client -- wget -qO- --timeout=2 http://web"
    bad_address = "wget: bad address 'web'\ncommand terminated with exit code 1\n"
    assert lab.sh(wget) == bad_address
    lookup = "kubectl exec client -- nslookup kubernetes.default"
    assert "Server:\t\t198.19.0.10" in lab.sh(lookup)

    apply_policy(lab, DAY4_DEFAULT_DENY_ALL, "default-deny-all")
    assert lab.sh(wget) == bad_address
    out = lab.sh(lookup)
    assert NO_SERVERS in out, out
    assert out.endswith("command terminated with exit code 1\n"), out

    apply_policy(lab, DAY4_ALLOW_DNS, "allow-dns")
    out = lab.sh(lookup)
    assert "Server:\t\t198.19.0.10" in out, out
    assert "** server can't find kubernetes.default: REFUSED" in out, out
    assert NO_SERVERS not in out, out
    assert lab.sh(wget) == bad_address

    apply_policy(lab, DAY4_ALLOW_WEB_INGRESS, "allow-web-ingress")
    assert lab.sh(wget) == bad_address
    apply_policy(lab, DAY4_ALLOW_CLIENT_EGRESS, "allow-client-egress")
    assert lab.sh(wget) == bad_address

    out = lab.kubectl("get", "networkpolicies")
    assert [row.split()[:2] for row in out.splitlines()] == [
        ["NAME", "POD-SELECTOR"],
        ["allow-client-egress", "run=client"],
        ["allow-dns", "<none>"],
        ["allow-web-ingress", "app=web"],
        ["default-deny-all", "<none>"],
    ], out
    out = lab.kubectl("describe", "networkpolicy", "allow-web-ingress")
    assert "PodSelector:     app=web" in out, out
    assert "From:\n      PodSelector: run=client" in out, out


# kubeskills-daily/day-053: its steps' {{exec}} blocks, as the page has them.
DAY53_STEP1 = """\
cat <<'EOF' | kubectl apply -f -
apiVersion: v1
kind: Service
metadata:
  name: split-test-svc
spec:
  clusterIP: None
  selector:
    app: split-test
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: split-test
spec:
  serviceName: split-test-svc
  replicas: 3
  selector:
    matchLabels:
      app: split-test
  template:
    metadata:
      labels:
        app: split-test
    spec:
      containers:
      - name: app
        image: nginx
        ports:
        - containerPort: 80
EOF

kubectl wait --for=condition=Ready pods -l app=split-test --timeout=60s
"""
DAY53_STEP2 = """\
POD_0=$(kubectl get pod split-test-0 -o jsonpath='{.status.podIP}')
POD_1=$(kubectl get pod split-test-1 -o jsonpath='{.status.podIP}')
POD_2=$(kubectl get pod split-test-2 -o jsonpath='{.status.podIP}')

echo "Pod IPs: $POD_0, $POD_1, $POD_2"

kubectl exec split-test-0 -- curl -m 2 http://$POD_1 > /dev/null 2>&1 && echo "0→1: OK"
kubectl exec split-test-1 -- curl -m 2 http://$POD_2 > /dev/null 2>&1 && echo "1→2: OK"
"""
DAY53_STEP3 = """\
cat <<'EOF' | kubectl apply -f -
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: partition-policy
spec:
  podSelector:
    matchLabels:
      statefulset.kubernetes.io/pod-name: split-test-0
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          statefulset.kubernetes.io/pod-name: split-test-0
  egress:
  - to:
    - podSelector:
        matchLabels:
          statefulset.kubernetes.io/pod-name: split-test-0
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
    ports:
    - protocol: UDP
      port: 53
EOF

kubectl exec split-test-0 -- curl -m 2 http://$POD_1 2>&1 || echo "0→1: PARTITIONED"
kubectl exec split-test-1 -- curl -m 2 http://$POD_0 2>&1 || echo "1→0: PARTITIONED"
kubectl exec split-test-1 -- curl -m 2 http://$POD_2 > /dev/null 2>&1 && echo "1→2: OK"
"""
DAY53_STEP4 = """\
kubectl get nodes
kubectl get pods -o wide
"""
DAY53_STEP5 = (
    "kubectl exec split-test-0 -- nslookup split-test-1.split-test-svc.default.svc.cluster.local\n"
    "kubectl exec split-test-0 -- curl -m 2 http://split-test-1.split-test-svc 2>&1 || "
    'echo "DNS works but connection fails"\n'
)
DAY53_STEP6 = """\
kubectl label pod split-test-0 zone=zone-a --overwrite
kubectl label pod split-test-1 zone=zone-b --overwrite
kubectl label pod split-test-2 zone=zone-b --overwrite

cat <<'EOF' | kubectl apply -f -
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: zone-partition
spec:
  podSelector:
    matchLabels:
      zone: zone-a
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          zone: zone-a
  egress:
  - to:
    - podSelector:
        matchLabels:
          zone: zone-a
  - to:
    - namespaceSelector: {}
    ports:
    - protocol: UDP
      port: 53
EOF
"""


def pod_ips(step2: str) -> str:
    """Step 2's three `POD_n=$(...)` lines: the reader's shell keeps them for step 3 and on."""
    return "".join(line + "\n" for line in step2.splitlines() if line.startswith("POD_"))


def test_kubeskills_day_053_network_partitions(lab: Lab) -> None:
    """https://github.com/chadmcrowell/killercoda-scenarios/tree/main/kubeskills-daily/day-053

    Steps 1 to 6: a StatefulSet behind a headless Service, one pod partitioned off by its
    `statefulset.kubernetes.io/pod-name` label (DNS egress kept), then by zone labels. The
    step's `nslookup` finds no such program in the nginx image, on any cluster, so its "DNS
    still resolves" shows only as the curl's timeout. Left out: steps 7-8 (a 3-member etcd
    StatefulSet, `quay.io/coreos/etcd`, which podwall has no stand-in for) and steps 9, 13 and 14
    (the new StatefulSet's command writes the nginx image's /usr/share/nginx/html and runs its
    nginx.conf: a pod's root is the host's, read-only, so its pods end in Error).
    """
    out = lab.sh(DAY53_STEP1)
    lines = out.splitlines()
    assert lines[:3] == [
        "service/split-test-svc created",
        "statefulset.apps/split-test created",
        "pod/split-test-0 condition met",
    ], out
    # The reader clicks on once the three pods are up; the page's `kubectl wait` sees only the
    # pods made so far (a StatefulSet makes them one by one).
    lab.kubectl("rollout", "status", "statefulset/split-test", "--timeout=120s")

    out = lab.sh(DAY53_STEP2)
    ips, *checks = out.splitlines()
    assert ips.startswith("Pod IPs: 198.18."), out
    assert checks == ["0→1: OK", "1→2: OK"], out

    out = lab.sh(pod_ips(DAY53_STEP2) + DAY53_STEP3)
    assert out.startswith("networkpolicy.networking.k8s.io/partition-policy created\n"), out
    assert out.count("curl: (28) Connection timed out after 200") == 2, out
    assert out.count("command terminated with exit code 28") == 2, out
    assert [line for line in out.splitlines() if ": " in line and "→" in line] == [
        "0→1: PARTITIONED",
        "1→0: PARTITIONED",
        "1→2: OK",
    ], out

    out = lab.sh(DAY53_STEP4)
    assert out.splitlines()[1].split()[:2] == ["node-1", "Ready"], out
    rows = [line.split() for line in out.splitlines() if line.startswith("split-test-")]
    assert [row[:3] for row in rows] == [[f"split-test-{i}", "1/1", "Running"] for i in range(3)]

    out = lab.sh(DAY53_STEP5)
    assert '"nslookup": executable file not found' in out, out
    assert "curl: (28) Connection timed out after 200" in out, out
    assert out.endswith("DNS works but connection fails\n"), out

    out = lab.sh(DAY53_STEP6)
    assert out.splitlines() == [
        "pod/split-test-0 labeled",
        "pod/split-test-1 labeled",
        "pod/split-test-2 labeled",
        "networkpolicy.networking.k8s.io/zone-partition created",
    ], out
    # "Pods in zone-a cannot talk to zone-b" (no probe on the page): step 3's probes again.
    out = lab.sh(pod_ips(DAY53_STEP2) + DAY53_STEP3.split("EOF\n")[-1])
    assert [line for line in out.splitlines() if ": " in line and "→" in line] == [
        "0→1: PARTITIONED",
        "1→0: PARTITIONED",
        "1→2: OK",
    ], out

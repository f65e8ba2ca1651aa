"""ahmetb/kubernetes-network-policy-recipes 01-12, verbatim, with the real kubectl.

Each test runs its page's commands in the page's order (the current pages: the older
`--generator=run-pod/v1`, which kubectl 1.21+ rejects, is gone from them) and checks the outputs
the page shows: nginx's page for traffic allowed, `wget: download timed out` for traffic
blocked. Where a page shows the pre-1.14 `networkpolicy "x" created`, kubectl 1.32's words are
checked instead. One page error is corrected, where it is: 04 applies `-f` the file it saved.
Recipe 03 shows no try-out: its effect is checked with the recipes' own probe.
Recipes 08 (external traffic) and 14 (external egress) need traffic from or to outside the
cluster, which podwall's sandbox has not, and are not run. Of 11, the lines to
www.example.com run where DNS is blocked (`bad address`, the page's words) and are left out
where it resolves; 10's `nc` runs until the reader presses Ctrl-C, as the page's "(works)"
implies. 12 shows no try-out: its effect is checked with the recipes' own wget, from `default`
and from another namespace.
"""

from __future__ import annotations

import random
import re

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
TIMED_OUT = "wget: download timed out"


def wget(lab: Lab, command: str, url: str) -> str:
    """The recipes' try-out: `command` (a `kubectl run ... alpine -- sh` line), then
    `wget -qO- --timeout=2 URL` typed at its prompt; what the terminal shows."""
    return lab.session(command, [f"wget -qO- --timeout=2 {url}"], tty=True)


def allowed(out: str) -> bool:
    assert (WELCOME in out) != (TIMED_OUT in out), out
    return WELCOME in out


def random_name() -> str:
    return f"test-{random.randrange(32768)}"  # test-$RANDOM


def apply(lab: Lab, name: str, manifest: str) -> str:
    (lab.work / name).write_text(manifest)
    return lab.kubectl("apply", "-f", name).strip()


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
WEB_ALLOW_ALL = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: web-allow-all
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - {}
"""


def test_recipe_02a_allow_all_traffic_to_an_application(lab: Lab) -> None:
    lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port", "80")
    lab.wait_ready()
    out = apply(lab, "web-allow-all.yaml", WEB_ALLOW_ALL)
    assert out == "networkpolicy.networking.k8s.io/web-allow-all created"
    out = apply(lab, "web-deny-all.yaml", WEB_DENY_ALL)  # "also apply web-deny-all"
    assert out == "networkpolicy.networking.k8s.io/web-deny-all created"
    command = f"kubectl run {random_name()} --rm -i -t --image=alpine -- sh"
    assert allowed(wget(lab, command, "http://web"))
    out = lab.kubectl("delete", "pod,service", "web")
    assert out.splitlines() == ['pod "web" deleted', 'service "web" deleted']
    out = lab.kubectl("delete", "networkpolicy", "web-allow-all", "web-deny-all")
    assert out.splitlines() == [
        'networkpolicy.networking.k8s.io "web-allow-all" deleted',
        'networkpolicy.networking.k8s.io "web-deny-all" deleted',
    ]


DEFAULT_DENY_ALL = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: default-deny-all
  namespace: default
spec:
  podSelector:
    matchLabels:
"""


def test_recipe_03_deny_all_non_whitelisted_traffic_in_the_namespace(lab: Lab) -> None:
    lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port", "80")
    lab.wait_ready()
    command = f"kubectl run {random_name()} --rm -i -t --image=alpine -- sh"
    assert allowed(wget(lab, command, "http://web"))
    # `matchLabels:` with nothing after it is null: every pod of the namespace.
    out = apply(lab, "default-deny-all.yaml", DEFAULT_DENY_ALL)
    assert out == "networkpolicy.networking.k8s.io/default-deny-all created"
    assert not allowed(wget(lab, command, "http://web"))
    out = lab.kubectl("delete", "networkpolicy", "default-deny-all")
    assert out.strip() == 'networkpolicy.networking.k8s.io "default-deny-all" deleted'
    assert allowed(wget(lab, command, "http://web"))


DENY_FROM_OTHER_NAMESPACES = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  namespace: secondary
  name: deny-from-other-namespaces
spec:
  podSelector:
    matchLabels:
  ingress:
  - from:
    - podSelector: {}
"""


def test_recipe_04_deny_traffic_from_other_namespaces(lab: Lab) -> None:
    assert lab.kubectl("create", "namespace", "secondary").strip() == (
        "namespace/secondary created"
    )
    lab.kubectl(
        "run", "web", "--namespace", "secondary", "--image=nginx", "--labels=app=web",
        "--expose", "--port", "80",
    )  # fmt: skip
    lab.wait_ready("secondary")
    # The page saves web-deny-other-namespaces.yaml and runs `kubectl apply
    # deny-from-other-namespaces.yaml` (no -f, another name): corrected.
    out = apply(lab, "web-deny-other-namespaces.yaml", DENY_FROM_OTHER_NAMESPACES)
    assert out == "networkpolicy.networking.k8s.io/deny-from-other-namespaces created"
    from_default = (
        f"kubectl run {random_name()} --namespace=default --rm -i -t --image=alpine -- sh"
    )
    assert not allowed(wget(lab, from_default, "http://web.secondary"))
    same = f"kubectl run {random_name()} --namespace=secondary --rm -i -t --image=alpine -- sh"
    assert allowed(wget(lab, same, "http://web.secondary"))


WEB_ALLOW_ALL_NAMESPACES = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  namespace: secondary
  name: web-allow-all-namespaces
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - namespaceSelector: {}
"""


def test_recipe_05_allow_traffic_from_all_namespaces(lab: Lab) -> None:
    lab.kubectl("create", "namespace", "secondary")
    lab.kubectl(
        "run", "web", "--image=nginx", "--namespace", "secondary", "--labels=app=web",
        "--expose", "--port", "80",
    )  # fmt: skip
    lab.wait_ready("secondary")
    out = apply(lab, "web-allow-all-namespaces.yaml", WEB_ALLOW_ALL_NAMESPACES)
    assert out == "networkpolicy.networking.k8s.io/web-allow-all-namespaces created"
    from_default = (
        f"kubectl run {random_name()} --namespace=default --rm -i -t --image=alpine -- sh"
    )
    assert allowed(wget(lab, from_default, "http://web.secondary"))
    same = f"kubectl run {random_name()} --namespace=secondary --rm -i -t --image=alpine -- sh"
    assert allowed(wget(lab, same, "http://web.secondary"))  # "also works from secondary"


WEB_ALLOW_PROD = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: web-allow-prod
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          purpose: production
"""


def test_recipe_06_allow_traffic_from_a_namespace(lab: Lab) -> None:
    lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port", "80")
    lab.wait_ready()
    lab.kubectl("create", "namespace", "dev")
    assert lab.kubectl("label", "namespace/dev", "purpose=testing").strip() == (
        "namespace/dev labeled"
    )
    lab.kubectl("create", "namespace", "prod")
    lab.kubectl("label", "namespace/prod", "purpose=production")
    out = apply(lab, "web-allow-prod.yaml", WEB_ALLOW_PROD)
    assert out == "networkpolicy.networking.k8s.io/web-allow-prod created"
    dev = f"kubectl run {random_name()} --namespace=dev --rm -i -t --image=alpine -- sh"
    assert not allowed(wget(lab, dev, "http://web.default"))
    prod = f"kubectl run {random_name()} --namespace=prod --rm -i -t --image=alpine -- sh"
    assert allowed(wget(lab, prod, "http://web.default"))


WEB_ALLOW_ALL_NS_MONITORING = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: web-allow-all-ns-monitoring
  namespace: default
spec:
  podSelector:
    matchLabels:
      app: web
  ingress:
    - from:
      - namespaceSelector:     # chooses all pods in namespaces labelled with team=operations
          matchLabels:
            team: operations
        podSelector:           # chooses pods with type=monitoring
          matchLabels:
            type: monitoring
"""


def test_recipe_07_allow_traffic_from_some_pods_in_another_namespace(lab: Lab) -> None:
    lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port=80")
    lab.wait_ready()
    lab.kubectl("create", "namespace", "other")
    lab.kubectl("label", "namespace/other", "team=operations")
    out = apply(lab, "web-allow-all-ns-monitoring.yaml", WEB_ALLOW_ALL_NS_MONITORING)
    assert out == "networkpolicy.networking.k8s.io/web-allow-all-ns-monitoring created"
    tries = [
        (f"kubectl run {random_name()} --rm -i -t --image=alpine -- sh", False),
        (f'kubectl run {random_name()} --labels="type=monitoring" --rm -i -t --image=alpine -- sh',
         False),
        (f"kubectl run {random_name()} --namespace=other --rm -i -t --image=alpine -- sh", False),
        (f'kubectl run {random_name()} --namespace=other --labels="type=monitoring" --rm -i -t '
         "--image=alpine -- sh", True),
    ]  # fmt: skip
    for command, expected in tries:
        assert allowed(wget(lab, command, "http://web.default")) is expected, command


API_ALLOW_5000 = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: api-allow-5000
spec:
  podSelector:
    matchLabels:
      app: apiserver
  ingress:
  - ports:
    - port: 5000
    from:
    - podSelector:
        matchLabels:
          role: monitoring
"""
METRICS = re.compile(r"^http\.requests=\d+\ngo\.goroutines=5\ngo\.cpus=1$", re.MULTILINE)


def test_recipe_09_allow_traffic_only_to_a_port(lab: Lab) -> None:
    lab.kubectl("run", "apiserver", "--image=ahmet/app-on-two-ports", "--labels=app=apiserver")
    lab.kubectl("create", "service", "clusterip", "apiserver", "--tcp", "8001:8000",
                "--tcp", "5001:5000")  # fmt: skip
    lab.wait_ready()
    out = apply(lab, "api-allow-5000.yaml", API_ALLOW_5000)
    assert out == "networkpolicy.networking.k8s.io/api-allow-5000 created"
    typed = [
        "wget -qO- --timeout=2 http://apiserver:8001",
        "wget -qO- --timeout=2 http://apiserver:5001/metrics",
    ]
    plain = lab.session(f"kubectl run {random_name()} --rm -i -t --image=alpine -- sh", typed,
                        tty=True)  # fmt: skip
    assert plain.count(TIMED_OUT) == 2, plain
    monitoring = (
        f'kubectl run {random_name()} --labels="role=monitoring" --rm -i -t --image=alpine -- sh'
    )
    out = lab.session(monitoring, typed, tty=True)
    assert out.count(TIMED_OUT) == 1, out
    assert METRICS.search(out), out
    assert out.index(TIMED_OUT) < METRICS.search(out).start()  # type: ignore[union-attr]


REDIS_ALLOW_SERVICES = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: redis-allow-services
spec:
  podSelector:
    matchLabels:
      app: bookstore
      role: db
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: bookstore
          role: search
    - podSelector:
        matchLabels:
          app: bookstore
          role: api
    - podSelector:
        matchLabels:
          app: inventory
          role: web
"""


def test_recipe_10_allow_traffic_with_multiple_selectors(lab: Lab) -> None:
    lab.kubectl("run", "db", "--image=redis:4", "--labels=app=bookstore,role=db", "--expose",
                "--port=6379")  # fmt: skip
    lab.wait_ready()
    ip = lab.kubectl("get", "service", "db", "-o", "jsonpath={.spec.clusterIP}")
    out = apply(lab, "redis-allow-services.yaml", REDIS_ALLOW_SERVICES)
    assert out == "networkpolicy.networking.k8s.io/redis-allow-services created"
    catalog = (
        f'kubectl run {random_name()} --labels="app=inventory,role=web" --rm -i -t --image=alpine '
        "-- sh"
    )
    # nc stays connected until the reader presses Ctrl-C ("(works)").
    steps = [("nc -v -w 2 db 6379\n", "pressing enter."), ("\x03", " open")]
    out = lab.terminal(catalog, steps)
    assert f"db ({ip}:6379) open" in out, out
    other = f'kubectl run {random_name()} --labels="app=other" --rm -i -t --image=alpine -- sh'
    out = lab.terminal(other, [("nc -v -w 2 db 6379\n", "pressing enter.")])
    assert f"nc: db ({ip}:6379): Operation timed out" in out, out


FOO_DENY_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: foo-deny-egress
spec:
  podSelector:
    matchLabels:
      app: foo
  policyTypes:
  - Egress
  egress: []
"""
FOO_DENY_EGRESS_BUT_DNS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: foo-deny-egress
spec:
  podSelector:
    matchLabels:
      app: foo
  policyTypes:
  - Egress
  egress:
  # allow DNS resolution
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
      - port: 53
        protocol: UDP
      - port: 53
        protocol: TCP
"""
FOO = 'kubectl run --rm --restart=Never --image=alpine -i -t --labels="app=foo" test -- ash'


def test_recipe_11_deny_egress_traffic_from_an_application(lab: Lab) -> None:
    lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port=80")
    lab.wait_ready()
    ip = lab.kubectl("get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
    out = apply(lab, "foo-deny-egress.yaml", FOO_DENY_EGRESS)
    assert out == "networkpolicy.networking.k8s.io/foo-deny-egress created"
    # www.example.com is outside the sandbox: its name fails the same way, DNS being blocked.
    typed = [
        "wget -qO- --timeout 1 http://web:80/",
        "wget -qO- --timeout 1 http://www.example.com/",
    ]
    out = lab.session(FOO, typed, tty=True)
    assert "wget: bad address 'web:80'" in out, out
    assert "wget: bad address 'www.example.com'" in out, out
    lab.kubectl("wait", "--for=delete", "pod/test", "--timeout=120s")
    out = apply(lab, "foo-deny-egress.yaml", FOO_DENY_EGRESS_BUT_DNS)
    assert out == "networkpolicy.networking.k8s.io/foo-deny-egress configured"
    out = lab.session(FOO, ["wget --timeout 1 -O- http://web"], tty=True)
    assert f"Connecting to web ({ip}:80)\nwget: download timed out" in out, out


DEFAULT_DENY_ALL_EGRESS = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: default-deny-all-egress
  namespace: default
spec:
  policyTypes:
  - Egress
  podSelector: {}
  egress: []
"""


def test_recipe_12_deny_all_non_whitelisted_traffic_from_the_namespace(lab: Lab) -> None:
    lab.kubectl("run", "web", "--image=nginx", "--labels=app=web", "--expose", "--port=80")
    lab.wait_ready()
    out = apply(lab, "default-deny-all-egress.yaml", DEFAULT_DENY_ALL_EGRESS)
    assert out == "networkpolicy.networking.k8s.io/default-deny-all-egress created"
    # The page shows no try-out: every pod of `default` resolves nothing and reaches nothing,
    # while a pod of another namespace still reaches web.
    command = f"kubectl run {random_name()} --rm -i -t --image=alpine -- sh"
    out = lab.session(command, ["wget -qO- --timeout=2 http://web"], tty=True)
    assert "wget: bad address 'web'" in out, out
    lab.kubectl("create", "namespace", "other")
    other = f"kubectl run {random_name()} --namespace=other --rm -i -t --image=alpine -- sh"
    assert allowed(wget(lab, other, "http://web.default"))
    out = lab.kubectl("delete", "networkpolicy", "default-deny-all-egress")
    assert out.strip() == 'networkpolicy.networking.k8s.io "default-deny-all-egress" deleted'
    assert allowed(wget(lab, command, "http://web"))

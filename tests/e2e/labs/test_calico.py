"""Calico's Kubernetes policy tutorials (docs.tigera.io), verbatim, with the real kubectl.

The advanced tutorial keeps its `access` pod's shell open in a second session while the reader
creates policies in the first: one terminal stays open across the steps here too. Its lines to
google.com need the Internet, which podwall's sandbox has not (names outside the cluster are
refused): they run where the page expects them to fail (`bad address` while DNS is blocked) and
are left out where it expects google's page or its addresses.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
TIMED_OUT = "wget: download timed out"
NS = "advanced-policy-demo"
WGET_NGINX = "wget -q --timeout=5 nginx -O -"

DEFAULT_DENY_INGRESS = f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: {NS}
spec:
  podSelector:
    matchLabels: {{}}
  policyTypes:
  - Ingress
"""
ACCESS_NGINX = f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: access-nginx
  namespace: {NS}
spec:
  podSelector:
    matchLabels:
      app: nginx
  ingress:
    - from:
      - podSelector:
          matchLabels: {{}}
"""
DEFAULT_DENY_EGRESS = f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-egress
  namespace: {NS}
spec:
  podSelector:
    matchLabels: {{}}
  policyTypes:
  - Egress
"""
ALLOW_DNS_ACCESS = f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns-access
  namespace: {NS}
spec:
  podSelector:
    matchLabels: {{}}
  policyTypes:
  - Egress
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          name: kube-system
    ports:
    - protocol: UDP
      port: 53

"""
ALLOW_EGRESS_TO_NGINX = f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-egress-to-advance-policy-ns
  namespace: {NS}
spec:
  podSelector:
    matchLabels: {{}}
  policyTypes:
  - Egress
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: nginx
"""


def allowed(out: str) -> bool:
    """nginx's page, or busybox's timeout: one of the two the page shows, never both."""
    assert (WELCOME in out) != (TIMED_OUT in out), out
    return WELCOME in out


def create(lab: Lab, manifest: str) -> str:
    """`kubectl create -f - <<EOF ... EOF`, as the page writes it."""
    return lab.kubectl("create", "-f", "-", stdin=manifest).strip()


def test_calico_advanced_policy_tutorial(lab: Lab) -> None:
    assert lab.kubectl("create", "ns", NS).strip() == f"namespace/{NS} created"
    lab.kubectl("create", "deployment", f"--namespace={NS}", "nginx", "--image=nginx")
    out = lab.kubectl("expose", f"--namespace={NS}", "deployment", "nginx", "--port=80")
    assert out.strip() == "service/nginx exposed"
    lab.kubectl("rollout", "status", "-n", NS, "deployment/nginx", "--timeout=120s")
    dns_ip = lab.kubectl("get", "svc", "-n", "kube-system", "kube-dns", "-o",
                         "jsonpath={.spec.clusterIP}")  # fmt: skip
    access = f"kubectl run --namespace={NS} access --rm -ti --image busybox /bin/sh"
    with lab.shell(access) as shell:
        shell.press_enter()
        assert allowed(shell.run(WGET_NGINX))

        out = create(lab, DEFAULT_DENY_INGRESS)
        assert out == "networkpolicy.networking.k8s.io/default-deny-ingress created"
        assert not allowed(shell.run(WGET_NGINX))

        assert create(lab, ACCESS_NGINX) == "networkpolicy.networking.k8s.io/access-nginx created"
        assert allowed(shell.run(WGET_NGINX))

        out = create(lab, DEFAULT_DENY_EGRESS)
        assert out == "networkpolicy.networking.k8s.io/default-deny-egress created"
        out = shell.run("nslookup nginx")
        # Today's busybox says so in its words, where the page's 1.28 said "can't resolve".
        assert ";; connection timed out; no servers could be reached" in out, out
        out = shell.run("wget -q --timeout=5 google.com -O -")
        assert "wget: bad address 'google.com'" in out, out

        out = lab.kubectl("label", "namespace", "kube-system", "name=kube-system")
        assert out.strip() == "namespace/kube-system labeled"
        out = create(lab, ALLOW_DNS_ACCESS)
        assert out == "networkpolicy.networking.k8s.io/allow-dns-access created"
        out = shell.run("nslookup nginx")
        assert re.search(rf"Server:\s+{re.escape(dns_ip)}\n", out), out
        assert re.search(rf"Name:\s+nginx\.{NS}\.svc\.cluster\.local", out), out
        assert not allowed(shell.run(WGET_NGINX))  # "will still fail"

        out = create(lab, ALLOW_EGRESS_TO_NGINX)
        assert out == "networkpolicy.networking.k8s.io/allow-egress-to-advance-policy-ns created"
        assert allowed(shell.run(WGET_NGINX))

    assert f'namespace "{NS}" deleted' in lab.kubectl("delete", "ns", NS)

"""Kamran Azeem's kubernetes-katas, kata 25 *Network policies*
(github.com/KamranAzeem/kubernetes-katas/blob/master/25-network-policies.md, with its
support-files/network-policies/ policy), verbatim with the real kubectl.

A `traefik/whoami` deployment in namespace `dev` gets a policy that lets in only pods labelled
`app=multitool` (and kube-system's and monitoring's pods) and lets out only web, DNS and the
`prod` namespace's databases. `wbitt/network-multitool` pods then curl whoami's pod IP: the one
named `multitool` gets whoami's page, the one named `mytool` gets nothing.

What differs from the page, and why:
- The kata runs on the author's cluster, where `dev` exists (kata 00's set-up) and whoami sits
  behind a Traefik ingress; the page says to skip the ingress steps without one, so the test
  creates `dev` and skips them.
- The page's `kubectl get networkpolicies` shows POD-SELECTOR `<none>`; kubectl 1.32 prints the
  policy's selector, `app=whoami`, which is what this test expects.
- The page's `describe` output comes from an older kubectl (no `Created on:` line); the test
  compares the rules' lines, not the header.
- Pod names and IPs are the reader's own: the page's `multitool-7f8c7df657-w8659` and
  `10.200.0.5` are whatever this cluster gave.
- The refused curl (`curl -s`, no timeout of its own) waits for the kernel to give up on the
  unanswered SYNs (about two minutes). The page's curl (8.2.1, the multitool image's) then
  exits 7; podwall runs the host's curl (Debian 12's 7.88), which reports the same kernel
  timeout as 28. Either way the SYNs went unanswered: the policy dropped them.
The whoami page is the stand-in's (podwall runs no image): `Hostname:`, `IP:` lines,
`RemoteAddr:`, then the request, as upstream's app.go writes them.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

# The kernel's SYN retries (tcp_syn_retries=6) end after about 127 s.
REFUSED_WITHIN = 200
POLICY_FILE = "network-policy-whoami-dev-ingress-egress.yaml"
# As the page's `cat` shows it (the support file's own copy adds comments only).
POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: whoami-ingress-and-egress-rules
  namespace: dev
spec:
  podSelector:
    matchLabels:
      app: whoami
  policyTypes:
  - Ingress
  - Egress

  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: multitool
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: monitoring

  egress:
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except:
        - 169.254.169.254/32
    ports:
    - protocol: "TCP"
      port: 80
    - protocol: "TCP"
      port: 443
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
    ports:
    - port: 53
      protocol: "TCP"
    - port: 53
      protocol: "UDP"

  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: prod
    ports:
    - protocol: "TCP"
      port: 5432
    - protocol: "TCP"
      port: 3306
"""
# The page's `kubectl describe` lines from `Spec:` on.
DESCRIBED = """\
Spec:
  PodSelector:     app=whoami
  Allowing ingress traffic:
    To Port: <any> (traffic allowed to all ports)
    From:
      PodSelector: app=multitool
    ----------
    To Port: <any> (traffic allowed to all ports)
    From:
      NamespaceSelector: kubernetes.io/metadata.name=kube-system
    ----------
    To Port: <any> (traffic allowed to all ports)
    From:
      NamespaceSelector: kubernetes.io/metadata.name=monitoring
  Allowing egress traffic:
    To Port: 80/TCP
    To Port: 443/TCP
    To:
      IPBlock:
        CIDR: 0.0.0.0/0
        Except: 169.254.169.254/32
    ----------
    To Port: 53/TCP
    To Port: 53/UDP
    To:
      NamespaceSelector: kubernetes.io/metadata.name=kube-system
    ----------
    To Port: 5432/TCP
    To Port: 3306/TCP
    To:
      NamespaceSelector: kubernetes.io/metadata.name=prod
  Policy Types: Ingress, Egress
"""


def pod_of(lab: Lab, app: str) -> tuple[str, str]:
    """The name and IP of the deployment's pod, as the reader reads them off `get pods -o wide`."""
    out = lab.kubectl("-n", "dev", "get", "pods", "-l", f"app={app}", "-o",
                      "jsonpath={.items[0].metadata.name} {.items[0].status.podIP}")  # fmt: skip
    name, ip = out.split()
    return name, ip


def test_kata_25_network_policies(lab: Lab) -> None:
    lab.kubectl("create", "namespace", "dev")  # kata 00's set-up: the reader's namespace

    out = lab.kubectl("-n", "dev", "create", "deployment", "whoami",
                      "--image=docker.io/traefik/whoami")  # fmt: skip
    assert out.strip() == "deployment.apps/whoami created"
    lab.wait_ready("dev")
    whoami, whoami_ip = pod_of(lab, "whoami")

    (lab.work / POLICY_FILE).write_text(POLICY)
    out = lab.kubectl("-n", "dev", "apply", "-f", POLICY_FILE)
    assert out.strip() == "networkpolicy.networking.k8s.io/whoami-ingress-and-egress-rules created"
    out = lab.kubectl("-n", "dev", "get", "networkpolicies")
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["NAME", "POD-SELECTOR"],
        ["whoami-ingress-and-egress-rules", "app=whoami"],
    ]
    out = lab.kubectl("-n", "dev", "describe", "networkpolicy", "whoami-ingress-and-egress-rules")
    assert out.startswith("Name:         whoami-ingress-and-egress-rules\nNamespace:    dev\n")
    assert out[out.index("Spec:") :] == DESCRIBED

    out = lab.kubectl("-n", "dev", "create", "deployment", "multitool",
                      "--image=wbitt/network-multitool")  # fmt: skip
    assert out.strip() == "deployment.apps/multitool created"
    lab.wait_ready("dev")
    multitool, multitool_ip = pod_of(lab, "multitool")
    out = lab.kubectl("-n", "dev", "exec", multitool, "--", "curl", "-s", whoami_ip)
    lines = out.splitlines()
    assert lines[0] == f"Hostname: {whoami}"
    assert f"IP: {whoami_ip}" in lines
    assert "IP: 127.0.0.1" in lines
    remote = next(line for line in lines if line.startswith("RemoteAddr: "))
    assert remote.startswith(f"RemoteAddr: {multitool_ip}:"), out
    request = lines[lines.index(remote) + 1 :]
    assert request[:2] == ["GET / HTTP/1.1", f"Host: {whoami_ip}"], out
    assert request[2].startswith("User-Agent: curl/"), out
    assert request[3:] == ["Accept: */*", ""], out

    out = lab.kubectl("-n", "dev", "create", "deployment", "mytool",
                      "--image=wbitt/network-multitool")  # fmt: skip
    assert out.strip() == "deployment.apps/mytool created"
    lab.wait_ready("dev")
    mytool, _ = pod_of(lab, "mytool")
    out = lab.sh(f"kubectl -n dev exec {mytool} -- curl -s {whoami_ip}",
                 interrupt_after=REFUSED_WITHIN)  # fmt: skip
    # The page: "command terminated with exit code 7" (its curl's word for the same timeout).
    assert out == "command terminated with exit code 28\n"

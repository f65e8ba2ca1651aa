"""container.training (Jérôme Petazzoni's Kubernetes workshops), *Network policies*
(slides/k8s/netpol.md, its `.lab` steps and the repository's k8s/netpol-*.yaml), verbatim with
the real kubectl.

The workshop's kubectl and `curl $IP` run in a shell on `node1` of a cluster whose pods run on
the other nodes; a pod's own node may always reach it (NetworkPolicy lets every connection from
the pod's node in), so the test runs `curl` on a node the pod is not on, in a two-node cluster
(and kubectl in the reader's shell, where the API server is). The slides'
hidden steps wait for the hanging `curl` and press Ctrl-C; the test does the same.

The chapter's DockerCoins part is test_container_training_dockercoins.py.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

WELCOME = "<title>Welcome to nginx!</title>"
DENY_ALL = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: deny-all-for-testweb
spec:
  podSelector:
    matchLabels:
      app: testweb
  ingress: []

"""
ALLOW_TESTCURL = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: allow-testcurl-for-testweb
spec:
  podSelector:
    matchLabels:
      app: testweb
  ingress:
  - from:
    - podSelector:
        matchLabels:
          run: testcurl

"""
# Long enough for nginx's page, which the same curl gets in well under a second.
HANGS_AFTER = 5


@pytest.mark.parametrize("lab", [2], indirect=True)
def test_container_training_network_policies(lab: Lab) -> None:
    """https://github.com/jpetazzo/container.training/blob/main/slides/k8s/netpol.md"""
    k8s = lab.work / "container.training" / "k8s"
    k8s.mkdir(parents=True)
    (k8s / "netpol-deny-all-for-testweb.yaml").write_text(DENY_ALL)
    (k8s / "netpol-allow-testcurl-for-testweb.yaml").write_text(ALLOW_TESTCURL)

    out = lab.kubectl("create", "deployment", "testweb", "--image=nginx")
    assert out.strip() == "deployment.apps/testweb created"
    lab.kubectl("wait", "deployment", "testweb", "--for", "condition=available")
    out = lab.kubectl("get", "pods", "-o", "wide", "-l", "app=testweb")
    header, row = out.splitlines()
    assert row.startswith("testweb-"), out
    where = row.split()[header.split().index("NODE")]
    node1 = next(node for node in ("node-1", "node-2") if node != where)
    ip = lab.sh("kubectl get pods -l app=testweb -o json | jq -r .items[0].status.podIP")
    assert row.split()[5] == ip.strip(), (out, ip)
    ip = ip.strip()
    assert WELCOME in lab.on_node(node1, f"curl {ip}")

    out = lab.kubectl("apply", "-f", str(k8s / "netpol-deny-all-for-testweb.yaml"))
    assert out.strip() == "networkpolicy.networking.k8s.io/deny-all-for-testweb created"
    out = lab.on_node(node1, f"curl {ip}", interrupt_after=HANGS_AFTER)
    assert out.endswith("^C"), out
    assert WELCOME not in out, out

    out = lab.kubectl("apply", "-f", str(k8s / "netpol-allow-testcurl-for-testweb.yaml"))
    assert out.strip() == "networkpolicy.networking.k8s.io/allow-testcurl-for-testweb created"
    out = lab.kubectl("run", "testcurl", "--rm", "-i", "--image=centos", "--", "curl", "-m3", ip)
    assert WELCOME in out, out
    assert 'pod "testcurl" deleted' in out, out
    out = lab.kubectl("run", "testkurl", "--rm", "-i", "--image=centos", "--", "curl", "-m3", ip,
                      check=False)  # fmt: skip
    assert "curl: (28) Connection timed out after 300" in out, out
    assert WELCOME not in out, out

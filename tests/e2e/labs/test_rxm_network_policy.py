"""RX-M's Kubernetes training lab *Network Policy* and its challenge solution, verbatim with the
real kubectl: a `rxmllc/hostinfo` pod (`hi`, answering its hostname and IP on 9898) and BusyBox
clients probing it with `kubectl exec -it client -- wget -T5 -qO - $HI:9898`, in a `netpollab`
namespace made the context's default; `default-deny`, then `access-hostinfo` (ingress to
`app=hi` from `app=client`), the challenge's `client2` labelled in, and step 5's
`restrict-node-metadata` egress policy (all but 169.254.169.254/32, plus every namespace).

Source: RX-M LLC's lab text as published on GitHub ("Copyright (c) 2013-2023 RX-M LLC"; found
by its text, `kubectl run hi --image rxmllc/hostinfo --port 9898 -l app=hi`, in the code
index, whose copy names no repository) and its "Network Policy Challenge Solutions". The
page's files, written with `nano`, are written here with its YAML. Step 5 runs but for its
two probes outside the cluster: the AWS metadata endpoint before the policy (the page's
`ami-id` listing) and `wget -T5 -S http://example.com`; the metadata probe after the policy
times out as the page shows (the policy drops it before it leaves the pod). The test waits
for `hi` to be Ready before reading its IP, as the reader's pace does.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

NP = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: netpollab
spec:
  podSelector: {}
  policyTypes:
  - Ingress
"""
NP_HI = """\
kind: NetworkPolicy
apiVersion: networking.k8s.io/v1
metadata:
  name: access-hostinfo
  namespace: netpollab
spec:
  podSelector:
    matchLabels:
      app: hi
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: client
"""
# The page's line is longer than this module's lines may be.
EGRESS_COMMENT = "# This netpol will block only outgoing traffic, incoming traffic not affected"
RESTRICT_NODE_METADATA = f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: restrict-node-metadata
  namespace: netpollab
spec:
  podSelector:
    matchLabels:
      app: client               # Selects the client pod in the netpollab namespace
  policyTypes:
  - Egress                      {EGRESS_COMMENT}
  egress:
  - to:
    - ipBlock:
        cidr: 0.0.0.0/0         # Allows the pod to connect everywhere else
        except:                 # Any ip blocks listed under here will have traffic stopped
        - 169.254.169.254/32    # Specific IP addresses can be listed with /32
    - namespaceSelector: {{}}     # Allows the pod to continue communications with other pods
"""
PROBE = "kubectl exec -it client -- wget -T5 -qO - $HI:9898"
PROBE_2 = "kubectl exec client2 -it -- wget -T5 -qO - $HI:9898"
TIMED_OUT = ["wget: download timed out", "command terminated with exit code 1"]


def test_network_policy_lab(lab: Lab) -> None:
    # 1. Create a namespace for lab work
    assert lab.sh("kubectl create namespace netpollab") == "namespace/netpollab created\n"
    out = lab.sh("kubectl config set-context --current --namespace netpollab")
    assert out.startswith('Context "'), out
    assert out.endswith('" modified.\n'), out

    # 1. Run a service and access it from a client
    out = lab.sh("kubectl run hi --image rxmllc/hostinfo --port 9898 -l app=hi")
    assert out == "pod/hi created\n", out
    lab.wait_ready("netpollab")
    out = lab.sh("HI=$(kubectl get po hi --template={{.status.podIP}}) && echo $HI")
    hi = out.strip()
    assert hi.startswith("198.18."), out
    lab.env["HI"] = hi  # the reader's shell keeps it
    out = lab.sh(
        "kubectl run client --image busybox -l app=client --env HI=$HI --command"
        " -- tail -f /dev/null"
    )
    assert out == "pod/client created\n", out
    lab.wait_ready("netpollab")
    rows = lab.sh("kubectl get po").splitlines()
    assert [r.split()[:3] for r in rows] == [
        ["NAME", "READY", "STATUS"], ["client", "1/1", "Running"], ["hi", "1/1", "Running"],
    ], rows  # fmt: skip
    answer = [f"hi {hi}"]
    assert lab.typed_nothing(PROBE).splitlines() == answer

    # 2. Create a blocking network policy
    (lab.work / "np.yaml").write_text(NP)
    out = lab.sh("kubectl apply -f np.yaml")
    assert out == "networkpolicy.networking.k8s.io/default-deny created\n", out
    rows = lab.sh("kubectl get networkpolicy").splitlines()
    assert [r.split()[:2] for r in rows] == [["NAME", "POD-SELECTOR"], ["default-deny", "<none>"]]
    assert lab.typed_nothing(PROBE).splitlines() == TIMED_OUT

    # 3. Create a permissive network policy
    (lab.work / "np-hi.yaml").write_text(NP_HI)
    out = lab.sh("kubectl apply -f np-hi.yaml")
    assert out == "networkpolicy.networking.k8s.io/access-hostinfo created\n", out
    rows = lab.sh("kubectl get networkpolicy").splitlines()
    assert [r.split()[:2] for r in rows[1:]] == [
        ["access-hostinfo", "app=hi"],
        ["default-deny", "<none>"],
    ], rows
    assert lab.typed_nothing(PROBE).splitlines() == answer

    # 4. CHALLENGE: apply the policy to an existing client (and its solution)
    out = lab.sh("kubectl run client2 --image busybox --env HI=$HI --command -- tail -f /dev/null")
    assert out == "pod/client2 created\n", out
    lab.wait_ready("netpollab")
    assert lab.typed_nothing(PROBE_2).splitlines() == TIMED_OUT
    out = lab.sh("kubectl describe networkpolicy default-deny")
    assert (
        "  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)\n"
        in out
    )
    assert "    <none> (Selected pods are isolated for ingress connectivity)\n" in out
    out = lab.sh("kubectl describe networkpolicy access-hostinfo")
    assert "      PodSelector: app=client\n" in out, out
    assert lab.sh("kubectl label pod client2 app=client") == "pod/client2 labeled\n"
    assert lab.typed_nothing(PROBE_2).splitlines() == answer

    # 5. Egress Traffic and ipBlock
    (lab.work / "restrict-node-metadata.yaml").write_text(RESTRICT_NODE_METADATA)
    out = lab.sh("kubectl apply -f restrict-node-metadata.yaml")
    assert out == "networkpolicy.networking.k8s.io/restrict-node-metadata created\n", out
    out = lab.typed_nothing(
        "kubectl exec -it client -- wget -T5 -qO - http://169.254.169.254/latest/meta-data"
    )
    assert out.splitlines() == TIMED_OUT
    # "And ensure the pod-to-pod communications for the pod are still valid"
    assert lab.typed_nothing(PROBE_2).splitlines() == answer

    # 6. Clean up
    assert lab.sh("kubectl delete ns netpollab") == 'namespace "netpollab" deleted\n'
    out = lab.sh("kubectl config set-context --current --namespace default")
    assert out.endswith('" modified.\n'), out
    rows = lab.sh("kubectl get all").splitlines()
    assert [r.split()[:2] for r in rows] == [["NAME", "TYPE"], ["service/kubernetes", "ClusterIP"]]

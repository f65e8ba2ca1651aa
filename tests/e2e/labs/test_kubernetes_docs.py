"""The Kubernetes documentation's *Network Policies* concept page, its example policies verbatim
with the real kubectl, and the effects the page states for each checked with BusyBox probes.

Source: https://kubernetes.io/docs/concepts/services-networking/network-policies/ and its
example files (github.com/kubernetes/website, content/en/examples/service/networking/):
networkpolicy.yaml (commit 3842a2847339fe9ad1013653ef81c9aa0f77b639),
networkpolicy-multiport-egress.yaml (32b803661f9c2addc6a19ba048c6e49e3a360a59),
network-policy-default-deny-ingress.yaml (5712187312b318c7223635333cee02d5e22cf8ae),
network-policy-allow-all-ingress.yaml, network-policy-default-deny-egress.yaml,
network-policy-default-deny-all.yaml (7a090ad7363dc8f01a2304c43a0fa3d27b25b540) and
network-policy-allow-all-egress.yaml (81dca134e217806c3f4f0dff1365514bce01829c). The default
policies' files are YAML flow mappings (JSON in a YAML document), as the repository has them.

The page has no workload of its own: it states, for each policy, which connections it allows
and which it isolates. The tests make the pods its words name (`role=db` on Redis's port 6379,
`role=frontend`, a namespace labelled `project=myproject`) and probe exactly those connections,
by pod IP (a policy that denies egress also denies DNS). The reader fetches the files with
`kubectl apply -f https://k8s.io/examples/...`; the files are written locally here (no Internet
in podwall's sandbox), and the addresses outside the cluster the policies name (172.17.0.0/16,
10.0.0.0/24) are never dialled.
"""

from __future__ import annotations

import pytest

from tests.e2e.labs.conftest import Lab

pytestmark = [pytest.mark.kubectl, pytest.mark.netns, pytest.mark.slow]

TEST_NETWORK_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - from:
    - ipBlock:
        cidr: 172.17.0.0/16
        except:
        - 172.17.1.0/24
    - namespaceSelector:
        matchLabels:
          project: myproject
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 6379
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 5978

"""
MULTI_PORT_EGRESS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: multi-port-egress
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
  - Egress
  egress:
  - to:
    - ipBlock:
        cidr: 10.0.0.0/24
    ports:
    - protocol: TCP
      port: 32000
      endPort: 32768

"""


def flow_policy(name: str, types: list[str], rules: str = "") -> str:
    """One of the default policies' files, as the repository writes them."""
    listed = "".join(f'      "{kind}",\n' for kind in types)
    return (
        "---\n{\n"
        '  apiVersion: "networking.k8s.io/v1",\n'
        '  kind: "NetworkPolicy",\n'
        "  metadata: {\n"
        f'    name: "{name}",\n'
        "  },\n"
        "  spec: {\n"
        "    podSelector: {},\n"
        f"{rules}"
        "    policyTypes: [\n"
        f"{listed}"
        "    ],\n"
        "  },\n"
        "}\n"
    )


DEFAULT_DENY_INGRESS = flow_policy("default-deny-ingress", ["Ingress"])
ALLOW_ALL_INGRESS = flow_policy("allow-all-ingress", ["Ingress"], "    ingress: [{}],\n")
DEFAULT_DENY_EGRESS = flow_policy("default-deny-egress", ["Egress"])
ALLOW_ALL_EGRESS = flow_policy("allow-all-egress", ["Egress"], "    egress: [{}],\n")
DEFAULT_DENY_ALL = flow_policy("default-deny-all", ["Ingress", "Egress"])


def run(lab: Lab, *args: str) -> None:
    name = next(arg for arg in args if not arg.startswith("-"))
    assert lab.kubectl("run", *args).strip() == f"pod/{name} created"


def sleeper(lab: Lab, name: str, *flags: str) -> None:
    run(lab, name, "--image=busybox", *flags, "--", "sleep", "3600")


def pod_ip(lab: Lab, name: str, namespace: str = "default") -> str:
    return lab.kubectl("get", "pod", name, "-n", namespace, "-o", "jsonpath={.status.podIP}")


def apply(lab: Lab, file: str, text: str) -> None:
    (lab.work / file).write_text(text)
    out = lab.kubectl("apply", "-f", file).strip()
    assert out.startswith("networkpolicy.networking.k8s.io/"), out
    assert out.endswith(" created"), out


def connects(lab: Lab, client: str, ip: str, port: int, namespace: str = "default") -> bool:
    """busybox's `nc -z -w 2 IP PORT` from `client`: whether the connection opens."""
    out = lab.sh(f"kubectl exec -n {namespace} {client} -- nc -z -w 2 {ip} {port} && echo open")
    return out == "open\n"


def test_example_network_policy(lab: Lab) -> None:
    run(lab, "db", "--image=redis", "--labels=role=db")
    sleeper(lab, "db-peer", "--labels=role=db")
    sleeper(lab, "frontend", "--labels=role=frontend")
    sleeper(lab, "other")
    for namespace in ("myproject", "elsewhere"):
        lab.kubectl("create", "namespace", namespace)
        sleeper(lab, "client", "-n", namespace)
    lab.kubectl("label", "namespace", "myproject", "project=myproject")
    run(lab, "web", "--image=nginx")
    for namespace in ("default", "myproject", "elsewhere"):
        lab.wait_ready(namespace)
    db, web = pod_ip(lab, "db"), pod_ip(lab, "web")
    clients = [("frontend", "default"), ("other", "default"), ("client", "myproject"),
               ("client", "elsewhere")]  # fmt: skip
    assert all(connects(lab, name, db, 6379, namespace) for name, namespace in clients)
    assert connects(lab, "db-peer", web, 80)

    apply(lab, "networkpolicy.yaml", TEST_NETWORK_POLICY)
    # "allows connections to all pods in the default namespace with the label role=db on TCP
    # port 6379 from: any pod in the default namespace with the label role=frontend; any pod
    # in a namespace with the label project=myproject"; others isolated.
    assert [connects(lab, name, db, 6379, namespace) for name, namespace in clients] == [
        True,
        False,
        True,
        False,
    ]
    # "(Egress rules) allows connections from any pod in the default namespace with the label
    # role=db to CIDR 10.0.0.0/24 on TCP port 5978": nothing else, so not nginx.
    assert not connects(lab, "db-peer", web, 80)
    assert connects(lab, "frontend", web, 80)  # not selected: not isolated

    # "When in doubt, use kubectl describe to see how Kubernetes has interpreted the policy."
    out = lab.kubectl("describe", "networkpolicy", "test-network-policy")
    for line in (
        "  PodSelector:     role=db",
        "    To Port: 6379/TCP",
        "      IPBlock:",
        "        CIDR: 172.17.0.0/16",
        "        Except: 172.17.1.0/24",
        "      NamespaceSelector: project=myproject",
        "      PodSelector: role=frontend",
        "    To Port: 5978/TCP",
        "        CIDR: 10.0.0.0/24",
        "  Policy Types: Ingress, Egress",
    ):
        assert f"\n{line}\n" in out, out

    # "Targeting a range of ports": role=db pods may reach 10.0.0.0/24 on 32000-32768, which
    # adds nothing inside the cluster.
    apply(lab, "networkpolicy-multiport-egress.yaml", MULTI_PORT_EGRESS)
    out = lab.kubectl("describe", "networkpolicy", "multi-port-egress")
    assert "\n    To Port Range: 32000-32768/TCP\n" in out, out
    assert not connects(lab, "db-peer", web, 80)


def test_default_policies(lab: Lab) -> None:
    lab.kubectl("create", "namespace", "other")
    for namespace in ("default", "other"):
        run(lab, "web", "--image=nginx", "-n", namespace)
        sleeper(lab, "client", "-n", namespace)
    for namespace in ("default", "other"):
        lab.wait_ready(namespace)
    web, outside = pod_ip(lab, "web"), pod_ip(lab, "web", "other")

    def reach() -> dict[str, bool]:
        """Within the namespace, into it from `other`, and out of it to `other`."""
        return {
            "within": connects(lab, "client", web, 80),
            "into": connects(lab, "client", web, 80, "other"),
            "out of": connects(lab, "client", outside, 80),
        }

    assert reach() == {"within": True, "into": True, "out of": True}

    # "Default deny all ingress traffic ... does not affect isolation for egress from any pod."
    apply(lab, "network-policy-default-deny-ingress.yaml", DEFAULT_DENY_INGRESS)
    assert reach() == {"within": False, "into": False, "out of": True}
    # "Allow all ingress traffic": no other policy can deny incoming connections.
    apply(lab, "network-policy-allow-all-ingress.yaml", ALLOW_ALL_INGRESS)
    assert reach() == {"within": True, "into": True, "out of": True}
    lab.kubectl("delete", "networkpolicy", "default-deny-ingress", "allow-all-ingress")

    # "Default deny all egress traffic ... does not change the ingress isolation behavior."
    apply(lab, "network-policy-default-deny-egress.yaml", DEFAULT_DENY_EGRESS)
    assert reach() == {"within": False, "into": True, "out of": False}
    # "Allow all egress traffic": no other policy can deny outgoing connections.
    apply(lab, "network-policy-allow-all-egress.yaml", ALLOW_ALL_EGRESS)
    assert reach() == {"within": True, "into": True, "out of": True}
    lab.kubectl("delete", "networkpolicy", "default-deny-egress", "allow-all-egress")

    # "Default deny all ingress and all egress traffic".
    apply(lab, "network-policy-default-deny-all.yaml", DEFAULT_DENY_ALL)
    assert reach() == {"within": False, "into": False, "out of": False}
    out = lab.kubectl("get", "networkpolicy", "default-deny-all", "-o",
                      "jsonpath={.spec.policyTypes}")  # fmt: skip
    assert out == '["Ingress","Egress"]', out

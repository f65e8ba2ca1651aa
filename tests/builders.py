"""Small builders for tests: clusters from YAML snippets, traffic from names."""

from __future__ import annotations

import ipaddress

import yaml

from podwall.engine import Endpoint, Traffic
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject

# Two namespaces, each with pods a and b; x/a serves http (TCP 80) and dns (UDP 53).
BASE = """
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {team: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: y, labels: {team: blue}}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec:
  containers:
  - name: c
    ports:
    - {name: http, containerPort: 80}
    - {name: dns, containerPort: 53, protocol: UDP}
    - {name: assoc, containerPort: 7777, protocol: SCTP}
status: {podIP: 198.18.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 198.18.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: y, labels: {app: a}}
spec: {containers: [{name: c}]}
status: {podIP: 198.18.1.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: y, labels: {app: b, tier: db}}
spec: {containers: [{name: c}]}
status: {podIP: 198.18.1.2}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: y, labels: {app: host}}
spec: {hostNetwork: true, containers: [{name: c}]}
status: {podIP: 198.19.255.1}
"""


def make_cluster(extra: str = "", base: str = BASE) -> Cluster:
    docs = [d for d in yaml.safe_load_all(base + "\n---\n" + extra) if d]
    return cluster(RawObject(body=d) for d in docs).cluster


def endpoint(c: Cluster, ref: str) -> Endpoint:
    if "/" in ref:
        return Endpoint.of_pod(c.pods_by_key[ref])
    return Endpoint.of_ip(ipaddress.ip_address(ref))


def traffic(c: Cluster, src: str, dst: str, port: int, proto: str = "TCP") -> Traffic:
    return Traffic(src=endpoint(c, src), dst=endpoint(c, dst), port=port, protocol=Protocol(proto))


def policy(name: str, namespace: str, spec: str) -> str:
    head = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
    head += f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
    return head + "\n".join("  " + line for line in spec.strip().splitlines()) + "\n---\n"


# ClusterNetworkPolicy (issue 11): the node y/host runs on, for `nodes` peers.
NODE = """
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {role: worker}}
status: {addresses: [{type: InternalIP, address: 198.19.255.1}]}
---
"""


def cluster_policy(name: str, tier: str, priority: int, spec: str) -> str:
    """A ClusterNetworkPolicy document; `spec` holds the subject and rules (YAML)."""
    head = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
    head += f"metadata: {{name: {name}}}\nspec:\n  tier: {tier}\n  priority: {priority}\n"
    return head + "\n".join("  " + line for line in spec.strip().splitlines()) + "\n---\n"


# A pod's own node (NetworkPolicy: "... OR if the traffic source is the pod's local node"):
# node n1 runs x/a and the host-network pod x/host (at the node's address, as a node agent
# runs); x/b runs on n2. Whole on its own: use it as `base`.
ON_N1 = """
apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {addresses: [{type: InternalIP, address: 198.18.255.1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 198.18.0.1}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: x, labels: {app: b}}
spec: {nodeName: n2, containers: [{name: c}]}
status: {podIP: 198.18.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: host, namespace: x, labels: {app: host}}
spec: {nodeName: n1, hostNetwork: true, containers: [{name: c}]}
status: {podIP: 198.18.255.1}
---
"""
N1_ADDRESS = "198.18.255.1"

"""Which policies select a pod, per direction: the pod-by-pod reference `decide()` uses.

`selectorcache` answers the same per identity, for whole maps and rulesets. Pure: no I/O here.
"""

from __future__ import annotations

from podwall.model.cluster import Cluster, Pod
from podwall.model.policy import Direction, NetworkPolicy


def selects(policy: NetworkPolicy, pod: Pod) -> bool:
    # spec.podSelector: "Selects the pods to which this NetworkPolicy object applies ... An empty
    # podSelector selects all pods in this namespace." A policy only ever selects pods of its
    # own namespace.
    return policy.namespace == pod.namespace and policy.pod_selector.matches(pod.labels)


def isolating(cluster: Cluster, pod: Pod, direction: Direction) -> tuple[NetworkPolicy, ...]:
    """The policies that isolate `pod` for `direction`, in (namespace, name) order.

    "A pod is isolated for ingress if there is any NetworkPolicy that both selects the pod and
    has "Ingress" in its policyTypes" (and likewise for egress). Order never matters to the
    verdict; it is sorted so explanations are stable.
    """
    found = [
        p
        for p in cluster.policies_by_namespace.get(pod.namespace, ())
        if p.affects(direction) and selects(p, pod)
    ]
    return tuple(sorted(found, key=lambda p: p.name))

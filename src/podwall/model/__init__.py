"""The nouns of podwall: labels, selectors, ports, policies, pods, the cluster snapshot.

Pure: no I/O here.
"""

from podwall.model.cluster import Cluster, Namespace, Pod, Service, ServicePort
from podwall.model.labels import Labels, LabelSelector, Operator, Requirement
from podwall.model.policy import Direction, IPBlock, NetworkPolicy, Peer, PolicyType, Rule
from podwall.model.ports import ContainerPort, PolicyPort, PortSet, Protocol

__all__ = [
    "Cluster",
    "ContainerPort",
    "Direction",
    "IPBlock",
    "LabelSelector",
    "Labels",
    "Namespace",
    "NetworkPolicy",
    "Operator",
    "Peer",
    "Pod",
    "PolicyPort",
    "PolicyType",
    "PortSet",
    "Protocol",
    "Requirement",
    "Rule",
    "Service",
    "ServicePort",
]

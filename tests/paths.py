"""Where a pod-to-pod packet meets the destination node's ruleset, for the tracer.

A packet from another pod, or from a host-network pod on another node, is routed through the
node: the forward hook, where podwall's filter chains are. A host-network pod on the
destination's own node is the node itself: its packet leaves through the output hook, which
filters nothing, as "traffic is allowed to a pod if ... the traffic source is the pod's local
node" (NetworkPolicySpec.ingress) wants; tests/integration/netns/test_nodeports.py sends such
packets for real.
"""

from __future__ import annotations

from podwall.model.cluster import Pod
from podwall.nft.trace import Hook


def hook_of(src: Pod, dst: Pod) -> Hook:
    if src.host_network and src.node is not None and src.node == dst.node:
        return Hook.OUTPUT
    return Hook.FORWARD

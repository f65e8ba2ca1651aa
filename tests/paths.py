"""Where a pod-to-pod packet meets the destination node's ruleset, for the tracer.

A packet from another pod, or from a host-network pod on another node, is routed through the
node: the forward hook, where podwall's filter chains are. A host-network pod on the
destination's own node is the node itself: its packet leaves through the output hook, which
filters nothing, as "traffic is allowed to a pod if ... the traffic source is the pod's local
node" (NetworkPolicySpec.ingress) wants. A pod's packet to a host-network pod on its own node
is addressed to that node: it is delivered locally, on the input hook, where the pod's egress
is judged again (egress has no such exemption).
tests/integration/netns/test_nodeports.py and test_egress_node.py send such packets for real.
"""

from __future__ import annotations

from podwall.model.cluster import Pod
from podwall.nft.trace import Hook


def hook_of(src: Pod, dst: Pod) -> Hook:
    if src.node is None or src.node != dst.node:
        return Hook.FORWARD
    if src.host_network:
        return Hook.OUTPUT
    return Hook.INPUT if dst.host_network else Hook.FORWARD

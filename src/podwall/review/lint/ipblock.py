"""Checks that an ipBlock does not cover the cluster's own pod or Service addresses.

The API says ipBlocks are meant for addresses outside the cluster; whether traffic between
pods matches an ipBlock by their addresses differs between network plugins (before or after
NAT, pod or node address), and a Service's cluster IP is translated before policy sees it in
most. Pure: no I/O here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from podwall.model.cluster import Pod, Service
from podwall.model.policy import IPBlock, NetworkPolicy, Rule
from podwall.review.lint.context import Context, peers_field, rules
from podwall.review.lint.finding import Raw

DOC = """\
An ipBlock contains the address of a pod (status.podIP) or a Service's cluster IP in the
manifests or cluster given, and the same rule does not also select those pods with a
podSelector or namespaceSelector.

The NetworkPolicy API describes ipBlock as cluster-external: "These should be cluster-external
IPs, since Pod IPs are ephemeral and unpredictable". Whether pod-to-pod traffic matches an
ipBlock by the pods' addresses differs between network plugins (some see the node's address
after SNAT, some match pod addresses, some never), and a Service's cluster IP is usually
translated to a pod's before policy is evaluated, so a rule naming it matches nothing.

    egress:
    - to:
      - ipBlock: {cidr: 10.0.0.0/8}     # also the pod network

Fix: select the pods with podSelector/namespaceSelector, and `except` the pod and Service
ranges from a block meant for the outside (`cidr: 0.0.0.0/0, except: [10.0.0.0/8]`). A rule
that also has a selector peer matching those pods is not reported. Host-network pods carry
their node's address, which an ipBlock is the right way to match: they are not reported.
"""


def ipblock_contains_cluster(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        for direction, _, rule, path in rules(policy):
            field = peers_field(direction)
            for j, peer in enumerate(rule.peers):
                if peer.ip_block is None:
                    continue
                pods = _pods(ctx, policy, rule, peer.ip_block)
                services = _services(ctx.cluster.services, peer.ip_block)
                if pods or services:
                    yield (
                        policy,
                        f"{path}.{field}[{j}].ipBlock",
                        _message(peer.ip_block, pods, services),
                    )


def _pods(ctx: Context, policy: NetworkPolicy, rule: Rule, block: IPBlock) -> list[Pod]:
    selected = {
        p.key for peer in rule.peers if peer.ip_block is None for p in ctx.peer_pods(policy, peer)
    }
    return [
        p
        for p in ctx.cluster.pods
        if not p.host_network and p.key not in selected and any(block.contains(ip) for ip in p.ips)
    ]


def _services(services: tuple[Service, ...], block: IPBlock) -> list[Service]:
    out = []
    for svc in services:
        try:
            ip = ipaddress.ip_address(svc.cluster_ip or "")
        except ValueError:
            continue  # None, "None" (headless) or not an address
        if block.contains(ip):
            out.append(svc)
    return out


def _message(block: IPBlock, pods: list[Pod], services: list[Service]) -> str:
    parts = []
    if pods:
        parts.append("pod(s) " + _names([p.key for p in pods]))
    if services:
        parts.append("the cluster IP of service(s) " + _names([s.key for s in services]))
    return (
        f"{block.render()} contains the address of {' and '.join(parts)}: whether it matches "
        "traffic within the cluster differs between network plugins"
    )


def _names(keys: list[str]) -> str:
    return ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")

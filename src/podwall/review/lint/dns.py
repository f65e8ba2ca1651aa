"""Checks that pods isolated for egress can still reach cluster DNS.

A pod isolated for egress resolves no name unless a rule allows UDP 53 to the DNS pods. The
DNS pods are those labelled `k8s-app: kube-dns` in the snapshot; when none is given (manifests
rarely hold kube-system), a stand-in as every cluster runs it is assumed: a pod in namespace
kube-system labelled `k8s-app: kube-dns` declaring `dns` UDP 53 and `dns-tcp` TCP 53. The
verdict is the engine's (`decide`, egress side). Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator

from podwall.engine import Endpoint, Traffic, decide
from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from podwall.model.policy import Direction, NetworkPolicy
from podwall.model.ports import ContainerPort, PolicyPort, Protocol
from podwall.review.lint.context import Context
from podwall.review.lint.finding import Raw

DNS_LABEL = ("k8s-app", "kube-dns")
DNS_PORT = 53

DOC = """\
The policy allows some egress to the pods it isolates for egress, and no egress rule of the
policies selecting them allows UDP port 53 to the cluster's DNS pods, so every name lookup
(`curl backend:8080`, a database host name) fails while connections by address still work.
A policy with no egress rules at all is a deliberate deny of all egress and is not reported.

Cluster DNS is the pods labelled `k8s-app: kube-dns` (CoreDNS keeps that label) in
kube-system. When the manifests given hold none, podwall assumes them as every cluster runs
them. An egress rule that allows UDP 53 to an ipBlock (node-local DNS, or a resolver by
address) counts as a path to DNS.

    egress:
    - to:
      - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
        podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports:
      - {protocol: UDP, port: 53}
      - {protocol: TCP, port: 53}

Fix: add such a rule (in this policy or another that selects the same pods). If the pods
never resolve names, disable the check (`--disable PW004`). Needs pods: skipped without.
"""


def egress_without_dns(ctx: Context) -> Iterator[Raw]:
    # A policy with no egress rules is a deny of all egress, DNS included, on purpose (or
    # PW009 says it is not said): only policies that allow some egress are asked about DNS.
    egress_policies = [p for p in ctx.cluster.policies if p.affects(Direction.EGRESS) and p.egress]
    if not egress_policies:
        return
    cluster, servers = _with_dns(ctx.cluster)
    blocked: dict[str, bool] = {}
    for policy in egress_policies:
        cut = []
        for pod in ctx.selected(policy):
            if pod.key not in blocked:
                blocked[pod.key] = _blocked(cluster, pod, servers)
            if blocked[pod.key]:
                cut.append(pod)
        if cut:
            yield policy, "spec.egress", _message(cut)


def _message(pods: list[Pod]) -> str:
    names = ", ".join(p.key for p in pods[:4]) + (
        f" and {len(pods) - 4} more" if len(pods) > 4 else ""
    )
    return (
        f"isolates {names} for egress and no egress rule allows them DNS (UDP 53 to the "
        "k8s-app=kube-dns pods): name lookups will fail"
    )


def _with_dns(cluster: Cluster) -> tuple[Cluster, tuple[Pod, ...]]:
    servers = tuple(p for p in cluster.pods if p.labels.get(DNS_LABEL[0]) == DNS_LABEL[1])
    if servers:
        return cluster, servers
    stand_in = Pod(
        namespace="kube-system",
        name="kube-dns",
        labels=Labels({DNS_LABEL[0]: DNS_LABEL[1]}),
        ports=(
            ContainerPort(port=DNS_PORT, protocol=Protocol.UDP, name="dns"),
            ContainerPort(port=DNS_PORT, protocol=Protocol.TCP, name="dns-tcp"),
        ),
    )
    if stand_in.key in cluster.pods_by_key:
        stand_in = Pod(
            namespace="kube-system",
            name="kube-dns-assumed",
            labels=stand_in.labels,
            ports=stand_in.ports,
        )
    extended = Cluster.build(
        namespaces=cluster.namespaces.values(),
        pods=(*cluster.pods, stand_in),
        services=cluster.services,
        policies=cluster.policies,
        workloads=cluster.workloads,
    )
    return extended, (stand_in,)


def _blocked(cluster: Cluster, pod: Pod, servers: tuple[Pod, ...]) -> bool:
    for server in servers:
        traffic = Traffic(
            src=Endpoint.of_pod(pod),
            dst=Endpoint.of_pod(server),
            port=DNS_PORT,
            protocol=Protocol.UDP,
        )
        verdict = decide(cluster, traffic).egress
        if verdict.allowed:
            return False
        if any(_dns_by_address(check.policy) for check in verdict.policies):
            return False
    return True


def _dns_by_address(policy: NetworkPolicy) -> bool:
    """An egress rule naming UDP 53 for an ipBlock, or opening every address: DNS by address.

    The assumed DNS pods have no address, so the engine cannot match them to an ipBlock; a
    rule that names the DNS port or allows everywhere is taken as the author's path to DNS.
    """
    for rule in policy.egress:
        blocks = [peer.ip_block for peer in rule.peers if peer.ip_block is not None]
        if not blocks:
            continue
        everywhere = any(b.cidr.prefixlen == 0 and not b.except_ for b in blocks)
        if _admits_dns(rule.ports, any_port=everywhere):
            return True
    return False


def _admits_dns(ports: tuple[PolicyPort, ...], *, any_port: bool) -> bool:
    if not ports:
        return any_port
    for port in ports:
        if port.protocol is not Protocol.UDP:
            continue
        if port.port in (None, DNS_PORT, "dns"):
            return True
        end = port.end_port
        if isinstance(port.port, int) and end is not None and port.port <= DNS_PORT <= end:
            return True
    return False

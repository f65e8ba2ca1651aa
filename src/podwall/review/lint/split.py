"""`from`/`to` items that were probably meant as one peer: the classic indentation mistake.

    from:                              from:
    - namespaceSelector: {...}         - namespaceSelector: {...}
    - podSelector: {...}                 podSelector: {...}

The left allows every pod of the selected namespaces OR the labelled pods of the policy's own
namespace; the right allows the labelled pods of the selected namespaces. Both are valid, so
the left is reported only when the manifests say it is probably the right: the podSelector item
alone matches no pod of the policy's namespace while the two together match some (or, with no
pods given at all, on the shape alone). Pure: no I/O here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from podwall.model.policy import NetworkPolicy, Peer, Rule
from podwall.review.lint.context import Context, peers_field, rules
from podwall.review.lint.finding import Raw

DOC = """\
Two adjacent `from` (or `to`) items, one with only a namespaceSelector and one with only a
podSelector, are two peers that allow traffic independently:

    from:
    - namespaceSelector: {matchLabels: {team: monitoring}}
    - podSelector: {matchLabels: {app: prometheus}}

allows every pod of the monitoring namespaces, OR pods labelled app=prometheus in the
policy's own namespace. Usually one peer was meant, "prometheus pods in monitoring
namespaces", which is written as one item (no `-` before podSelector):

    from:
    - namespaceSelector: {matchLabels: {team: monitoring}}
      podSelector: {matchLabels: {app: prometheus}}

The check reports the pair only when the podSelector item alone matches no pod of the
policy's namespace while the two together would match some, or, when no pods are given at
all, on the shape alone. If the two peers are intended, disable the check for this run
(`--disable PW005`).
"""


def split_items(ctx: Context, policy: NetworkPolicy, rule: Rule) -> Iterator[tuple[int, int]]:
    """Indices (namespaceSelector item, podSelector item) of each suspicious adjacent pair."""
    for (i, a), (j, b) in itertools.pairwise(enumerate(rule.peers)):
        pair = _pair(a, b, i, j)
        if pair is None:
            continue
        ns_index, pod_index = pair
        ns_peer, pod_peer = rule.peers[ns_index], rule.peers[pod_index]
        if not ctx.has_pods or _joined_selects_more(ctx, policy, ns_peer, pod_peer):
            yield pair


def _pair(a: Peer, b: Peer, i: int, j: int) -> tuple[int, int] | None:
    if _only_namespace(a) and _only_pod(b):
        return i, j
    if _only_pod(a) and _only_namespace(b):
        return j, i
    return None


def _only_namespace(peer: Peer) -> bool:
    return peer.namespace_selector is not None and peer.pod_selector is None


def _only_pod(peer: Peer) -> bool:
    return peer.pod_selector is not None and peer.namespace_selector is None


def _joined_selects_more(
    ctx: Context, policy: NetworkPolicy, ns_peer: Peer, pod_peer: Peer
) -> bool:
    if ctx.peer_pods(policy, pod_peer):
        return False  # the podSelector item stands on its own: an intended OR
    joined = Peer(pod_selector=pod_peer.pod_selector, namespace_selector=ns_peer.namespace_selector)
    return bool(ctx.peer_pods(policy, joined))


def split_peer(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        for direction, _, rule, path in rules(policy):
            field = peers_field(direction)
            for ns_index, pod_index in split_items(ctx, policy, rule):
                ns_peer, pod_peer = rule.peers[ns_index], rule.peers[pod_index]
                joined = Peer(
                    pod_selector=pod_peer.pod_selector,
                    namespace_selector=ns_peer.namespace_selector,
                )
                first, second = sorted((ns_index, pod_index))
                yield (
                    policy,
                    f"{path}.{field}[{second}]",
                    f"{field}[{first}] and {field}[{second}] are two peers ({ns_peer.render()}; "
                    f"{pod_peer.render()} in namespace {policy.namespace}); if one peer was "
                    f"meant ({joined.render()}), write them as one item",
                )

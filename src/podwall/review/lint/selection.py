"""Checks that a policy and its peers select something in the given manifests or cluster.

A podSelector that matches no pod is most often a label typo; the policy then guards nothing,
and a peer that matches nothing opens nothing. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator

from podwall.model.policy import NetworkPolicy, Peer
from podwall.review.lint.context import Context, peers_field, rules
from podwall.review.lint.finding import Raw
from podwall.review.lint.split import split_items

SELECTS_NOTHING_DOC = """\
The policy's spec.podSelector matches no pod of its namespace in the manifests (or cluster)
given, so the policy isolates nothing and allows nothing: it has no effect.

Most often a label is misspelt (`app: fronted`), the policy is in the wrong namespace (a
missing `metadata.namespace` puts it in `default`), or the workload it is meant for is not in
the files given to podwall (then give them too: `-f k8s/`).

    spec:
      podSelector:
        matchLabels: {app: fronted}   # the pods are labelled app: frontend

Fix: correct the selector or the namespace. The check needs pods: with no pods or workloads
given it is skipped.
"""

PEER_SELECTS_NOTHING_DOC = """\
A `from`/`to` item with podSelector and/or namespaceSelector matches no pod in the manifests
(or cluster) given, so it allows nothing. A namespaceSelector is matched against namespace
labels (every namespace carries `kubernetes.io/metadata.name: NAME`); a podSelector without a
namespaceSelector selects pods in the policy's own namespace only.

    ingress:
    - from:
      - namespaceSelector:
          matchLabels: {name: monitoring}   # the namespace has no label `name`
    # fix: matchLabels: {kubernetes.io/metadata.name: monitoring}

Fix: correct the labels, or declare the namespace's labels in the manifests given. ipBlock
peers are not checked here. The check needs pods: with none given it is skipped.
"""


def selects_nothing(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        if ctx.selected(policy):
            continue
        selector = policy.pod_selector.render_braces()
        if not any(p.namespace == policy.namespace for p in ctx.cluster.pods):
            why = f"namespace {policy.namespace} has no pods in the manifests given"
        else:
            why = f"podSelector {selector} matches no pod in namespace {policy.namespace}"
        yield policy, "spec.podSelector", f"selects no pod, so it has no effect: {why}"


def peer_selects_nothing(ctx: Context) -> Iterator[Raw]:
    for policy in ctx.cluster.policies:
        for direction, _, rule, path in rules(policy):
            split = {j for pair in split_items(ctx, policy, rule) for j in pair}
            field = peers_field(direction)
            for j, peer in enumerate(rule.peers):
                if peer.ip_block is not None or j in split or ctx.peer_pods(policy, peer):
                    continue
                where = f"{path}.{field}[{j}]"
                yield policy, where, f"{peer.render()} selects no pod: {_why(ctx, policy, peer)}"


def _why(ctx: Context, policy: NetworkPolicy, peer: Peer) -> str:
    if peer.namespace_selector is not None:
        names = ctx.namespaces(peer)
        if not names:
            return "no namespace has those labels"
        return f"no pod matches in namespace(s) {', '.join(names)}"
    return f"no pod of namespace {policy.namespace} has those labels"

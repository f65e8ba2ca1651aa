"""Connectivity maps and diffs as Graphviz DOT: workloads as nodes, allowed ports on edges.

Nodes are groups of pods that behave alike (a Deployment's replicas are one node), boxed by
namespace. To stay readable on a busy namespace, a destination every pod reaches on every
port is drawn open (dashed, "open to every pod") instead of with an edge from each, and
sources that are every group of a namespace share one edge from the namespace's box. Pure:
no I/O here; the command line prints the text or hands it to `dot -Tsvg`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from podwall.engine import ConnectivityMap
from podwall.engine.identities import bit_indices
from podwall.model.cluster import Pod
from podwall.model.ports import PortSet
from podwall.review.diff import Change, Diff
from podwall.review.groups import ABSENT, Joint


def quote(text: str) -> str:
    """A DOT string: double quotes, with `"` and `\\` escaped and newlines as `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _ports(ports: PortSet) -> str:
    text = ports.render()
    return "all ports" if text == "all" else text


def node_label(pods: Sequence[Pod]) -> str:
    """`frontend`; `deployment web\\n3 pods`; `{app: cache}\\n4 pods` (the namespace is the box)."""
    first = pods[0]
    if len(pods) == 1:
        return first.name
    workloads = {p.workload for p in pods}
    if len(workloads) == 1 and first.workload is not None:
        return f"{first.workload[0].lower()} {first.workload[1]}\n{len(pods)} pods"
    return f"{first.labels.render()}\n{len(pods)} pods"


def _head(name: str) -> list[str]:
    return [
        f"digraph {quote(name)} {{",
        "  compound=true;",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded", fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]


def _boxes(groups: Iterable[tuple[str, str, Sequence[Pod], str]]) -> list[str]:
    """Namespace boxes holding their nodes: (node id, namespace, pods, extra attributes)."""
    by_ns: dict[str, list[str]] = {}
    for node, namespace, pods, extra in groups:
        attrs = f"label={quote(node_label(pods))}{extra}"
        by_ns.setdefault(namespace, []).append(f"    {node} [{attrs}];")
    lines: list[str] = []
    for i, (namespace, nodes) in enumerate(sorted(by_ns.items())):
        lines += [f"  subgraph cluster_{i} {{", f"    label={quote(namespace)};", *nodes, "  }"]
    return lines


def connectivity_dot(
    cmap: ConnectivityMap, name: str = "podwall", window: Callable[[int], int] | None = None
) -> str:
    """The map as DOT; `window(identity)` limits each destination's atoms (one port)."""
    identities = cmap.identities
    groups = [tuple(cmap.pods[i] for i in members) for members in cmap.groups]
    by_ns: dict[str, int] = {}
    for ident in identities:
        by_ns[ident.namespace] = by_ns.get(ident.namespace, 0) | 1 << ident.index
    everyone = (1 << len(identities)) - 1
    open_nodes: set[int] = set()
    found: dict[str, dict[int, int]] = {}  # tail -> destination group -> atoms
    wide: set[str] = set()  # namespaces drawn as one "every pod of" source
    for dst in identities:
        size = len(cmap.groups[dst.index])
        seen = cmap.atoms.all_mask if window is None else window(dst.index)
        parts = [
            (_without_lone_self(b, dst.index, size), m & seen)
            for b, m in cmap.per_dst[dst.index]
            if m & seen
        ]
        others = _without_lone_self(everyone, dst.index, size)
        if others and any(b == others and m == seen for b, m in parts):
            open_nodes.add(dst.index)
            continue
        for bits, mask in parts:
            for source in _sources(bits, by_ns, wide):
                heads = found.setdefault(source, {})
                heads[dst.index] = heads.get(dst.index, 0) | mask
    nodes = [
        (f"g{i}", g[0].namespace, g, _OPEN if i in open_nodes else "") for i, g in enumerate(groups)
    ]
    every = [
        f"  {_every(ns)} [label={quote(f'every pod of {ns}')}, shape=plaintext];"
        for ns in sorted(wide)
    ]
    boxes = {ns: i for i, ns in enumerate(sorted(by_ns))}
    namespaces = [i.namespace for i in identities]

    def label(mask: int) -> str:
        return quote(_ports(cmap.atoms.port_set(mask)))

    edges = [
        line
        for tail, heads in found.items()
        for line in _heads(tail, heads, by_ns, boxes, namespaces, label)
    ]
    return "\n".join([*_head(name), *_boxes(nodes), *every, *edges, "}"]) + "\n"


_OPEN = ', style="rounded,dashed", xlabel="open to every pod"'


def _every(namespace: str) -> str:
    return quote(f"every:{namespace}")


def _heads(
    tail: str,
    heads: dict[int, int],
    by_ns: dict[str, int],
    boxes: dict[str, int],
    namespaces: Sequence[str],
    label: Callable[[int], str],
) -> list[str]:
    """Edges from `tail`: into a namespace's box for the ports it reaches every group there on
    (when it has several groups and `tail` is not inside it), then per group for the rest."""
    heads = dict(heads)
    out: list[str] = []
    for ns, members in sorted(by_ns.items()):
        inside = tail.startswith("g") and namespaces[int(tail[1:])] == ns
        groups = bit_indices(members)
        if len(groups) < 2 or inside:
            continue
        common = -1
        for g in groups:
            common &= heads.get(g, 0)
        if common:
            out.append(
                f"  {tail} -> g{groups[0]} [label={label(common)}, lhead=cluster_{boxes[ns]}];"
            )
            for g in groups:
                heads[g] &= ~common
    return out + [f"  {tail} -> g{g} [label={label(m)}];" for g, m in sorted(heads.items()) if m]


def _without_lone_self(bits: int, index: int, size: int) -> int:
    """A one-pod group's own bit stands for the pod and itself: no edge."""
    return bits & ~(1 << index) if size == 1 else bits


def _sources(bits: int, by_ns: dict[str, int], wide: set[str]) -> list[str]:
    """Edge tails: one per namespace whose every group is in `bits` (if it has several), and
    one per remaining group."""
    out: list[str] = []
    rest = bits
    for ns, members in sorted(by_ns.items()):
        if members.bit_count() > 1 and bits & members == members:
            out.append(_every(ns))
            wide.add(ns)
            rest &= ~members
    return out + [f"g{i}" for i in bit_indices(rest)]


def diff_dot(d: Diff, name: str = "podwall diff") -> str:
    """Changed connections only: newly allowed green, newly denied red and dashed."""
    joints: dict[int, Joint] = {}
    for change in (*d.newly_allowed, *d.newly_denied):
        for g in (*change.srcs, *change.dsts):
            joints[g.index] = g
    nodes = [
        (f"j{g.index}", g.pods[0].namespace, g.pods, _life(g)) for _, g in sorted(joints.items())
    ]
    edges = _diff_edges(d.newly_allowed, "+", 'color="darkgreen", fontcolor="darkgreen"')
    edges += _diff_edges(d.newly_denied, "-", 'color="red", fontcolor="red", style="dashed"')
    return "\n".join([*_head(name), *_boxes(nodes), *edges, "}"]) + "\n"


def _life(g: Joint) -> str:
    if g.before == ABSENT:
        return ', xlabel="new"'
    if g.after == ABSENT:
        return ', xlabel="removed", style="rounded,dotted"'
    return ""


def _diff_edges(changes: tuple[Change, ...], sign: str, attrs: str) -> list[str]:
    out = []
    for change in changes:
        label = quote(f"{sign} {_ports(change.ports)}")
        for dst in change.dsts:
            for src in change.srcs:
                if src.index == dst.index and len(dst.pods) == 1:
                    continue
                out.append(f"  j{src.index} -> j{dst.index} [label={label}, {attrs}];")
    return out

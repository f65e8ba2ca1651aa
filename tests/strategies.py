"""Hypothesis strategies for small random clusters, as raw Kubernetes objects."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from podwall.model.cluster import Cluster
from podwall.model.convert import cluster
from podwall.model.rawobject import RawObject

NAMESPACES = ("x", "y")
LABEL_KEYS = ("app", "tier")
LABEL_VALUES = ("a", "b")
PORTS = (("http", 80, "TCP"), ("alt", 81, "TCP"), ("dns", 53, "UDP"), ("sctp", 80, "SCTP"))
PROBE_PORTS = (52, 53, 79, 80, 81, 82, 443)
NODES = (None, "node-a", "node-b")
CIDRS = (
    "198.18.0.0/16",
    "198.18.0.0/24",
    "198.18.0.0/30",
    "198.18.0.4/30",
    "198.18.0.2/31",
    "0.0.0.0/0",
)
EXCEPTS = {
    "198.18.0.0/16": ("198.18.0.0/24", "198.18.0.8/29"),
    "198.18.0.0/24": ("198.18.0.2/32", "198.18.0.4/31"),
    "198.18.0.0/30": ("198.18.0.1/32",),
    "0.0.0.0/0": ("198.18.0.0/16", "198.18.0.0/29"),
}

labels = st.dictionaries(st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=1)


@st.composite
def selector(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if draw(st.booleans()):
        return out
    ml = draw(labels)
    if ml:
        out["matchLabels"] = ml
    exprs = draw(st.lists(expression(), max_size=1))
    if exprs:
        out["matchExpressions"] = exprs
    return out


@st.composite
def expression(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
    expr: dict[str, Any] = {"key": draw(st.sampled_from((*LABEL_KEYS, "ns"))), "operator": op}
    if op in ("In", "NotIn"):
        expr["values"] = draw(
            st.lists(
                st.sampled_from((*LABEL_VALUES, *NAMESPACES)), min_size=1, max_size=2, unique=True
            )
        )
    return expr


@st.composite
def peer(draw: st.DrawFn) -> dict[str, Any]:
    shape = draw(st.sampled_from(("pod", "ns", "both", "ip")))
    if shape == "ip":
        cidr = draw(st.sampled_from(CIDRS))
        block: dict[str, Any] = {"cidr": cidr}
        excepts = (
            draw(st.lists(st.sampled_from(EXCEPTS.get(cidr, ())), max_size=2, unique=True))
            if cidr in EXCEPTS
            else []
        )
        if excepts:
            block["except"] = excepts
        return {"ipBlock": block}
    out: dict[str, Any] = {}
    if shape in ("pod", "both"):
        out["podSelector"] = draw(selector())
    if shape in ("ns", "both"):
        out["namespaceSelector"] = draw(selector())
    return out


@st.composite
def port(draw: st.DrawFn) -> dict[str, Any]:
    proto = draw(st.sampled_from((None, "TCP", "UDP", "SCTP")))
    out: dict[str, Any] = {} if proto is None else {"protocol": proto}
    kind = draw(st.sampled_from(("none", "number", "range", "name")))
    if kind == "number":
        out["port"] = draw(st.sampled_from((53, 80, 81)))
    elif kind == "range":
        lo = draw(st.sampled_from((53, 79, 80)))
        out["port"] = lo
        out["endPort"] = lo + draw(st.integers(0, 2))
    elif kind == "name":
        out["port"] = draw(st.sampled_from(("http", "alt", "dns", "sctp", "nope")))
    return out


@st.composite
def rule(draw: st.DrawFn, peers_field: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    peers = draw(st.lists(peer(), max_size=2))
    if peers or draw(st.booleans()):
        out[peers_field] = peers
    ports = draw(st.lists(port(), max_size=2))
    if ports or draw(st.booleans()):
        out["ports"] = ports
    return out


@st.composite
def policy(draw: st.DrawFn, index: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": draw(selector())}
    ingress = draw(st.none() | st.lists(rule("from"), max_size=2))
    egress = draw(st.none() | st.lists(rule("to"), max_size=2))
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    types = draw(st.sampled_from((None, ["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    if types is not None:
        spec["policyTypes"] = types
    ns = draw(st.sampled_from(NAMESPACES))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"p{index}", "namespace": ns},
        "spec": spec,
    }


@st.composite
def pod(draw: st.DrawFn, index: int) -> dict[str, Any]:
    ports = draw(st.lists(st.sampled_from(PORTS), max_size=3, unique=True))
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "c",
                "ports": [{"name": n, "containerPort": p, "protocol": pr} for n, p, pr in ports],
            }
        ]
    }
    if draw(st.integers(0, 9)) == 0:
        spec["hostNetwork"] = True
    node = draw(st.sampled_from(NODES))
    if node is not None:  # ingress from a pod's own node is always allowed
        spec["nodeName"] = node
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"pod{index}",
            "namespace": draw(st.sampled_from(NAMESPACES)),
            "labels": draw(labels),
        },
        "spec": spec,
        "status": {"podIP": f"198.18.0.{index + 1}"},
    }


@st.composite
def namespace(draw: st.DrawFn, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"ns": name, **draw(labels)}},
    }


@st.composite
def objects(draw: st.DrawFn, max_pods: int = 6, max_policies: int = 4) -> list[dict[str, Any]]:
    nss = [draw(namespace(n)) for n in NAMESPACES]
    pods = [draw(pod(i)) for i in range(draw(st.integers(1, max_pods)))]
    policies = [draw(policy(i)) for i in range(draw(st.integers(0, max_policies)))]
    return [*nss, *pods, *policies]


REVIEWED_KINDS = frozenset({"NetworkPolicy", "ClusterNetworkPolicy"})


@st.composite
def reviewed(
    draw: st.DrawFn, world: st.SearchStrategy[list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A snapshot drawn from `world` and a review of it: some policies dropped, some added,
    and now and then a pod dropped, relabelled or added."""
    before = draw(world)
    kept = [o for o in before if o["kind"] not in REVIEWED_KINDS or draw(st.booleans())]
    added = [draw(policy(90 + i)) for i in range(draw(st.integers(0, 2)))]
    pods = [i for i, o in enumerate(kept) if o["kind"] == "Pod"]
    change = draw(st.sampled_from(("none", "none", "drop", "relabel", "add")))
    if change == "drop" and len(pods) > 1:
        del kept[draw(st.sampled_from(pods))]
    elif change == "relabel" and pods:
        i = draw(st.sampled_from(pods))
        kept[i] = {**kept[i], "metadata": {**kept[i]["metadata"], "labels": draw(labels)}}
    elif change == "add":
        added.append(draw(pod(50)))
    return before, [*kept, *added]


def to_cluster(objs: list[dict[str, Any]]) -> Cluster:
    return cluster(RawObject(body=o) for o in objs).cluster

"""Names of the sandbox's network namespaces and links, derived from cluster id, node and pod key.

Namespace names are file names under /var/run/netns and link names are at most 15 bytes
(IFNAMSIZ - 1), so every name here is short, deterministic and made of [a-z0-9-] only. Everything
podwall creates on a host starts with `PREFIX`, which is how `podwall down --force` finds it.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "pw-"
POD_IFNAME = "eth0"
IFNAME_MAX = 15

_CLUSTER_ID = re.compile(r"[a-z0-9]{1,8}")
_NODE = re.compile(r"[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?")
# A pod namespace is `p` plus this many hex digits: 32 bits keep collisions among the few
# hundred pods of a sandbox unlikely, and `NodeSandbox` still refuses one if it happens.
_POD_ID_HEX = 8
_POD_ID = re.compile(rf"p[0-9a-f]{{{_POD_ID_HEX}}}")
FABRIC = "fabric"  # the namespace of the underlay between a cluster's nodes


def random_cluster_id() -> str:
    """A fresh cluster id: 4 hex digits, so names stay short and two sandboxes rarely clash."""
    return secrets.token_hex(2)


def check_cluster_id(cluster_id: str) -> str:
    if _CLUSTER_ID.fullmatch(cluster_id) is None:
        raise ValueError(f"cluster id {cluster_id!r} must be 1 to 8 characters of [a-z0-9]")
    return cluster_id


def check_node(node: str) -> str:
    # A node named like a pod id, or `fabric`, would share its namespace name with that pod or
    # with the underlay.
    if _NODE.fullmatch(node) is None or _POD_ID.fullmatch(node) is not None or node == FABRIC:
        raise ValueError(
            f"node name {node!r} must be 1 to 16 characters of [a-z0-9-], "
            "start and end with a letter or digit, not look like a pod id (p + 8 hex digits) "
            f"and not be {FABRIC!r}"
        )
    return node


def cluster_prefix(cluster_id: str) -> str:
    """The prefix every namespace of this cluster starts with (the dash keeps `a1` from `a1b2`)."""
    return f"{PREFIX}{check_cluster_id(cluster_id)}-"


def node_netns(cluster_id: str, node: str) -> str:
    return f"{cluster_prefix(cluster_id)}{check_node(node)}"


def fabric_netns(cluster_id: str) -> str:
    return f"{cluster_prefix(cluster_id)}{FABRIC}"


def pod_id(cluster_id: str, key: str) -> str:
    """A short id for pod `key` ("namespace/name"), stable for the same cluster id and key."""
    digest = hashlib.sha256(f"{cluster_id}\0{key}".encode()).hexdigest()
    return f"p{digest[:_POD_ID_HEX]}"


def pod_netns(cluster_id: str, key: str) -> str:
    return f"{cluster_prefix(cluster_id)}{pod_id(cluster_id, key)}"


def pod_host_ifname(cluster_id: str, key: str) -> str:
    """The node-side veth of pod `key`: `pw` plus the pod's hex id, 10 characters."""
    name = f"pw{pod_id(cluster_id, key)[1:]}"
    assert len(name) <= IFNAME_MAX
    return name

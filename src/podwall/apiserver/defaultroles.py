"""The roles and bindings a cluster starts with: kube-apiserver's bootstrap policy, for the
kinds podwall serves.

`cluster-admin` for `system:masters` (the admin kubeconfig); `system:discovery`,
`system:basic-user` and `system:public-info-viewer` for every authenticated user (discovery,
version, health, and asking what one may do); the user-facing `admin`, `edit` and `view`,
aggregated as upstream's are (each selects the `rbac.authorization.k8s.io/aggregate-to-*`
labels; `system:aggregate-to-admin|edit|view` carry the rules, `view` is aggregated into `edit`
and `edit` into `admin`, so a user's role labelled aggregate-to-view adds to all three; the
clusterrole-aggregation controller keeps them current, and they start out filled in, as that
controller would leave them); `system:node` for the nodes'
kubelets, and `system:podwall-node` for what each node's podwall agent reads, both bound to
`system:nodes`. Data only: `bootstrap` writes them.
"""

from __future__ import annotations

from typing import Any

from podwall.apiserver.resources import RBAC_GROUP
from podwall.apiserver.userinfo import AUTHENTICATED, MASTERS, NODES, UNAUTHENTICATED
from podwall.controllers.clusterroleaggregation import aggregated_rules

Obj = dict[str, Any]
READ = ["get", "list", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_ANNOTATIONS = {"rbac.authorization.kubernetes.io/autoupdate": "true"}


def rule(verbs: list[str], groups: list[str], resources: list[str]) -> Obj:
    return {"verbs": verbs, "apiGroups": groups, "resources": resources}


def url_rule(verbs: list[str], urls: list[str]) -> Obj:
    return {"verbs": verbs, "nonResourceURLs": urls}


def _meta(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {"name": name, "labels": {**(labels or {}), **_LABELS},
            "annotations": dict(_ANNOTATIONS)}  # fmt: skip


def cluster_role(name: str, rules: list[Obj], labels: dict[str, str] | None = None) -> Obj:
    return {"apiVersion": f"{RBAC_GROUP}/v1", "kind": "ClusterRole",
            "metadata": _meta(name, labels), "rules": rules}  # fmt: skip


def aggregate_to(level: str) -> dict[str, str]:
    """The label that puts a ClusterRole's rules into `admin`, `edit` or `view`."""
    return {f"{RBAC_GROUP}/aggregate-to-{level}": "true"}


def aggregated_role(name: str, labels: dict[str, str] | None = None) -> Obj:
    """A ClusterRole whose rules are those of the roles labelled aggregate-to-`name`."""
    role = cluster_role(name, [], labels)
    role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate_to(name)}]}
    return role


def group_binding(name: str, role: str, *groups: str) -> Obj:
    return {
        "apiVersion": f"{RBAC_GROUP}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": _meta(name),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
    }


_WORKLOADS = ["deployments", "deployments/scale", "replicasets", "replicasets/scale",
              "daemonsets", "statefulsets", "statefulsets/scale"]  # fmt: skip
_CORE_READ = ["pods", "pods/log", "pods/status", "services", "services/status", "endpoints",
              "configmaps", "events", "serviceaccounts", "namespaces", "namespaces/status",
              "replicationcontrollers", "replicationcontrollers/scale",
              "replicationcontrollers/status"]  # fmt: skip
_VIEW = [
    rule(READ, [""], _CORE_READ),
    rule(READ, ["apps"], [*_WORKLOADS, "deployments/status", "replicasets/status",
                          "daemonsets/status", "statefulsets/status", "controllerrevisions"]),
    rule(READ, ["batch"], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
    rule(READ, ["networking.k8s.io"], ["networkpolicies"]),
    rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
]  # fmt: skip
_EDIT = [
    rule(["create", "get"], [""], ["pods/attach", "pods/exec", "pods/portforward"]),
    rule(["get", "patch", "update"], [""], ["pods/ephemeralcontainers"]),
    rule(
        WRITE,
        [""],
        [
            "pods",
            "services",
            "endpoints",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "replicationcontrollers",
            "replicationcontrollers/scale",
        ],
    ),
    rule(READ, [""], ["secrets"]),  # edit reads Secrets; view does not
    rule(["create"], [""], ["serviceaccounts/token"]),
    rule(WRITE, ["apps"], _WORKLOADS),
    rule(WRITE, ["batch"], ["cronjobs", "jobs"]),
    rule(WRITE, ["networking.k8s.io"], ["networkpolicies"]),
    rule(WRITE, ["discovery.k8s.io"], ["endpointslices"]),
    rule([*READ, *WRITE], ["coordination.k8s.io"], ["leases"]),
]
_ADMIN = [
    rule([*READ, *WRITE], [RBAC_GROUP], ["roles", "rolebindings"]),
    rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
]
_NODE = [
    rule(READ, [""], ["services"]),
    rule(["create", "get", "list", "watch", "update", "patch"], [""], ["nodes"]),
    rule(["update", "patch"], [""], ["nodes/status"]),
    rule(["create", "update", "patch"], [""], ["events"]),
    rule([*READ, "create", "delete"], [""], ["pods"]),
    rule(["update", "patch"], [""], ["pods/status"]),
    rule(["get"], [""], ["configmaps", "endpoints", "secrets"]),  # env of its pods
    rule(["get", "create", "update", "patch", "delete"], ["coordination.k8s.io"], ["leases"]),
    rule(["create"], [""], ["serviceaccounts/token"]),
]
# deploy/10-rbac.yaml's podwall-agent ClusterRole, for the agents `podwall up` runs as nodes.
_PODWALL_NODE = [
    rule(["list", "watch"], [""], ["namespaces", "pods", "nodes"]),
    rule(["list", "watch"], ["networking.k8s.io"], ["networkpolicies"]),
    rule(
        ["list", "watch"],
        ["policy.networking.k8s.io"],
        ["clusternetworkpolicies", "adminnetworkpolicies", "baselineadminnetworkpolicies"],
    ),
]
# kube-proxy's role: `podwall up`'s node agents DNAT Services (`--service-dnat`), the
# `kubernetes` Service to its EndpointSlice's address.
_NODE_PROXIER = [
    rule(["list", "watch"], [""], ["endpoints", "services"]),
    rule(["get", "list", "watch"], [""], ["nodes"]),
    rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
    rule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]),
]
DISCOVERY_URLS = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                  "/openapi/*", "/readyz", "/version", "/version/"]  # fmt: skip
PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]


def _user_facing() -> list[Obj]:
    roles = [
        aggregated_role("admin"),
        aggregated_role("edit", aggregate_to("admin")),
        aggregated_role("view", aggregate_to("edit")),
        cluster_role("system:aggregate-to-admin", _ADMIN, aggregate_to("admin")),
        cluster_role("system:aggregate-to-edit", _EDIT, aggregate_to("edit")),
        cluster_role("system:aggregate-to-view", _VIEW, aggregate_to("view")),
    ]
    for role in reversed(roles[:3]):  # view first: edit aggregates it, admin aggregates edit
        role["rules"] = aggregated_rules(role, roles)
    return roles


_USER_FACING = _user_facing()

CLUSTER_ROLES: tuple[Obj, ...] = (
    cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), url_rule(["*"], ["*"])]),
    cluster_role("system:discovery", [url_rule(["get"], DISCOVERY_URLS)]),
    cluster_role("system:public-info-viewer", [url_rule(["get"], PUBLIC_INFO_URLS)]),
    cluster_role("system:basic-user", [
        rule(["create"], ["authorization.k8s.io"],
             ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
        rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ]),
    *_USER_FACING,
    cluster_role("system:node", _NODE),
    cluster_role("system:podwall-node", _PODWALL_NODE),
    cluster_role("system:node-proxier", _NODE_PROXIER),
)  # fmt: skip

CLUSTER_ROLE_BINDINGS: tuple[Obj, ...] = (
    group_binding("cluster-admin", "cluster-admin", MASTERS),
    group_binding("system:discovery", "system:discovery", AUTHENTICATED),
    group_binding("system:basic-user", "system:basic-user", AUTHENTICATED),
    group_binding("system:public-info-viewer", "system:public-info-viewer", AUTHENTICATED,
                  UNAUTHENTICATED),
    group_binding("system:node", "system:node", NODES),
    group_binding("system:podwall-node", "system:podwall-node", NODES),
    group_binding("system:podwall-node-proxier", "system:node-proxier", NODES),
)  # fmt: skip

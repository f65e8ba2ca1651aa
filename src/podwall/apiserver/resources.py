"""The resource table of kubectl-api.md §3.4: every kind the API server serves.

Order matters: `kubectl get all` walks the `all` category in discovery order, so pods come before
services and deployments before replicasets (the tutorial's section order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

RBAC_GROUP = "rbac.authorization.k8s.io"
AUTHN_GROUP = "authentication.k8s.io"
AUTHZ_GROUP = "authorization.k8s.io"
VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
READ_ONLY = ("get", "list", "watch")


@dataclass(frozen=True, slots=True)
class Subresource:
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None  # the response kind's group and version when they differ
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    name: str  # plural, as in URLs
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    verbs: tuple[str, ...] = VERBS
    custom: bool = False  # a custom resource: defined by a CRD (`crds`), not built in
    # Derived once (a request reads `key` a score of times): the store's name for the
    # resource (`pods`, `deployments.apps`), and `v1`, `apps/v1`.
    key: str = field(init=False, repr=False, compare=False)
    group_version: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        key = f"{self.name}.{self.group}" if self.group else self.name
        object.__setattr__(self, "key", key)
        gv = f"{self.group}/{self.version}" if self.group else self.version
        object.__setattr__(self, "group_version", gv)

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)


_STATUS = Subresource("status", "", ("get", "patch", "update"))


def _status(kind: str) -> Subresource:
    return Subresource("status", kind, _STATUS.verbs)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", ("get", "patch", "update"), "autoscaling", "v1")


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "", "v1", "pods", "pod", "Pod", True, ("po",), ("all",),
        (
            Subresource("attach", "PodAttachOptions", ("create", "get")),
            Subresource("ephemeralcontainers", "Pod", ("get", "patch", "update")),
            Subresource("exec", "PodExecOptions", ("create", "get")),
            Subresource("log", "Pod", ("get",)),
            Subresource("portforward", "PodPortForwardOptions", ("create", "get")),
            _status("Pod"),
        ),
    ),
    # After pods and before services, as upstream's discovery lists core/v1 alphabetically:
    # `kubectl get all` prints replicationcontrollers between the two.
    Resource("", "v1", "replicationcontrollers", "replicationcontroller",
             "ReplicationController", True, ("rc",), ("all",),
             (_scale(), _status("ReplicationController"))),
    Resource("", "v1", "services", "service", "Service", True, ("svc",), ("all",),
             (_status("Service"),)),
    Resource("", "v1", "endpoints", "endpoints", "Endpoints", True, ("ep",)),
    Resource("", "v1", "events", "event", "Event", True, ("ev",)),
    Resource("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "secrets", "secret", "Secret", True),
    Resource("", "v1", "namespaces", "namespace", "Namespace", False, ("ns",), (),
             (_status("Namespace"),),
             ("create", "delete", "get", "list", "patch", "update", "watch")),
    # Listed, never stored: kinds `kubectl apply --prune` looks for by default (with Jobs,
    # CronJobs, ReplicationControllers and the apps kinds), so that it finds there are none
    # instead of failing.
    Resource("", "v1", "persistentvolumeclaims", "persistentvolumeclaim",
             "PersistentVolumeClaim", True, ("pvc",), (), (), READ_ONLY),
    Resource("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", False,
             ("pv",), (), (), READ_ONLY),
    # apps/v1 in upstream's discovery order; `kubectl get all` prints statefulsets last.
    Resource("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision",
             True),
    Resource("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ("ds",), ("all",),
             (_status("DaemonSet"),)),
    Resource("apps", "v1", "deployments", "deployment", "Deployment", True, ("deploy",),
             ("all",), (_scale(), _status("Deployment"))),
    Resource("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, ("rs",), ("all",),
             (_scale(), _status("ReplicaSet"))),
    Resource("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, ("sts",),
             ("all",), (_scale(), _status("StatefulSet"))),
    # batch/v1 comes after apps/v1 and before networking.k8s.io, as in upstream's discovery,
    # so `kubectl get all` prints cronjobs, then jobs, after the apps kinds.
    Resource("batch", "v1", "cronjobs", "cronjob", "CronJob", True, ("cj",), ("all",),
             (_status("CronJob"),)),
    Resource("batch", "v1", "jobs", "job", "Job", True, (), ("all",), (_status("Job"),)),
    Resource("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", True, ("ing",), (),
             (), READ_ONLY),
    Resource("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy",
             True, ("netpol",)),
    Resource("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice",
             True),
    # What node agents read and write: the nodes, and a Lease per node agent (`podwall status`).
    Resource("", "v1", "nodes", "node", "Node", False, ("no",), (), (_status("Node"),)),
    Resource("coordination.k8s.io", "v1", "leases", "lease", "Lease", True),
    # Who is who and who may do what (serviceaccounttokens, authentication, rbac, reviews).
    Resource("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ("sa",), (),
             (Subresource("token", "TokenRequest", ("create",), "authentication.k8s.io", "v1"),)),
    Resource(RBAC_GROUP, "v1", "clusterrolebindings", "clusterrolebinding",
             "ClusterRoleBinding", False),
    Resource(RBAC_GROUP, "v1", "clusterroles", "clusterrole", "ClusterRole", False),
    Resource(RBAC_GROUP, "v1", "rolebindings", "rolebinding", "RoleBinding", True),
    Resource(RBAC_GROUP, "v1", "roles", "role", "Role", True),
    # Reviews: created and answered, never stored (reviews.py).
    Resource(AUTHN_GROUP, "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview",
             False, verbs=("create",)),
    Resource(AUTHN_GROUP, "v1", "tokenreviews", "tokenreview", "TokenReview", False,
             verbs=("create",)),
    # kubectl 1.27's `auth whoami` asks v1beta1; kube-apiserver 1.32 still serves it (1.33
    # removed it). After v1 so that v1 stays the group's preferred version.
    Resource(AUTHN_GROUP, "v1beta1", "selfsubjectreviews", "selfsubjectreview",
             "SelfSubjectReview", False, verbs=("create",)),
    Resource(AUTHZ_GROUP, "v1", "localsubjectaccessreviews", "localsubjectaccessreview",
             "LocalSubjectAccessReview", True, verbs=("create",)),
    Resource(AUTHZ_GROUP, "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
             "SelfSubjectAccessReview", False, verbs=("create",)),
    Resource(AUTHZ_GROUP, "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
             "SelfSubjectRulesReview", False, verbs=("create",)),
    Resource(AUTHZ_GROUP, "v1", "subjectaccessreviews", "subjectaccessreview",
             "SubjectAccessReview", False, verbs=("create",)),
    # The CRDs podwall serves built in (`crds`), read-only: a cluster with them installed
    # lists them, and scripts wait for them to be Established.
    Resource("apiextensions.k8s.io", "v1", "customresourcedefinitions",
             "customresourcedefinition", "CustomResourceDefinition", False, ("crd", "crds"),
             (), (), READ_ONLY),
    # Served as if its CRD (network-policy-api v0.2.0, `crds`) were installed: after the
    # built-in groups, as the apiextensions server comes after them in discovery.
    Resource("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies",
             "clusternetworkpolicy", "ClusterNetworkPolicy", False, ("cnp",), (),
             (_status("ClusterNetworkPolicy"),), custom=True),
    # Its predecessors (v0.1.7's CRDs), in the same group: v1alpha2 first, the preferred
    # version, as kube-apiserver ranks versions.
    Resource("policy.networking.k8s.io", "v1alpha1", "adminnetworkpolicies",
             "adminnetworkpolicy", "AdminNetworkPolicy", False, ("anp",), (),
             (_status("AdminNetworkPolicy"),), custom=True),
    Resource("policy.networking.k8s.io", "v1alpha1", "baselineadminnetworkpolicies",
             "baselineadminnetworkpolicy", "BaselineAdminNetworkPolicy", False, ("banp",), (),
             (_status("BaselineAdminNetworkPolicy"),), custom=True),
)  # fmt: skip

REVIEWS = frozenset(
    f"{name}.{group}"
    for group, names in (
        (AUTHN_GROUP, ("selfsubjectreviews", "tokenreviews")),
        (AUTHZ_GROUP, ("localsubjectaccessreviews", "selfsubjectaccessreviews",
                       "selfsubjectrulesreviews", "subjectaccessreviews")),
    )
    for name in names
)  # fmt: skip
"""The store keys of the kinds that are answered, never stored."""

GROUP_VERSIONS: tuple[tuple[str, str], ...] = tuple(
    dict.fromkeys((r.group, r.version) for r in RESOURCES)
)
_BY_PATH = {(r.group, r.version, r.name): r for r in RESOURCES}
# A key names the kind's first (preferred) version: v1 SelfSubjectReview, not v1beta1.
_BY_KEY = {r.key: r for r in reversed(RESOURCES)}
_BY_KIND = {(r.group, r.kind): r for r in reversed(RESOURCES)}


def lookup(group: str, version: str, name: str) -> Resource | None:
    return _BY_PATH.get((group, version, name))


def by_key(key: str) -> Resource:
    return _BY_KEY[key]


def by_kind(api_version: str, kind: str) -> Resource | None:
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    return _BY_KIND.get((group, kind))


def in_group_version(group: str, version: str) -> list[Resource]:
    return [r for r in RESOURCES if (r.group, r.version) == (group, version)]


NAMESPACES = by_key("namespaces")

"""List a cluster's Namespaces, Pods, Services, workloads, NetworkPolicies and
ClusterNetworkPolicies, AdminNetworkPolicies and the BaselineAdminNetworkPolicy (with the Nodes
their `nodes` peers select), page by page.

Uses the official `kubernetes` client, as the node agent does, with the kubeconfig and context
given. Objects become plain API dicts (`sanitize_for_serialization`) and go through the same
validation and conversion as manifests read from files. On a large cluster a progress line
goes to `progress` about once a second. Errors are `LoadError`s naming the cluster and kind;
a kind the cluster does not serve (404) is read as none: the cluster policy kinds exist only where
their CRDs are installed. Nodes are read only when there are cluster policies (for their
`nodes` peers): many users may list pods but not nodes, and without the tiers nothing needs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from podwall.live import connect
from podwall.manifests.reader import Loaded, LoadError
from podwall.model.rawobject import RawObject
from podwall.model.source import Source

REQUEST_TIMEOUT = 30.0  # seconds per page
PAGE = 500  # objects per list call, as kubectl's chunk size
PROGRESS_EVERY = 1.0  # seconds between progress lines
PROGRESS_AFTER = PAGE  # objects read before the first: a small cluster reads silently

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Kind:
    api_version: str
    kind: str
    plural: str
    api: str  # the client class
    method: str  # its list-for-all-namespaces method
    args: tuple[str, ...] = ()  # a custom resource's group, version and plural
    needs: tuple[str, ...] = ()  # read only when one of these kinds (plurals) had objects


CLUSTER_NETWORK_POLICIES = Kind(
    "policy.networking.k8s.io/v1alpha2",
    "ClusterNetworkPolicy",
    "clusternetworkpolicies",
    "CustomObjectsApi",
    "list_cluster_custom_object",
    ("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies"),
)
# Their predecessors (network-policy-api v0.1), which most implementations still serve.
V1ALPHA1_POLICIES = tuple(
    Kind(
        "policy.networking.k8s.io/v1alpha1",
        kind,
        plural,
        "CustomObjectsApi",
        "list_cluster_custom_object",
        ("policy.networking.k8s.io", "v1alpha1", plural),
    )
    for kind, plural in (
        ("AdminNetworkPolicy", "adminnetworkpolicies"),
        ("BaselineAdminNetworkPolicy", "baselineadminnetworkpolicies"),
    )
)
_POLICY_PLURALS = (CLUSTER_NETWORK_POLICIES.plural, *(k.plural for k in V1ALPHA1_POLICIES))


KINDS: tuple[Kind, ...] = (
    Kind("v1", "Namespace", "namespaces", "CoreV1Api", "list_namespace"),
    Kind("v1", "Pod", "pods", "CoreV1Api", "list_pod_for_all_namespaces"),
    Kind("v1", "Service", "services", "CoreV1Api", "list_service_for_all_namespaces"),
    Kind("apps/v1", "Deployment", "deployments", "AppsV1Api", "list_deployment_for_all_namespaces"),
    Kind(
        "apps/v1", "ReplicaSet", "replicasets", "AppsV1Api", "list_replica_set_for_all_namespaces"
    ),
    Kind(
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        "CoreV1Api",
        "list_replication_controller_for_all_namespaces",
    ),
    Kind(
        "apps/v1",
        "StatefulSet",
        "statefulsets",
        "AppsV1Api",
        "list_stateful_set_for_all_namespaces",
    ),
    Kind("apps/v1", "DaemonSet", "daemonsets", "AppsV1Api", "list_daemon_set_for_all_namespaces"),
    Kind("batch/v1", "Job", "jobs", "BatchV1Api", "list_job_for_all_namespaces"),
    Kind("batch/v1", "CronJob", "cronjobs", "BatchV1Api", "list_cron_job_for_all_namespaces"),
    Kind(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        "NetworkingV1Api",
        "list_network_policy_for_all_namespaces",
    ),
    CLUSTER_NETWORK_POLICIES,
    *V1ALPHA1_POLICIES,
    Kind("v1", "Node", "nodes", "CoreV1Api", "list_node", needs=_POLICY_PLURALS),
)


def read_cluster(
    kubeconfig: Path | None, context: str | None, progress: Progress | None = None
) -> Loaded:
    """Every object of `KINDS`; raises LoadError (unreadable kubeconfig, unreachable cluster)."""
    configuration, name = _configuration(kubeconfig, context)
    loaded = Loaded()
    started = last = time.monotonic()
    counts: dict[str, int] = {}
    total = 0
    api: Any = client.ApiClient(configuration=configuration)
    try:
        for kind in KINDS:
            if kind.needs and not any(counts.get(n) for n in kind.needs):
                continue
            for body in pages(api, kind, name):
                loaded.objects.append(RawObject(body=body, source=Source(file=name)))
                counts[kind.plural] = counts.get(kind.plural, 0) + 1
                total += 1
                now = time.monotonic()
                if progress and total >= PROGRESS_AFTER and now - last >= PROGRESS_EVERY:
                    progress(f"reading {name}: {_counted(counts)}")
                    last = now
    finally:
        api.close()
    if progress is not None and last > started:
        progress(f"read {name}: {_counted(counts)} in {time.monotonic() - started:.1f} s")
    return loaded


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {plural}" for plural, n in counts.items())


def pages(api: Any, kind: Kind, name: str, timeout: float = REQUEST_TIMEOUT) -> Any:
    """Every object of `kind` in the cluster `name` (for errors), listed a page at a time, as a
    plain API dict with its apiVersion and kind; LoadError when the listing fails."""
    lister = getattr(getattr(client, kind.api)(api), kind.method)
    token: str | None = None
    while True:
        try:
            answer = lister(*kind.args, limit=PAGE, _continue=token, _request_timeout=timeout)
        except client.ApiException as exc:
            if exc.status == 404 and token is None:
                return  # the cluster does not serve this kind: it has none of it
            raise LoadError(f"{name}: listing {kind.plural}: {exc.status} {exc.reason}") from exc
        except Exception as exc:  # urllib3's connection errors and timeouts
            raise LoadError(f"{name}: cannot reach the cluster: {connect.reason(exc)}") from exc
        if isinstance(answer, dict):  # a custom resource's list: plain JSON
            items, token = answer.get("items") or [], (answer.get("metadata") or {}).get("continue")
        else:
            items, token = answer.items, getattr(answer.metadata, "_continue", None)
        for item in items:
            body: dict[str, Any] = api.sanitize_for_serialization(item)
            body["apiVersion"] = body.get("apiVersion") or kind.api_version
            body["kind"] = kind.kind  # list items come without their kind
            yield body
        if not token:
            return


def _configuration(kubeconfig: Path | None, context: str | None) -> tuple[Any, str]:
    try:
        configuration, _ = connect.configure(connect.Target(kubeconfig, context))
    except connect.ConfigError as exc:
        raise LoadError(str(exc)) from exc
    return configuration, f"cluster {context or configuration.host}"

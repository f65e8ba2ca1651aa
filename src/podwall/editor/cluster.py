"""`ClusterSource`: the objects of a running cluster, read with the official `kubernetes` client.

Attached to `podwall up` (or any cluster a kubeconfig names), the editor reads namespaces, pods,
services, workloads, NetworkPolicies and ClusterNetworkPolicies (none where their CRD is not
installed; with them, the nodes their `nodes` peers select) on every load, so what it shows is
what the cluster holds now. Objects are converted to plain API dicts
(`sanitize_for_serialization`) and go through the same `podwall.model.convert` as manifests
read from files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from podwall.editor.errors import EditorError
from podwall.manifests.reader import Loaded, LoadError
from podwall.model.convert import RawObject
from podwall.model.source import Source as Origin

REQUEST_TIMEOUT = 10.0  # seconds, per list call


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind the editor reads: how to list it across namespaces."""

    api_version: str
    kind: str
    list_all: Callable[[Any], Callable[..., Any]]  # ApiClient -> the list method
    optional: bool = False  # defined by a CRD: a 404 means none
    needs: str | None = None  # listed only when this kind had objects


def _cluster_policies(api: Any) -> Callable[..., Any]:
    custom = client.CustomObjectsApi(api)

    def list_all(**kwargs: Any) -> Any:
        return custom.list_cluster_custom_object(
            "policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies", **kwargs
        )

    return list_all


KINDS: tuple[Kind, ...] = (
    Kind("v1", "Namespace", lambda c: client.CoreV1Api(c).list_namespace),
    Kind("v1", "Pod", lambda c: client.CoreV1Api(c).list_pod_for_all_namespaces),
    Kind("v1", "Service", lambda c: client.CoreV1Api(c).list_service_for_all_namespaces),
    Kind("apps/v1", "Deployment", lambda c: client.AppsV1Api(c).list_deployment_for_all_namespaces),
    Kind(
        "apps/v1", "ReplicaSet", lambda c: client.AppsV1Api(c).list_replica_set_for_all_namespaces
    ),
    Kind(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        lambda c: client.NetworkingV1Api(c).list_network_policy_for_all_namespaces,
    ),
    Kind(
        "policy.networking.k8s.io/v1alpha2", "ClusterNetworkPolicy", _cluster_policies,
        optional=True,
    ),
    Kind("v1", "Node", lambda c: client.CoreV1Api(c).list_node, needs="ClusterNetworkPolicy"),
)  # fmt: skip


class ClusterError(EditorError):
    """The kubeconfig cannot be read, or the cluster cannot be reached; says which."""


class ClusterSource:
    """A live cluster as a `Source`: listed anew on every `load()`."""

    def __init__(self, kubeconfig: Path | str, context: str | None = None) -> None:
        self.kubeconfig = Path(kubeconfig)
        self.context = context
        self.configuration = _configuration(self.kubeconfig, context)
        self.server = str(self.configuration.host)
        self.name = f"cluster {self.server}"

    @contextmanager
    def api_client(self) -> Iterator[Any]:
        """A fresh `ApiClient`, closed after use (the client is not safe to share for exec)."""
        api: Any = client.ApiClient(configuration=self.configuration)
        try:
            yield api
        finally:
            api.close()

    def describe(self) -> list[str]:
        return [f"{self.name} (kubeconfig {self.kubeconfig})"]

    def load(self) -> Loaded:
        loaded = Loaded(texts={self.name: ""})
        with self.api_client() as api:
            for kind in KINDS:
                if kind.needs and not any(o.kind == kind.needs for o in loaded.objects):
                    continue
                loaded.objects += self._list(api, kind)
        return loaded

    def _list(self, api: Any, kind: Kind) -> list[RawObject]:
        try:
            answer = kind.list_all(api)(_request_timeout=REQUEST_TIMEOUT)
        except client.ApiException as exc:
            if exc.status == 404 and kind.optional:
                return []  # the CRD is not installed: none of them
            raise LoadError(
                f"{self.name}: listing {kind.kind}s: {exc.status} {exc.reason}"
            ) from exc
        except Exception as exc:  # urllib3's connection errors and timeouts
            raise LoadError(f"{self.name}: cannot reach the cluster: {_reason(exc)}") from exc
        out = []
        items = answer.get("items") or [] if isinstance(answer, dict) else answer.items
        for item in items:
            body = api.sanitize_for_serialization(item)
            body["apiVersion"] = body.get("apiVersion") or kind.api_version
            body["kind"] = kind.kind  # list items may come without their kind
            out.append(RawObject(body=body, source=Origin(file=self.name)))
        return out


def _configuration(path: Path, context: str | None) -> Any:
    if not path.is_file():
        raise ClusterError(f"{path}: no kubeconfig there (is `podwall up` running?)")
    configuration = client.Configuration()
    load: Any = config.load_kube_config  # untyped
    try:
        load(
            config_file=str(path),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    except (ConfigException, OSError, ValueError) as exc:
        raise ClusterError(f"{path}: cannot use this kubeconfig: {exc}") from exc
    return configuration


def _reason(exc: Exception) -> str:
    """The innermost reason of a urllib3 error (`Connection refused`), not its whole repr."""
    reason = getattr(exc, "reason", None)
    while reason is not None and getattr(reason, "reason", None) is not None:
        reason = reason.reason
    text = str(reason or exc)
    return text.rsplit(": ", 1)[-1] if "Errno" in text else text

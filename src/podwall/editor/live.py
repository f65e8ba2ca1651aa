"""What the editor does to a live cluster, with the official client: apply a policy, exec.

`apply_policy` creates or replaces a NetworkPolicy (or a ClusterNetworkPolicy) as `kubectl
apply` would be seen to (`created`, `configured`, `unchanged`); a refusal is the API server's
Status, with its field causes as editor errors so the page shows them at the field. `run`
executes a command in a pod over the API server's exec WebSocket (`kubernetes.stream`), like
`kubectl exec POD -- CMD`. Every call here blocks: the API runs them in threads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from kubernetes import client
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL

from podwall.editor.cluster import REQUEST_TIMEOUT, ClusterSource
from podwall.editor.errors import EditorError
from podwall.editor.form import JSON
from podwall.model.clusterpolicy import KIND as CNP_KIND

CNP_RESOURCE = ("policy.networking.k8s.io", "v1alpha2", "clusternetworkpolicies")

EXEC_TIMEOUT = 30.0  # seconds for a whole command; curl's own timeout is shorter
COMPARED = ("spec",)  # what decides `unchanged` (labels and annotations too, below)


class Refused(EditorError):
    """The API server said no; `status` is its Status (code, reason, message, causes)."""

    def __init__(self, status: JSON) -> None:
        super().__init__(str(status.get("message") or status.get("reason")))
        self.status = status

    def errors(self) -> list[JSON]:
        """The field causes as the editor's errors (`path`, `message`), for the page."""
        details = self.status.get("details") or {}
        return [
            {"path": c.get("field") or "", "message": c.get("message") or "", "line": None}
            for c in details.get("causes") or ()
            if isinstance(c, Mapping)
        ]


def status_of(exc: Exception) -> JSON:
    """The Status an `ApiException` carries, or one made from what is known."""
    status = getattr(exc, "status", 0) or 0
    reason = str(getattr(exc, "reason", "") or exc)
    body = getattr(exc, "body", None)
    if body:
        try:
            decoded = json.loads(body)
        except (TypeError, ValueError):
            decoded = None
        if isinstance(decoded, dict) and decoded.get("kind") == "Status":
            return {**decoded, "code": decoded.get("code") or status}
    message = f"{status} {reason}" if status else reason
    return {"kind": "Status", "status": "Failure", "code": status, "message": message}


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    action: str  # created | configured | unchanged
    key: str
    resource_version: str

    def to_json(self) -> JSON:
        return {"action": self.action, "key": self.key, "resourceVersion": self.resource_version}


def apply_policy(source: ClusterSource, body: Mapping[str, Any]) -> Applied:
    """Create the NetworkPolicy (or ClusterNetworkPolicy), or replace the one of that name;
    raises `Refused`."""
    if body.get("kind") == CNP_KIND:
        return _apply_cluster_policy(source, body)
    meta = body.get("metadata") or {}
    name = str(meta.get("name") or "")
    namespace = str(meta.get("namespace") or "default")
    wanted = _plain(body, namespace)
    with source.api_client() as api:
        net: Any = client.NetworkingV1Api(api)  # takes the draft as a dict, as sent
        try:
            current = _read(api, net, name, namespace) if name else None
            if current is None:
                made = net.create_namespaced_network_policy(
                    namespace, wanted, _request_timeout=REQUEST_TIMEOUT
                )
                return _applied(api, "created", made)
            if _same(current, wanted):
                return _applied(api, "unchanged", current)
            wanted["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
            done = net.replace_namespaced_network_policy(
                name, namespace, wanted, _request_timeout=REQUEST_TIMEOUT
            )
            return _applied(api, "configured", done)
        except client.ApiException as exc:
            raise Refused(status_of(exc)) from exc
        except Exception as exc:  # connection errors
            raise Refused(status_of(exc)) from exc


def _apply_cluster_policy(source: ClusterSource, body: Mapping[str, Any]) -> Applied:
    """The same for a ClusterNetworkPolicy, a custom resource: cluster-scoped, no defaults."""
    name = str((body.get("metadata") or {}).get("name") or "")
    wanted: dict[str, Any] = json.loads(json.dumps(body))
    wanted.pop("status", None)
    (wanted.get("metadata") or {}).pop("namespace", None)
    with source.api_client() as api:
        custom: Any = client.CustomObjectsApi(api)
        try:
            current = _read_cluster_policy(custom, name) if name else None
            if current is None:
                made = custom.create_cluster_custom_object(
                    *CNP_RESOURCE, wanted, _request_timeout=REQUEST_TIMEOUT
                )
                return _applied(api, "created", made)
            have, want = current.get("metadata") or {}, wanted.get("metadata") or {}
            same_meta = all(
                (have.get(f) or {}) == (want.get(f) or {}) for f in ("labels", "annotations")
            )
            if same_meta and _prune(current.get("spec")) == _prune(wanted.get("spec")):
                return _applied(api, "unchanged", current)
            wanted["metadata"]["resourceVersion"] = have.get("resourceVersion")
            done = custom.replace_cluster_custom_object(
                *CNP_RESOURCE, name, wanted, _request_timeout=REQUEST_TIMEOUT
            )
            return _applied(api, "configured", done)
        except client.ApiException as exc:
            raise Refused(status_of(exc)) from exc
        except Exception as exc:  # connection errors
            raise Refused(status_of(exc)) from exc


def _read_cluster_policy(custom: Any, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = custom.get_cluster_custom_object(
            *CNP_RESOURCE, name, _request_timeout=REQUEST_TIMEOUT
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def _plain(body: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """A copy of the draft to send: plain JSON types, its namespace set, no status."""
    out: dict[str, Any] = json.loads(json.dumps(body))
    out.setdefault("metadata", {})["namespace"] = namespace
    out.pop("status", None)
    return out


def _read(api: Any, net: Any, name: str, namespace: str) -> dict[str, Any] | None:
    try:
        found = net.read_namespaced_network_policy(
            name, namespace, _request_timeout=REQUEST_TIMEOUT
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    current: dict[str, Any] = api.sanitize_for_serialization(found)
    return current


def _same(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether replacing would change nothing the user wrote (the server defaults policyTypes)."""
    have, want = current.get("metadata") or {}, wanted.get("metadata") or {}
    for field in ("labels", "annotations"):
        if (have.get(field) or {}) != (want.get(field) or {}):
            return False
    spec = dict(wanted.get("spec") or {})
    spec.setdefault("policyTypes", (current.get("spec") or {}).get("policyTypes"))
    return bool(_prune(current.get("spec")) == _prune(spec))


def _prune(value: Any) -> Any:
    """Empty lists, maps and nulls dropped, as the API server stores them."""
    if isinstance(value, Mapping):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _applied(api: Any, action: str, obj: Any) -> Applied:
    body = obj if isinstance(obj, Mapping) else api.sanitize_for_serialization(obj)
    meta = body.get("metadata") or {}
    namespace = meta.get("namespace")
    return Applied(
        action=action,
        key=f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name")),
        resource_version=str(meta.get("resourceVersion") or ""),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ran:
    """A command's output (stdout, then stderr) and exit code; `error` when it could not run."""

    output: str
    exit_code: int | None
    error: str | None = None


def run(source: ClusterSource, namespace: str, pod: str, argv: Sequence[str]) -> Ran:
    """`kubectl exec -n NAMESPACE POD -- ARGV`, over the exec WebSocket; never raises."""
    with source.api_client() as api:
        core = client.CoreV1Api(api)
        try:
            ws = stream(
                core.connect_get_namespaced_pod_exec,
                pod,
                namespace,
                command=list(argv),
                stdin=False,
                stdout=True,
                stderr=True,
                tty=False,
                _preload_content=False,
            )
        except Exception as exc:  # the upgrade was refused: its Status, or the reason
            return Ran(output="", exit_code=None, error=_refusal(exc))
        try:
            ws.run_forever(timeout=EXEC_TIMEOUT)
            status = ws.read_channel(ERROR_CHANNEL)
            output = ws.read_all()  # stdout and stderr in the order they came, as a terminal
            if ws.is_open():
                return Ran(output=output, exit_code=None, error="no answer within the time limit")
            return _finished(output, status)
        finally:
            ws.close()


def _finished(output: str, error_channel: str) -> Ran:
    """The exit code from the channel-3 Status (Success, or NonZeroExitCode with its code)."""
    try:
        status = yaml.safe_load(error_channel) if error_channel else None
    except yaml.YAMLError:
        status = None
    if not isinstance(status, Mapping):
        return Ran(output=output, exit_code=None, error="the connection closed without a status")
    if status.get("status") == "Success":
        return Ran(output=output, exit_code=0)
    causes = (status.get("details") or {}).get("causes") or []
    for cause in causes:
        if isinstance(cause, Mapping) and cause.get("reason") == "ExitCode":
            return Ran(output=output, exit_code=int(cause.get("message") or 0))
    return Ran(output=output, exit_code=None, error=str(status.get("message") or status))


def _refusal(exc: Exception) -> str:
    """What the API server answered instead of upgrading: its Status message, with the code.

    websocket-client reports a refused upgrade as `Handshake status 404 Not Found -+-+-
    {headers} -+-+- {body}`; the body is the Status kubectl would print.
    """
    text = str(getattr(exc, "reason", None) or exc).strip()
    head, _, body = text.partition(" -+-+- ")
    body = body.rpartition(" -+-+- ")[2]
    try:
        status = json.loads(body)
    except ValueError:
        return text or type(exc).__name__
    code = head.removeprefix("Handshake status ").strip()
    message = status.get("message") if isinstance(status, Mapping) else None
    return f"{code}: {message}" if message else text

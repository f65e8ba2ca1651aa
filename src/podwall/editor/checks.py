"""Connection checks to run in a live cluster, each with the engine's prediction.

A check is what the lab does by hand: `kubectl exec POD -- curl -I --connect-timeout 5
backend:8080` from a source pod to a service (by its DNS name) or a pod (by its address), and
what `podwall check` would say about that connection. Planning is pure: no I/O here; `live`
runs the command and `outcome()` sets what happened next to what was predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

from podwall.editor import analysis
from podwall.editor.errors import EditorError
from podwall.editor.form import JSON
from podwall.engine import Decision, Endpoint, Traffic, decide
from podwall.engine.targets import (
    PortSpec,
    Target,
    TargetError,
    destination_port,
    parse_port,
    resolve,
    service_port,
)
from podwall.model.cluster import Cluster, Pod
from podwall.model.ports import Protocol

CONNECT_TIMEOUT = 5  # seconds, as the lab's curl
CURL_TIMED_OUT = 28  # curl: "Operation timed out"
TUTORIAL_CLIENTS = ("frontend", "not-frontend")  # the lab's `app=` labels, in its order
TUTORIAL_TARGET, TUTORIAL_PORT = "svc/backend", "8080"


class CheckError(EditorError, ValueError):
    """A check that names nothing in the cluster; the message says what to fix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One command to run in `pod`, and the engine's decisions for the connection it makes."""

    pod: Pod
    target: str  # as asked: `svc/backend`, `default/backend-7d4...`, an IP
    host: str  # what curl connects to: a service's DNS name or a pod's address
    port: int
    decisions: tuple[Decision, ...]

    @property
    def argv(self) -> tuple[str, ...]:
        address = f"[{self.host}]" if ":" in self.host else self.host
        return ("curl", "-I", "--connect-timeout", str(CONNECT_TIMEOUT), f"{address}:{self.port}")

    @property
    def command(self) -> str:
        namespace = "" if self.pod.namespace == "default" else f"-n {self.pod.namespace} "
        return f"kubectl exec {namespace}{self.pod.name} -- {' '.join(self.argv)}"

    @property
    def predicted(self) -> bool | None:
        """Allowed, denied, or None when the service's pods do not all agree."""
        verdicts = {d.allowed for d in self.decisions}
        return verdicts.pop() if len(verdicts) == 1 else None


def plan(cluster: Cluster, source: str, target: str, port: str) -> list[Check]:
    """Checks from every pod `source` names to `target` (service, pod, workload or IP) on `port`.

    `target` without a namespace is looked up in the (first) source pod's namespace.
    A service is reached by name and port (mapped through its targetPort for the prediction);
    pods by their address and the port (a name resolves on each pod).
    """
    try:
        sources = resolve(cluster, source.strip())
        pods = [e.pod for e in sources.endpoints if e.pod is not None]
        if not pods:
            raise CheckError(f"from: {source} names no pod to run the command in")
        # A name without a namespace is looked up where the command runs, as curl's DNS does.
        dest = resolve(cluster, target.strip(), pods[0].namespace)
        wanted = parse_port(port.strip(), f"port {port}")
    except TargetError as exc:
        raise CheckError(str(exc)) from None
    if not dest.endpoints:
        raise CheckError(f"to: {target} selects no pods")
    if dest.service is not None:
        return [_to_service(cluster, pod, dest, wanted) for pod in pods]
    return [
        _to_endpoint(cluster, pod, dest.text, e, wanted) for pod in pods for e in dest.endpoints
    ]


def _to_service(cluster: Cluster, pod: Pod, dest: Target, wanted: int | str) -> Check:
    svc = dest.service
    assert svc is not None
    try:
        sp = service_port(dest, PortSpec(port=wanted, protocol=Protocol.TCP))
    except TargetError as exc:
        raise CheckError(str(exc)) from None
    decisions = []
    for endpoint in dest.endpoints:
        number = _pod_port(endpoint, sp.target_port)
        decisions.append(_decide(cluster, pod, endpoint, number))
    host = svc.name if svc.namespace == pod.namespace else f"{svc.name}.{svc.namespace}"
    return Check(pod=pod, target=dest.text, host=host, port=sp.port, decisions=tuple(decisions))


def _to_endpoint(
    cluster: Cluster, pod: Pod, text: str, endpoint: Endpoint, wanted: int | str
) -> Check:
    addresses = endpoint.addresses()
    if not addresses:
        raise CheckError(f"to: {endpoint.key} has no address yet (is it running?)")
    number = _pod_port(endpoint, wanted)
    return Check(
        pod=pod,
        target=text,
        host=str(addresses[0]),
        port=number,
        decisions=(_decide(cluster, pod, endpoint, number),),
    )


def _pod_port(endpoint: Endpoint, port: int | str) -> int:
    number = destination_port(endpoint.pod, port, Protocol.TCP) if endpoint.pod else None
    number = port if isinstance(port, int) else number
    if number is None:
        raise CheckError(f"to: {endpoint.key} has no TCP port named {port}")
    return number


def _decide(cluster: Cluster, pod: Pod, endpoint: Endpoint, port: int) -> Decision:
    traffic = Traffic(src=Endpoint.of_pod(pod), dst=endpoint, port=port, protocol=Protocol.TCP)
    return decide(cluster, traffic)


def tutorial(cluster: Cluster) -> list[Check]:
    """The lab's checks: from each `app=frontend` and `app=not-frontend` pod to backend:8080."""
    checks: list[Check] = []
    for app in TUTORIAL_CLIENTS:
        for pod in cluster.pods:
            if pod.namespace == "default" and pod.labels.get("app") == app:
                checks += plan(cluster, pod.key, TUTORIAL_TARGET, TUTORIAL_PORT)
    if not checks:
        raise CheckError(
            "the lab's app is not running here: `kubectl apply -f simple-app.yaml` first "
            "(pods labelled app=frontend and app=not-frontend, and the backend service)"
        )
    return checks


def observed(exit_code: int | None) -> bool | None:
    """Whether the connection was made: curl's 0 yes, its timeout (28) no, anything else: ?"""
    if exit_code == 0:
        return True
    if exit_code == CURL_TIMED_OUT:
        return False
    return None


def outcome(check: Check, exit_code: int | None, output: str, error: str | None) -> JSON:
    """The check, what happened, and the engine's prediction, for the page."""
    seen = observed(exit_code)
    predicted = check.predicted
    return {
        "from": check.pod.key,
        "to": check.target,
        "host": check.host,
        "port": check.port,
        "command": check.command,
        "argv": list(check.argv),
        "output": output,
        "exitCode": exit_code,
        "error": error,
        "observed": seen,
        "predicted": predicted,
        "agrees": None if seen is None or predicted is None else seen == predicted,
        "decisions": [analysis.decision_json(d) for d in check.decisions],
    }

"""Planning checks for a live cluster: the command to run and the engine's prediction (pure)."""

from __future__ import annotations

import pytest

from podwall.editor import checks
from podwall.manifests.reader import load_text
from podwall.model.cluster import Cluster
from podwall.model.convert import cluster
from tests.unit.editor.apiclient import TUTORIAL

RUNNING = """\
apiVersion: v1
kind: Pod
metadata: {name: frontend-1, namespace: default, labels: {app: frontend}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 198.18.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: not-frontend-1, namespace: default, labels: {app: not-frontend}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 198.18.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: backend-1, namespace: default, labels: {app: backend}}
spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
status: {podIP: 198.18.0.4}
---
apiVersion: v1
kind: Pod
metadata: {name: tool, namespace: ops, labels: {app: tool}}
spec: {containers: [{name: c, image: i}]}
status: {podIP: 198.18.0.5}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec: {selector: {app: backend}, ports: [{port: 8080, targetPort: http}]}
"""


def snapshot(*extra: str) -> Cluster:
    objects = load_text(RUNNING).objects
    for name in extra:
        objects += load_text((TUTORIAL / name).read_text(), name).objects
    return cluster(objects).cluster


def test_the_labs_checks_with_the_deny_policy() -> None:
    planned = checks.tutorial(snapshot("backend-ingress-deny.yaml"))
    assert [c.command for c in planned] == [
        "kubectl exec frontend-1 -- curl -I --connect-timeout 5 backend:8080",
        "kubectl exec not-frontend-1 -- curl -I --connect-timeout 5 backend:8080",
    ]
    assert [c.predicted for c in planned] == [False, False]
    assert planned[0].decisions[0].traffic.port == 8080  # through targetPort `http`


def test_the_allow_policy_admits_frontend_only() -> None:
    planned = checks.tutorial(
        snapshot("backend-ingress-deny.yaml", "backend-allow-ingress-frontend.yaml")
    )
    assert [c.predicted for c in planned] == [True, False]


def test_across_namespaces_and_to_a_pod_address() -> None:
    base = snapshot()
    (to_service,) = checks.plan(base, "ops/tool", "default/svc/backend", "8080")
    assert to_service.host == "backend.default"
    assert to_service.command.startswith("kubectl exec -n ops tool -- curl")
    (to_pod,) = checks.plan(base, "ops/tool", "default/backend-1", "http")
    assert (to_pod.host, to_pod.port) == ("198.18.0.4", 8080)
    assert to_pod.argv[-1] == "198.18.0.4:8080"
    with pytest.raises(checks.CheckError, match="no service ops/backend"):
        checks.plan(base, "ops/tool", "svc/backend", "8080")  # looked up where curl runs


@pytest.mark.parametrize(
    ("source", "target", "port", "message"),
    [
        ("nobody", "svc/backend", "8080", "no pod default/nobody"),
        ("frontend-1", "svc/backend", "81", "has no port 81"),
        ("frontend-1", "backend-1", "web", "no TCP port named web"),
        ("frontend-1", "backend-1", "0", "not between 1 and 65535"),
    ],
)
def test_what_cannot_be_checked_says_why(source: str, target: str, port: str, message: str) -> None:
    with pytest.raises(checks.CheckError, match=message):
        checks.plan(snapshot(), source, target, port)


def test_outcome_compares_curl_with_the_prediction() -> None:
    (check,) = checks.plan(
        snapshot("backend-ingress-deny.yaml"), "frontend-1", "svc/backend", "8080"
    )
    timed_out = checks.outcome(check, 28, "curl: (28) ...", None)
    assert (timed_out["observed"], timed_out["predicted"], timed_out["agrees"]) == (
        False,
        False,
        True,
    )
    assert checks.outcome(check, 0, "HTTP/1.1 200 OK", None)["agrees"] is False
    assert checks.outcome(check, 7, "refused", None)["agrees"] is None
    assert checks.outcome(check, None, "", "404 Not Found")["error"] == "404 Not Found"

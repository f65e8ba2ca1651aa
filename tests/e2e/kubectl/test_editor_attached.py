"""`podwall editor --cluster` on a running local cluster, over the editor's HTTP API.

The lab from the editor: apply backend-ingress-deny from a draft, run the lab's curl checks in
the pods (both clients time out, exit 28, as the engine predicted), apply the allow policy
(frontend gets 200 OK, not-frontend still times out); the API server's 422 comes back with
its field causes; a check between any pod and a service or pod works the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.attached import (
    AttachedEditor,
    attached_editor,
    lab_cluster,
    pod_named,
    wait_until_enforced,
)
from tests.e2e.kubectl.test_apiserver import ALLOW, DENY

pytestmark = [pytest.mark.kubectl, pytest.mark.netns]

CURL = "curl -I --connect-timeout 5 backend:8080"
BAD_CIDR = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: bad-cidr
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock:
        cidr: 10.0.0.0/33
"""


ADMIN_DENY = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: deny-not-frontend
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {}
  ingress:
  - name: no-not-frontend
    action: Deny
    from:
    - pods:
        namespaceSelector: {}
        podSelector: {matchLabels: {app: not-frontend}}
"""


def form_of(editor: AttachedEditor, text: str) -> Any:
    return editor.call("/api/parse", {"yaml": text})["form"]


def apply(editor: AttachedEditor, path: Path) -> Any:
    return editor.call("/api/cluster/apply", {"form": form_of(editor, path.read_text())})


def by_source(results: list[Any]) -> dict[str, Any]:
    return {r["from"].split("/")[1].rsplit("-", 2)[0]: r for r in results}


def test_apply_then_the_labs_checks_agree_with_the_engine(tmp_path: Path) -> None:
    with (
        lab_cluster(tmp_path) as (local, kubectl),
        attached_editor(local.server.kubeconfig_path) as editor,
    ):
        state = editor.call("/api/state")
        assert state["attached"]["server"] == local.server.url
        pods = {p["key"] for p in state["cluster"]["pods"]}
        frontend, not_frontend = pod_named(kubectl, "frontend"), pod_named(kubectl, "not-frontend")
        assert {f"default/{frontend}", f"default/{not_frontend}"} <= pods
        assert state["cluster"]["policies"] == []

        answer = apply(editor, DENY)
        assert answer["applied"]["action"] == "created", answer
        assert answer["applied"]["key"] == "default/backend-ingress-deny"
        policies = [p["key"] for p in editor.call("/api/state")["cluster"]["policies"]]
        assert policies == ["default/backend-ingress-deny"]  # the editor reads the cluster anew
        assert "backend-ingress-deny" in kubectl("get", "netpol").stdout
        wait_until_enforced(local, kubectl, frontend_reaches=False)

        results = by_source(editor.call("/api/cluster/checks", {"tutorial": True})["results"])
        assert set(results) == {"frontend", "not-frontend"}
        assert results["frontend"]["command"] == f"kubectl exec {frontend} -- {CURL}"
        for result in results.values():
            assert result["exitCode"] == 28, result
            # curl's words for a connection dropped until --connect-timeout: which it prints
            # depends on the phase the timer fires in ("Failed to connect ... after 5001 ms:
            # Timeout was reached", or "Connection timeout after 5000 ms").
            assert re.search(r"Timeout was reached|Connection timeout after", result["output"])
            assert result["observed"] is False
            assert result["predicted"] is False
            assert result["agrees"] is True
            assert result["decisions"][0]["headline"].startswith("DENIED")

        assert apply(editor, ALLOW)["applied"]["action"] == "created"
        wait_until_enforced(local, kubectl, frontend_reaches=True)
        results = by_source(editor.call("/api/cluster/checks", {"tutorial": True})["results"])
        allowed, denied = results["frontend"], results["not-frontend"]
        assert allowed["exitCode"] == 0, allowed
        assert "HTTP/1.1 200 OK" in allowed["output"]
        assert allowed["predicted"] is True
        assert allowed["agrees"] is True
        assert denied["exitCode"] == 28, denied
        assert denied["predicted"] is False
        assert denied["agrees"] is True

        assert apply(editor, ALLOW)["applied"]["action"] == "unchanged"


def test_checks_between_any_pods_and_the_api_servers_refusal(tmp_path: Path) -> None:
    with (
        lab_cluster(tmp_path) as (local, kubectl),
        attached_editor(local.server.kubeconfig_path) as editor,
    ):
        backend = pod_named(kubectl, "backend")
        results = editor.call(
            "/api/cluster/checks",
            {"from": "deploy/not-frontend", "to": f"default/{backend}", "port": "8080"},
        )["results"]
        assert len(results) == 1
        (result,) = results
        assert result["exitCode"] == 0, result
        assert result["predicted"] is True
        assert result["agrees"] is True
        assert result["command"].endswith(":8080")
        assert result["host"].startswith("198.18.")  # the pod's own address

        refused = editor.call("/api/cluster/apply", {"form": form_of(editor, BAD_CIDR)})
        assert refused["applied"] is None
        assert refused["status"]["code"] == 422
        assert refused["status"]["reason"] == "Invalid"
        paths = [e["path"] for e in refused["errors"]]
        assert paths == ["spec.ingress[0].from[0].ipBlock.cidr"], refused
        assert "bad-cidr" not in kubectl("get", "netpol").stdout

        error = editor.call(
            "/api/cluster/checks",
            {"from": "nobody", "to": "svc/backend", "port": "8080"},
            status=400,
        )
        assert "no pod default/nobody" in error["error"]

        # A ClusterNetworkPolicy draft is applied as a cluster-scoped custom resource.
        created = editor.call("/api/cluster/apply", {"form": form_of(editor, ADMIN_DENY)})
        assert created["applied"]["action"] == "created", created
        assert created["applied"]["key"] == "deny-not-frontend"
        listed = editor.call("/api/state")["cluster"]["clusterPolicies"]
        assert [p["key"] for p in listed] == ["admin/deny-not-frontend"]
        again = editor.call("/api/cluster/apply", {"form": form_of(editor, ADMIN_DENY)})
        assert again["applied"]["action"] == "unchanged"
        too_high = form_of(editor, ADMIN_DENY.replace("priority: 10", "priority: 1001"))
        refused = editor.call("/api/cluster/apply", {"form": too_high})
        assert refused["status"]["code"] == 422
        assert [e["path"] for e in refused["errors"]] == ["spec.priority"]
        assert "Admin   10" in kubectl("get", "cnp").stdout

"""RequestInfoFactory: what a method, path and query ask, in authorization's terms."""

from __future__ import annotations

import pytest

from podwall.apiserver.requestinfo import request_info

CASES = [
    # id, method, path, query, (verb, group, namespace, resource, subresource, name)
    ("list pods in a namespace", "GET", "/api/v1/namespaces/default/pods", "",
     ("list", "", "default", "pods", "", "")),
    ("watch pods everywhere", "GET", "/api/v1/pods", "watch=true",
     ("watch", "", "", "pods", "", "")),
    ("watch one by field selector", "GET", "/api/v1/namespaces/d/pods", "watch=1&fieldSelector=metadata.name%3Dweb",
     ("watch", "", "d", "pods", "", "web")),
    ("get one pod", "GET", "/api/v1/namespaces/d/pods/web", "",
     ("get", "", "d", "pods", "", "web")),
    ("exec", "POST", "/api/v1/namespaces/d/pods/web/exec", "command=sh",
     ("create", "", "d", "pods", "exec", "web")),
    ("a namespace is its own namespace", "GET", "/api/v1/namespaces/kube-system", "",
     ("get", "", "kube-system", "namespaces", "", "kube-system")),
    ("namespace status", "PUT", "/api/v1/namespaces/x/status", "",
     ("update", "", "x", "namespaces", "status", "x")),
    ("create a namespace", "POST", "/api/v1/namespaces", "",
     ("create", "", "", "namespaces", "", "")),
    ("deletecollection", "DELETE", "/apis/apps/v1/namespaces/d/deployments", "",
     ("deletecollection", "apps", "d", "deployments", "", "")),
    ("patch scale", "PATCH", "/apis/apps/v1/namespaces/d/deployments/web/scale", "",
     ("patch", "apps", "d", "deployments", "scale", "web")),
    ("token", "POST", "/api/v1/namespaces/d/serviceaccounts/sa/token", "",
     ("create", "", "d", "serviceaccounts", "token", "sa")),
    ("cluster-scoped review", "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "",
     ("create", "authorization.k8s.io", "", "selfsubjectaccessreviews", "", "")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "query", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_resource_requests(
    method: str, path: str, query: str, want: tuple[str, str, str, str, str, str]
) -> None:
    attrs = request_info(method, path, query)
    assert attrs.resource_request
    got = (attrs.verb, attrs.api_group, attrs.namespace, attrs.resource, attrs.subresource,
           attrs.name)  # fmt: skip
    assert got == want


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api"), ("GET", "/api/v1"), ("GET", "/apis/apps"), ("GET", "/apis/apps/v1"),
     ("GET", "/version"), ("GET", "/openapi/v3/apis/apps/v1"), ("POST", "/healthz")],
)  # fmt: skip
def test_non_resource_requests(method: str, path: str) -> None:
    attrs = request_info(method, path)
    assert not attrs.resource_request
    assert (attrs.verb, attrs.path) == (method.lower(), path)

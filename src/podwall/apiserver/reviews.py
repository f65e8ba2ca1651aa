"""The kinds that are answered, never stored: SelfSubjectAccessReview (`kubectl auth can-i`),
SelfSubjectRulesReview (`can-i --list`), SubjectAccessReview, LocalSubjectAccessReview,
SelfSubjectReview (`kubectl auth whoami`), TokenReview; and TokenRequest
(`serviceaccounts/NAME/token`, `kubectl create token`).

Each takes the decoded body and the requesting user and returns the object to answer with
(201). Who may create a review at all is the authorizer's question, asked before this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podwall.apiserver import errors, typecheck
from podwall.apiserver.authentication import Authenticator
from podwall.apiserver.authorization import Authorizer
from podwall.apiserver.requestinfo import Attributes
from podwall.apiserver.resources import AUTHN_GROUP, Resource
from podwall.apiserver.serviceaccounttokens import (
    API_AUDIENCES,
    DEFAULT_SECONDS,
    MAX_SECONDS,
    MIN_SECONDS,
    BoundPod,
    TokenSigner,
)
from podwall.apiserver.store import Store
from podwall.apiserver.userinfo import UserInfo
from podwall.model.fielderrors import invalid, not_supported, required

Obj = dict[str, Any]
_TOKEN_REQUEST = Resource(AUTHN_GROUP, "v1", "tokenrequests", "tokenrequest", "TokenRequest", True)


def _spec(body: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = body.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _answer(body: Mapping[str, Any], resource: Resource, status: Mapping[str, Any]) -> Obj:
    meta = dict(body.get("metadata") or {})
    meta.pop("creationTimestamp", None)
    return {
        "kind": resource.kind,
        "apiVersion": resource.group_version,
        "metadata": {**meta, "creationTimestamp": None},
        "spec": dict(_spec(body)),
        "status": dict(status),
    }


def _attributes(spec: Mapping[str, Any], kind: str) -> Attributes:
    resource = spec.get("resourceAttributes")
    non_resource = spec.get("nonResourceAttributes")
    if isinstance(resource, Mapping) and non_resource is None:
        return Attributes(
            verb=str(resource.get("verb") or ""), resource_request=True,
            api_group=str(resource.get("group") or ""),
            api_version=str(resource.get("version") or ""),
            namespace=str(resource.get("namespace") or ""),
            resource=str(resource.get("resource") or ""),
            subresource=str(resource.get("subresource") or ""),
            name=str(resource.get("name") or ""),
        )  # fmt: skip
    if isinstance(non_resource, Mapping) and resource is None:
        return Attributes(
            verb=str(non_resource.get("verb") or ""), resource_request=False,
            path=str(non_resource.get("path") or ""),
        )  # fmt: skip
    which = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
    raise errors.invalid(kind, "authorization.k8s.io", "", [required("spec", which)])


def access_review(
    authorizer: Authorizer, resource: Resource, body: Mapping[str, Any], user: UserInfo,
    namespace: str | None,
) -> Obj:  # fmt: skip
    """SelfSubjectAccessReview (about `user`), SubjectAccessReview and
    LocalSubjectAccessReview (about the user the spec names)."""
    spec = _spec(body)
    attrs = _attributes(spec, resource.kind)
    subject = user
    if resource.kind != "SelfSubjectAccessReview":
        name, groups = str(spec.get("user") or ""), spec.get("groups") or []
        if not name and not groups:
            raise errors.invalid(
                resource.kind, resource.group, "",
                [required("spec.user", "at least one of user or group must be specified")],
            )  # fmt: skip
        # A null ExtraValue ([]string) decodes to an empty one in Go.
        extra = {str(k): tuple(v or ()) for k, v in (spec.get("extra") or {}).items()}
        subject = UserInfo(name, str(spec.get("uid") or ""), tuple(groups), extra)
    if namespace is not None and attrs.namespace != namespace:
        raise errors.invalid(
            resource.kind, resource.group, "",
            [invalid("spec.resourceAttributes.namespace", attrs.namespace,
                     "must match metadata.namespace")],
        )  # fmt: skip
    decision = authorizer.authorize(subject, attrs)
    status: Obj = {"allowed": decision.allowed}
    if decision.reason:
        status["reason"] = decision.reason
    return _answer(body, resource, status)


def rules_review(authorizer: Authorizer, resource: Resource, body: Mapping[str, Any],
                 user: UserInfo) -> Obj:  # fmt: skip
    namespace = str(_spec(body).get("namespace") or "")
    return _answer(body, resource, authorizer.rules(user, namespace).status())


def self_review(resource: Resource, body: Mapping[str, Any], user: UserInfo) -> Obj:
    answer = _answer(body, resource, {"userInfo": user.as_json()})
    answer.pop("spec")
    return answer


def token_review(authenticator: Authenticator, resource: Resource, body: Mapping[str, Any]) -> Obj:
    spec = _spec(body)
    token = str(spec.get("token") or "")
    user = authenticator.authenticate(f"Bearer {token}".encode()) if token else None
    status: Obj = {"authenticated": user is not None, "user": {}}
    if user is not None:
        status["user"] = user.as_json()
        status["audiences"] = list(spec.get("audiences") or API_AUDIENCES)
    return _answer(body, resource, status)


def token_request(store: Store, signer: TokenSigner, namespace: str, name: str, body: Any) -> Obj:
    """Issue a token for ServiceAccount `namespace/name`, as kube-apiserver's TokenRequest."""
    if not isinstance(body, dict):
        raise errors.bad_request("a TokenRequest body is required")
    typecheck.check(_TOKEN_REQUEST, body)
    account = store.read("serviceaccounts", namespace, name).obj
    spec = dict(_spec(body))
    seconds = spec.get("expirationSeconds")
    seconds = DEFAULT_SECONDS if seconds is None else int(seconds)
    problems = []
    if seconds < MIN_SECONDS:
        problems.append(invalid("spec.expirationSeconds", seconds,
                                "may not specify a duration less than 10 minutes"))  # fmt: skip
    elif seconds > MAX_SECONDS:
        problems.append(invalid("spec.expirationSeconds", seconds,
                                "may not specify a duration larger than 2^32 seconds"))  # fmt: skip
    pod = None
    ref = spec.get("boundObjectRef")
    if isinstance(ref, Mapping):
        if ref.get("kind") != "Pod":
            problems.append(not_supported("spec.boundObjectRef.kind", ref.get("kind"), ["Pod"]))
        else:
            found = store.read("pods", namespace, str(ref.get("name") or "")).obj
            uid = str(found["metadata"].get("uid") or "")
            if ref.get("uid") and ref.get("uid") != uid:
                raise errors.conflict(
                    "pods", "", str(ref.get("name")),
                    f"the UID in the bound object reference ({ref.get('uid')}) does not match "
                    f"the UID in record ({uid}). The object might have been deleted and then "
                    "recreated",
                )  # fmt: skip
            pod = BoundPod(str(ref.get("name")), uid)
            spec["boundObjectRef"] = {**ref, "uid": uid, "apiVersion": "v1"}
    if problems:
        raise errors.invalid("TokenRequest", AUTHN_GROUP, name, problems)
    audiences = [str(a) for a in spec.get("audiences") or API_AUDIENCES]
    issued = signer.issue(
        namespace, name, str(account["metadata"].get("uid") or ""),
        audiences=audiences, expiration_seconds=seconds, pod=pod,
    )  # fmt: skip
    spec.update({"audiences": audiences, "expirationSeconds": seconds})
    spec.setdefault("boundObjectRef", None)
    return {
        "kind": "TokenRequest",
        "apiVersion": f"{AUTHN_GROUP}/v1",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
        "spec": spec,
        "status": {"token": issued.token, "expirationTimestamp": issued.expiration_timestamp},
    }

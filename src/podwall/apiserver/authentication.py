"""Who sent a request: bearer tokens (the admin's, the nodes' static tokens, ServiceAccount
tokens) turned into a UserInfo, then impersonation (`Impersonate-User`, `Impersonate-Group`,
`Impersonate-Uid`, `kubectl --as`) for those RBAC allows to `impersonate`.

As kube-apiserver: a ServiceAccount token is accepted while its ServiceAccount (and the pod it
is bound to, if any) still exists with the uid the token names; every authenticated user gets
the group `system:authenticated`. A request with no bearer token at all is `system:anonymous`
(group `system:unauthenticated`), left for RBAC to judge as kube-apiserver does with anonymous
auth on (its default); a bearer token that is not accepted is a 401. No HTTP here: the caller
passes headers and answers 401/403.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence

from podwall.apiserver import errors
from podwall.apiserver.errors import ApiError
from podwall.apiserver.requestinfo import Attributes
from podwall.apiserver.serviceaccounttokens import TokenSigner
from podwall.apiserver.store import Store
from podwall.apiserver.userinfo import (
    ADMIN_USER,
    ANONYMOUS,
    AUTHENTICATED,
    NODE_PREFIX,
    NODES,
    UNAUTHENTICATED,
    UserInfo,
    service_account_groups,
    split_service_account,
    with_authenticated,
)

CREDENTIAL_ID = "authentication.kubernetes.io/credential-id"
POD_NAME = "authentication.kubernetes.io/pod-name"
POD_UID = "authentication.kubernetes.io/pod-uid"
IMPERSONATE_USER = "impersonate-user"
IMPERSONATE_GROUP = "impersonate-group"
IMPERSONATE_UID = "impersonate-uid"
IMPERSONATE_EXTRA = "impersonate-extra-"
IMPERSONATE_PREFIX = b"impersonate-"  # what every Impersonate-* header name starts with


def static_user(name: str, uid: str = "", groups: Sequence[str] = ()) -> UserInfo:
    """The UserInfo of a static token; a node (`system:node:N`) is in `system:nodes`."""
    found = tuple(groups)
    if name.startswith(NODE_PREFIX) and NODES not in found:
        found = (NODES, *found)
    return UserInfo(name, uid, with_authenticated(found))


ANONYMOUS_USER = UserInfo(ANONYMOUS, "", (UNAUTHENTICATED,))


def bearer_token(authorization: bytes) -> bytes:
    """The token of a `Bearer TOKEN` header value; empty when there is none (another
    scheme, or none at all), as kube-apiserver's bearer token authenticator reads it."""
    scheme, _, token = authorization.partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" else b""


class Authenticator:
    """Bearer token → UserInfo."""

    def __init__(
        self,
        admin_token: str,
        static: Mapping[str, UserInfo],
        signer: TokenSigner | None,
        store: Store | None,
    ) -> None:
        self._admin = admin_token.encode()
        self._static = [(token.encode(), user) for token, user in static.items()]
        self._signer = signer
        self._store = store

    def authenticate(self, authorization: bytes) -> UserInfo | None:
        """The user of an `Authorization` header's value, or None (401)."""
        return self._user_of(bearer_token(authorization))

    def authenticate_request(self, authorization: bytes) -> UserInfo | None:
        """A request's user: whom its bearer token names, `system:anonymous` when it brings
        none, None (401) when the token it brings is not accepted."""
        token = bearer_token(authorization)
        if not token:
            return ANONYMOUS_USER
        return self._user_of(token)

    def _user_of(self, token: bytes) -> UserInfo | None:
        """The user a bearer token names, or None (no token, or one not accepted)."""
        if not token:
            return None
        if hmac.compare_digest(token, self._admin):
            return ADMIN_USER
        # Every static token is compared, so the time taken tells nothing of which matched.
        found = [user for known, user in self._static if hmac.compare_digest(token, known)]
        if found:
            return found[0]
        if token.count(b".") == 2:
            return self._service_account(token.decode("ascii", "replace"))
        return None

    def _service_account(self, token: str) -> UserInfo | None:
        if self._signer is None:
            return None
        claims = self._signer.verify(token)
        if claims is None:
            return None
        uid = self._live_uid("serviceaccounts", claims.namespace, claims.name)
        if uid is None or (claims.uid and uid != claims.uid):
            return None
        extra: dict[str, tuple[str, ...]] = {}
        if claims.token_id:
            extra[CREDENTIAL_ID] = (f"JTI={claims.token_id}",)
        if claims.pod is not None:
            pod_uid = self._live_uid("pods", claims.namespace, claims.pod.name)
            if pod_uid is None or (claims.pod.uid and pod_uid != claims.pod.uid):
                return None
            extra[POD_NAME], extra[POD_UID] = (claims.pod.name,), (claims.pod.uid,)
        groups = (*service_account_groups(claims.namespace), AUTHENTICATED)
        user = f"system:serviceaccount:{claims.namespace}:{claims.name}"
        return UserInfo(user, uid, groups, extra)

    def _live_uid(self, resource: str, namespace: str, name: str) -> str | None:
        if self._store is None:
            return ""
        try:
            stored = self._store.read(resource, namespace, name)
        except errors.NotFoundError:
            return None
        meta = stored.obj.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            return None
        return str(meta.get("uid") or "")


Check = Callable[[UserInfo, Attributes], bool]


def _impersonation_attrs(
    resource: str, name: str, group: str = "", namespace: str = "", subresource: str = ""
) -> Attributes:
    return Attributes(verb="impersonate", resource_request=True, api_group=group,
                      namespace=namespace, resource=resource, subresource=subresource,
                      name=name)  # fmt: skip


def impersonate(user: UserInfo, headers: Sequence[tuple[bytes, bytes]], allowed: Check) -> UserInfo:
    """The user the request acts as: `user`, or whom its Impersonate-* headers name when
    `user` may impersonate them all (else a 403 ApiError, in kube-apiserver's words)."""
    if not any(raw_name[:12].lower() == IMPERSONATE_PREFIX for raw_name, _ in headers):
        return user  # nearly every request: no header to decode
    wanted_user, groups, uid = None, [], None
    extra: dict[str, list[str]] = {}
    for raw_name, raw_value in headers:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("utf-8", "replace")
        if name == IMPERSONATE_USER:
            wanted_user = value
        elif name == IMPERSONATE_GROUP:
            groups.append(value)
        elif name == IMPERSONATE_UID:
            uid = value
        elif name.startswith(IMPERSONATE_EXTRA):
            extra.setdefault(name.removeprefix(IMPERSONATE_EXTRA), []).append(value)
    if wanted_user is None:
        if groups or uid is not None or extra:
            raise errors.bad_request(
                "requested impersonation of groups, uid or extra without impersonating a user"
            )
        return user
    account = split_service_account(wanted_user)
    checks = [
        _impersonation_attrs("serviceaccounts", account[1], namespace=account[0])
        if account is not None
        else _impersonation_attrs("users", wanted_user),
        *(_impersonation_attrs("groups", g) for g in groups),
        *(
            _impersonation_attrs("userextras", v, "authentication.k8s.io", subresource=k)
            for k, values in extra.items()
            for v in values
        ),
    ]
    if uid is not None:
        checks.append(_impersonation_attrs("uids", uid, "authentication.k8s.io"))
    for attrs in checks:
        if not allowed(user, attrs):
            raise _impersonation_forbidden(user, attrs)
    found = tuple(groups)
    if account is not None and not groups:
        found = service_account_groups(account[0])
    found = with_authenticated(found) if wanted_user != "system:anonymous" else found
    return UserInfo(wanted_user, uid or "", found, {k: tuple(v) for k, v in extra.items()})


def _impersonation_forbidden(user: UserInfo, attrs: Attributes) -> ApiError:
    where = f' in the namespace "{attrs.namespace}"' if attrs.namespace else " at the cluster scope"
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    why = (
        f'User "{user.name}" cannot impersonate resource "{resource}" in API group '
        f'"{attrs.api_group}"{where}'
    )
    return errors.forbidden_on(attrs.resource, attrs.api_group, attrs.name, why)

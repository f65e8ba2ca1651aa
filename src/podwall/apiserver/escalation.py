"""RBAC's escalation check: nobody grants, through a Role, ClusterRole or binding, permissions
they do not hold themselves (kube-apiserver's ConfirmNoEscalation).

Writing a Role or ClusterRole needs every permission it grants (in its namespace, or cluster
wide), or the `escalate` verb on it; writing a binding needs the permissions of the role it
points at, or the `bind` verb on that role. Checked as the Store prepares the write (an
on_write hook), for the user the request acts as (`acting_user`, set by the front door);
writes without one (the controllers, bootstrap) are the cluster's own and pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.authorization import Authorizer
from podwall.apiserver.errors import ApiError
from podwall.apiserver.rbac import rule_strings
from podwall.apiserver.requestinfo import Attributes
from podwall.apiserver.resources import RBAC_GROUP
from podwall.apiserver.store import Object, Store
from podwall.apiserver.userinfo import UserInfo

acting_user: ContextVar[UserInfo | None] = ContextVar("acting_user", default=None)

_ROLE_KINDS = {"roles": "Role", "clusterroles": "ClusterRole"}
_BINDINGS = ("rolebindings", "clusterrolebindings")


def atoms(rule: Mapping[str, Any], namespace: str) -> Iterator[Attributes]:
    """A rule broken into single requests: one verb, group, resource, name (or URL) each."""
    urls = rule_strings(rule, "nonResourceURLs")
    for verb in rule_strings(rule, "verbs"):
        for url in urls:
            yield Attributes(verb=verb, resource_request=False, path=url)
        for group in rule_strings(rule, "apiGroups"):
            for combined in rule_strings(rule, "resources"):
                resource, _, sub = combined.partition("/")
                for name in rule_strings(rule, "resourceNames") or [""]:
                    yield Attributes(
                        verb=verb, resource_request=True, api_group=group, namespace=namespace,
                        resource=resource, subresource=sub, name=name,
                    )  # fmt: skip


def _rule_text(attrs: Attributes) -> str:
    if not attrs.resource_request:
        return f'{{NonResourceURLs:["{attrs.path}"], Verbs:["{attrs.verb}"]}}'
    names = f', ResourceNames:["{attrs.name}"]' if attrs.name else ""
    return (
        f'{{APIGroups:["{attrs.api_group}"], Resources:["{attrs.combined_resource}"]{names}, '
        f'Verbs:["{attrs.verb}"]}}'
    )


def _forbidden(resource: str, name: str, user: UserInfo, missing: list[Attributes]) -> ApiError:
    groups = " ".join(f'"{g}"' for g in user.groups)
    held = "\n".join(_rule_text(a) for a in missing)
    why = (
        f'user "{user.name}" (groups=[{groups}]) is attempting to grant RBAC permissions not '
        f"currently held:\n{held}"
    )
    return errors.forbidden_on(resource, RBAC_GROUP, name, why)


FULL_AUTHORITY = [
    {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]},
    {"verbs": ["*"], "nonResourceURLs": ["*"]},
]


def _sets_aggregation(obj: Mapping[str, Any], stored: Mapping[str, Any] | None) -> bool:
    """Whether a write brings an aggregationRule that the stored role did not have."""
    rule = obj.get("aggregationRule")
    return rule is not None and rule != (stored or {}).get("aggregationRule")


class EscalationCheck:
    def __init__(self, store: Store, authorizer: Authorizer) -> None:
        self.store = store
        self.authorizer = authorizer

    def install(self) -> None:
        for plural in (*_ROLE_KINDS, *_BINDINGS):
            self.store.on_write(f"{plural}.{RBAC_GROUP}", self._admitter(plural))

    def _admitter(self, plural: str) -> Callable[[Object, Object | None], Object]:
        def admit(new: Object, stored: Object | None) -> Object:
            user = acting_user.get()
            if user is not None:
                self.check(plural, new, user, stored)
            return new

        return admit

    def _allowed(self, user: UserInfo, verb: str, plural: str, name: str, ns: str) -> bool:
        attrs = Attributes(verb=verb, resource_request=True, api_group=RBAC_GROUP,
                           namespace=ns, resource=plural, name=name)  # fmt: skip
        return self.authorizer.allowed(user, attrs)

    def _missing(self, user: UserInfo, rules: Any, namespace: str) -> list[Attributes]:
        found = []
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, Mapping):
                found += [a for a in atoms(rule, namespace) if not self.authorizer.allowed(user, a)]
        return found

    def check(
        self, plural: str, obj: Mapping[str, Any], user: UserInfo,
        stored: Mapping[str, Any] | None = None,
    ) -> None:  # fmt: skip
        meta = obj.get("metadata") or {}
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace") or "")
        if plural in _ROLE_KINDS:
            if self._allowed(user, "escalate", plural, name, namespace):
                return
            missing = self._missing(user, obj.get("rules"), namespace)
            # An aggregationRule can gather anything: it needs `*` on `*.*`, as upstream.
            aggregating = not missing and _sets_aggregation(obj, stored)
            if aggregating and self._missing(user, FULL_AUTHORITY, ""):
                raise errors.forbidden_on(
                    plural, RBAC_GROUP, name,
                    "must have cluster-admin privileges to use the aggregationRule",
                )  # fmt: skip
        else:
            ref = obj.get("roleRef") or {}
            role_plural = "roles" if ref.get("kind") == "Role" else "clusterroles"
            role_name = str(ref.get("name", ""))
            if self._allowed(user, "bind", role_plural, role_name, namespace):
                return
            role = self._role(role_plural, namespace, role_name)
            missing = self._missing(user, (role or {}).get("rules"), namespace)
        if missing:
            raise _forbidden(f"{plural}", name, user, missing)

    def _role(self, plural: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        policy = self.authorizer.policy
        return policy.role(namespace, name) if plural == "roles" else policy.cluster_role(name)

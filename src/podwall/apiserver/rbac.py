"""The RBAC authorizer of kube-apiserver, as pure functions over Role, ClusterRole, RoleBinding
and ClusterRoleBinding objects (plain JSON dicts, read through a `Policy`).

A request is allowed when a ClusterRoleBinding, or a RoleBinding of the request's namespace,
names the user (User), one of its groups (Group) or its ServiceAccount (ServiceAccount) and
points at a role with a rule that covers it: verb, API group, resource (`pods`, `pods/exec`,
`*`, `*/scale`), resourceNames, or for non-resource requests the URL (`/healthz`, `/api/*`).
RBAC only ever allows: anything not allowed is denied, with the roles it could not find as the
reason ("RBAC: role.rbac.authorization.k8s.io "x" not found"). No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from podwall.apiserver.requestinfo import Attributes
from podwall.apiserver.userinfo import UserInfo, split_service_account

Obj = Mapping[str, Any]
ALL = "*"


class Policy(Protocol):
    """Where the authorizer reads roles and bindings (the store, or a table in tests)."""

    def cluster_role_bindings(self) -> Iterable[Obj]: ...

    def role_bindings(self, namespace: str) -> Iterable[Obj]: ...

    def cluster_role(self, name: str) -> Obj | None: ...

    def role(self, namespace: str, name: str) -> Obj | None: ...


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Grant:
    """The rules one binding gives one of its subjects, and where they come from."""

    rules: tuple[Obj, ...]
    source: str


def rule_strings(rule: Mapping[str, Any], key: str) -> list[str]:
    """A rule's list field (verbs, apiGroups, ...) as strings; anything else as none."""
    value = rule.get(key) or []
    return [str(v) for v in value] if isinstance(value, list) else []


def _has(items: list[str], wanted: str) -> bool:
    return ALL in items or wanted in items


def resource_matches(rule: Obj, combined: str, subresource: str) -> bool:
    for resource in rule_strings(rule, "resources"):
        if resource in (ALL, combined):
            return True
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def url_matches(rule_url: str, path: str) -> bool:
    if rule_url in (ALL, path):
        return True
    return rule_url.endswith(ALL) and path.startswith(rule_url.rstrip(ALL))


def rule_allows(attrs: Attributes, rule: Obj) -> bool:
    """Whether one PolicyRule covers the request."""
    if not _has(rule_strings(rule, "verbs"), attrs.verb):
        return False
    if not attrs.resource_request:
        return any(url_matches(u, attrs.path) for u in rule_strings(rule, "nonResourceURLs"))
    names = rule_strings(rule, "resourceNames")
    return (
        _has(rule_strings(rule, "apiGroups"), attrs.api_group)
        and resource_matches(rule, attrs.combined_resource, attrs.subresource)
        and (not names or attrs.name in names)
    )


def _subject_text(subject: Obj, binding_namespace: str) -> str:
    kind, name = str(subject.get("kind", "")), str(subject.get("name", ""))
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or binding_namespace}"'
    return f'{kind} "{name}"'


def applies_to(subject: Obj, user: UserInfo, binding_namespace: str) -> bool:
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return bool(user.name == name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        account = split_service_account(user.name)
        namespace = subject.get("namespace") or binding_namespace
        return account is not None and account == (namespace, name)
    return False


def _role_rules(policy: Policy, role_ref: Obj, namespace: str) -> tuple[Obj, ...] | str:
    """The rules of a binding's role, or why there are none."""
    kind, name = str(role_ref.get("kind", "")), str(role_ref.get("name", ""))
    if kind == "ClusterRole":
        role = policy.cluster_role(name)
        missing = f'clusterrole.rbac.authorization.k8s.io "{name}" not found'
    elif kind == "Role" and namespace:
        role = policy.role(namespace, name)
        missing = f'role.rbac.authorization.k8s.io "{name}" not found'
    else:
        return f'unsupported role reference kind: "{kind}"'
    if role is None:
        return missing
    rules = role.get("rules") or []
    return tuple(r for r in rules if isinstance(r, Mapping))


def _bindings(policy: Policy, namespace: str) -> Iterator[tuple[str, Obj]]:
    for binding in policy.cluster_role_bindings():
        yield "", binding
    if namespace:
        for binding in policy.role_bindings(namespace):
            yield namespace, binding


def grants(policy: Policy, user: UserInfo, namespace: str) -> Iterator[Grant | str]:
    """Every Grant `user` has in `namespace` ("": cluster-wide only), and, as strings, the roles
    that bindings naming the user point at but that do not exist."""
    for binding_ns, binding in _bindings(policy, namespace):
        subjects = [s for s in binding.get("subjects") or [] if isinstance(s, Mapping)]
        subject = next((s for s in subjects if applies_to(s, user, binding_ns)), None)
        if subject is None:
            continue
        role_ref = binding.get("roleRef") or {}
        rules = _role_rules(policy, role_ref, binding_ns)
        if isinstance(rules, str):
            yield rules
            continue
        meta = binding.get("metadata") or {}
        if binding_ns:
            where = f'RoleBinding "{meta.get("name", "")}/{binding_ns}"'
        else:
            where = f'ClusterRoleBinding "{meta.get("name", "")}"'
        source = (
            f'{where} of {role_ref.get("kind", "")} "{role_ref.get("name", "")}" '
            f"to {_subject_text(subject, binding_ns)}"
        )
        yield Grant(rules, source)


def authorize(policy: Policy, user: UserInfo, attrs: Attributes) -> Decision:
    """Allowed, with the binding that allows it as the reason; or denied, with the missing
    roles as the reason (empty when there are none)."""
    missing: list[str] = []
    for grant in grants(policy, user, attrs.namespace):
        if isinstance(grant, str):
            missing.append(grant)
            continue
        if any(rule_allows(attrs, rule) for rule in grant.rules):
            return Decision(True, f"RBAC: allowed by {grant.source}")
    if not missing:
        return Decision(False)
    joined = missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]"
    return Decision(False, f"RBAC: {joined}")


def forbidden_message(user: UserInfo, attrs: Attributes, reason: str = "") -> str:
    """kube-apiserver's words for a request RBAC did not allow."""
    who = f'User "{user.name}" cannot {attrs.verb}'
    if not attrs.resource_request:
        text = f'{who} path "{attrs.path}"'
    elif attrs.namespace:
        text = (
            f'{who} resource "{attrs.combined_resource}" in API group "{attrs.api_group}" '
            f'in the namespace "{attrs.namespace}"'
        )
    else:
        text = (
            f'{who} resource "{attrs.combined_resource}" in API group "{attrs.api_group}" '
            "at the cluster scope"
        )
    return f"{text}: {reason}" if reason else text

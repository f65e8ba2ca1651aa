"""Validation and defaults of the RBAC kinds and ServiceAccounts, in kube-apiserver's words
(pkg/apis/rbac/validation): rules, role references, subjects, and names that are path segments
(`system:node` is a valid role name) rather than DNS names. A binding's roleRef never changes
(`guard_role_ref`, an on_write hook). Pure functions, but for the hook's registration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.resources import RBAC_GROUP, by_key
from podwall.apiserver.store import Store
from podwall.model.dnsnames import is_dns1123_subdomain
from podwall.model.fielderrors import FieldError, invalid, not_supported, required
from podwall.model.goquote import GoSlice, go_quote

Obj = dict[str, Any]
ROLES = ("roles.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io")
BINDINGS = (
    "rolebindings.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
)
SUBJECT_KINDS = ("ServiceAccount", "User", "Group")


def path_segment_name(name: str) -> list[str]:
    """path.IsValidPathSegmentName: the name rule of every RBAC kind."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in name]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def validate_rule(rule: Mapping[str, Any], namespaced: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    if not _list(rule.get("verbs")):
        errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
    urls = _list(rule.get("nonResourceURLs"))
    if urls:
        shown = GoSlice("string", tuple(str(u) for u in urls))
        if namespaced:
            errs.append(invalid(f"{path}.nonResourceURLs", shown,
                                "namespaced rules cannot apply to non-resource URLs"))  # fmt: skip
        if any(_list(rule.get(k)) for k in ("apiGroups", "resources", "resourceNames")):
            errs.append(invalid(
                f"{path}.nonResourceURLs", shown,
                "rules cannot apply to both regular resources and non-resource URLs",
            ))  # fmt: skip
        return errs
    if not _list(rule.get("apiGroups")):
        errs.append(required(f"{path}.apiGroups",
                             "resource rules must supply at least one api group"))  # fmt: skip
    if not _list(rule.get("resources")):
        errs.append(required(f"{path}.resources",
                             "resource rules must supply at least one resource"))  # fmt: skip
    return errs


def validate_role(obj: Mapping[str, Any], namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, rule in enumerate(_list(obj.get("rules"))):
        if isinstance(rule, Mapping):
            errs += validate_rule(rule, namespaced, f"rules[{i}]")
    return errs


def validate_subject(subject: Mapping[str, Any], namespaced: bool, path: str) -> list[FieldError]:
    errs: list[FieldError] = []
    name, kind = str(subject.get("name") or ""), subject.get("kind")
    group = str(subject.get("apiGroup") or "")
    if not name:
        errs.append(required(f"{path}.name"))
    if kind == "ServiceAccount":
        if name:
            errs += [invalid(f"{path}.name", name, m) for m in is_dns1123_subdomain(name)]
        if group:
            errs.append(not_supported(f"{path}.apiGroup", group, [""]))
        if not namespaced and not subject.get("namespace"):
            errs.append(required(f"{path}.namespace"))
    elif kind in ("User", "Group"):
        if group != RBAC_GROUP:
            errs.append(not_supported(f"{path}.apiGroup", group, [RBAC_GROUP]))
    else:
        errs.append(not_supported(f"{path}.kind", kind, SUBJECT_KINDS))
    return errs


def validate_binding(obj: Mapping[str, Any], namespaced: bool) -> list[FieldError]:
    errs: list[FieldError] = []
    ref = obj.get("roleRef")
    ref = ref if isinstance(ref, Mapping) else {}
    if ref.get("apiGroup") != RBAC_GROUP:
        errs.append(not_supported("roleRef.apiGroup", ref.get("apiGroup") or "", [RBAC_GROUP]))
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if ref.get("kind") not in kinds:
        errs.append(not_supported("roleRef.kind", ref.get("kind") or "", kinds))
    name = str(ref.get("name") or "")
    if not name:
        errs.append(required("roleRef.name"))
    errs += [invalid("roleRef.name", name, m) for m in path_segment_name(name)]
    for i, subject in enumerate(_list(obj.get("subjects"))):
        if isinstance(subject, Mapping):
            errs += validate_subject(subject, namespaced, f"subjects[{i}]")
    return errs


def default(key: str, obj: Obj) -> None:
    """SetDefaults_Subject: a User's or Group's apiGroup is rbac.authorization.k8s.io."""
    if key not in BINDINGS:
        return
    for subject in _list(obj.get("subjects")):
        named = isinstance(subject, dict) and subject.get("kind") in ("User", "Group")
        if named and not subject.get("apiGroup"):
            subject["apiGroup"] = RBAC_GROUP


def validate(key: str, obj: Mapping[str, Any]) -> list[FieldError]:
    """The kind's own rules (metadata is the caller's)."""
    if key in ROLES:
        return validate_role(obj, key == ROLES[0])
    if key in BINDINGS:
        return validate_binding(obj, key == BINDINGS[0])
    return []


class _GoRoleRef(GoSlice, frozen=True):
    """rbac.RoleRef as `%#v` prints it; `items` holds apiGroup, kind and name."""

    def __str__(self) -> str:
        group, kind, name = self.items
        return (
            f"rbac.RoleRef{{APIGroup:{go_quote(group)}, Kind:{go_quote(kind)}, "
            f"Name:{go_quote(name)}}}"
        )


def _role_ref(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    ref = obj.get("roleRef") or {}
    return (str(ref.get("apiGroup", "")), str(ref.get("kind", "")), str(ref.get("name", "")))


def _guard(key: str) -> Callable[[Obj, Obj | None], Obj]:
    def admit(new: Obj, stored: Obj | None) -> Obj:
        if stored is not None and _role_ref(new) != _role_ref(stored):
            resource = by_key(key)
            name = str((new.get("metadata") or {}).get("name", ""))
            shown = _GoRoleRef("", _role_ref(new))
            raise errors.invalid(
                resource.kind, resource.group, name,
                [invalid("roleRef", shown, "cannot change roleRef")],
            )  # fmt: skip
        return new

    return admit


def guard_role_ref(store: Store) -> None:
    """Refuse, on `store`, any update that changes a binding's roleRef (as upstream)."""
    for key in BINDINGS:
        store.on_write(key, _guard(key))

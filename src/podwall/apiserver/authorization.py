"""The authorizer chain of the API server: `system:masters` may do anything (kube-apiserver's
privileged-group authorizer), everyone else what RBAC allows (`rbac`), read from the Store.

Also the 403 Status for a denied request, in kube-apiserver's words, and the rules a user has
in a namespace (SelfSubjectRulesReview). Reads only; never writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from podwall.apiserver import errors, rbac
from podwall.apiserver.decisioncache import DecisionCache
from podwall.apiserver.errors import ApiError
from podwall.apiserver.rbac import Decision, Grant, Obj
from podwall.apiserver.requestinfo import Attributes
from podwall.apiserver.store import Store
from podwall.apiserver.userinfo import MASTERS, UserInfo

ROLES = "roles.rbac.authorization.k8s.io"
CLUSTER_ROLES = "clusterroles.rbac.authorization.k8s.io"
ROLE_BINDINGS = "rolebindings.rbac.authorization.k8s.io"
CLUSTER_ROLE_BINDINGS = "clusterrolebindings.rbac.authorization.k8s.io"


class StorePolicy:
    """rbac.Policy over the Store's shared objects (read-only)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _read(self, resource: str, namespace: str, name: str) -> Obj | None:
        try:
            return self.store.read(resource, namespace, name).obj
        except errors.NotFoundError:
            return None

    def cluster_role_bindings(self) -> Iterable[Obj]:
        items, _ = self.store.select(CLUSTER_ROLE_BINDINGS)
        return [s.obj for s in items]

    def role_bindings(self, namespace: str) -> Iterable[Obj]:
        items, _ = self.store.select(ROLE_BINDINGS, namespace)
        return [s.obj for s in items]

    def cluster_role(self, name: str) -> Obj | None:
        return self._read(CLUSTER_ROLES, "", name)

    def role(self, namespace: str, name: str) -> Obj | None:
        return self._read(ROLES, namespace, name)

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever any Role, ClusterRole or binding does (durably)."""
        changed = self.store.changed
        return (
            changed(ROLES),
            changed(CLUSTER_ROLES),
            changed(ROLE_BINDINGS),
            changed(CLUSTER_ROLE_BINDINGS),
        )


@dataclass(frozen=True, slots=True)
class RulesReview:
    """The status of a SelfSubjectRulesReview."""

    resource_rules: list[dict[str, Any]] = field(default_factory=list)
    non_resource_rules: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceRules": self.resource_rules,
            "nonResourceRules": self.non_resource_rules,
            "incomplete": bool(self.errors),
        }
        if self.errors:
            out["evaluationError"] = ", ".join(self.errors)
        return out


_MASTERS_ALLOWED = Decision(True)  # frozen: one instance answers every such request


class Authorizer:
    """Over a StorePolicy, RBAC's decisions are remembered until the next RBAC change
    (`decisioncache`): RBAC reads every ClusterRoleBinding, and the namespace's RoleBindings,
    on every request."""

    def __init__(self, policy: rbac.Policy) -> None:
        self.policy = policy
        self._stamped = policy if isinstance(policy, StorePolicy) else None
        self._cache = DecisionCache()

    def authorize(self, user: UserInfo, attrs: Attributes) -> Decision:
        if MASTERS in user.groups:
            return _MASTERS_ALLOWED
        if self._stamped is None:  # a policy with no change stamp: decided afresh each time
            return rbac.authorize(self.policy, user, attrs)
        key = DecisionCache.key(user, attrs)
        stamp = self._stamped.stamp()  # before deciding: a change meanwhile makes it stale
        decision = self._cache.get(key, stamp)
        if decision is None:
            decision = rbac.authorize(self.policy, user, attrs)
            self._cache.put(key, stamp, decision)
        return decision

    def allowed(self, user: UserInfo, attrs: Attributes) -> bool:
        return self.authorize(user, attrs).allowed

    def check(self, user: UserInfo, attrs: Attributes) -> None:
        """Nothing when allowed; the 403 ApiError kube-apiserver answers when not."""
        decision = self.authorize(user, attrs)
        if not decision.allowed:
            raise forbidden(user, attrs, decision.reason)

    def rules(self, user: UserInfo, namespace: str) -> RulesReview:
        """Every rule `user` has in `namespace`, split as a SelfSubjectRulesReview shows them."""
        review = RulesReview()
        found: list[Grant | str] = list(rbac.grants(self.policy, user, namespace))
        if MASTERS in user.groups and not any(isinstance(g, Grant) for g in found):
            found.append(Grant((rbac_all(),), "system:masters"))
        for grant in found:
            if isinstance(grant, str):
                review.errors.append(grant)
                continue
            for rule in grant.rules:
                _split_rule(rule, review)
        return review


def rbac_all() -> Obj:
    return {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}


def _split_rule(rule: Obj, review: RulesReview) -> None:
    verbs = list(rule.get("verbs") or [])
    if rule.get("nonResourceURLs"):
        review.non_resource_rules.append(
            {"verbs": verbs, "nonResourceURLs": list(rule["nonResourceURLs"])}
        )
        return
    entry: dict[str, Any] = {
        "verbs": verbs,
        "apiGroups": list(rule.get("apiGroups") or []),
        "resources": list(rule.get("resources") or []),
    }
    if rule.get("resourceNames"):
        entry["resourceNames"] = list(rule["resourceNames"])
    review.resource_rules.append(entry)


def forbidden(user: UserInfo, attrs: Attributes, reason: str = "") -> ApiError:
    message = rbac.forbidden_message(user, attrs, reason)
    if not attrs.resource_request:
        return errors.forbidden_on("", "", "", message)
    return errors.forbidden_on(attrs.resource, attrs.api_group, attrs.name, message)

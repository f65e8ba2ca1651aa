"""Remembered RBAC decisions: (user name, groups, request attributes) -> Decision.

RBAC's answer depends on the user's name and groups, the request's attributes, and the Roles,
ClusterRoles, RoleBindings and ClusterRoleBindings stored. Each answer is kept with the
`stamp` the policy had when it was computed (the resourceVersions of the last change to each of
the four resources), and is reused only while the stamp is the same: any RBAC write, the
clusterrole-aggregation controller's included, makes every kept answer stale at once. Bounded:
full, it starts over. Pure bookkeeping: no I/O, no locking (dict operations are atomic).
"""

from __future__ import annotations

from collections.abc import Hashable

from podwall.apiserver.rbac import Decision
from podwall.apiserver.requestinfo import Attributes
from podwall.apiserver.userinfo import UserInfo

Key = tuple[str, tuple[str, ...], Attributes]


class DecisionCache:
    """Decisions by user and attributes, valid for one policy stamp."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._stamp: Hashable = None
        self._decisions: dict[Key, Decision] = {}

    @staticmethod
    def key(user: UserInfo, attrs: Attributes) -> Key:
        return user.name, user.groups, attrs

    def get(self, key: Key, stamp: Hashable) -> Decision | None:
        """The decision kept for `key` under `stamp`, if any."""
        if stamp != self._stamp:
            return None
        return self._decisions.get(key)

    def put(self, key: Key, stamp: Hashable, decision: Decision) -> None:
        """Keep `decision`, computed under `stamp` (read before computing it)."""
        if stamp != self._stamp or len(self._decisions) >= self.size:
            self._decisions = {}
            self._stamp = stamp
        self._decisions[key] = decision

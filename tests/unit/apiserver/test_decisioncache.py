"""The decision cache: an answer is reused only under the stamp it was computed under."""

from __future__ import annotations

from podwall.apiserver.decisioncache import DecisionCache
from podwall.apiserver.rbac import Decision
from podwall.apiserver.requestinfo import request_info
from podwall.apiserver.userinfo import UserInfo

ALICE = UserInfo("alice", groups=("devs",))
GET = request_info("GET", "/api/v1/namespaces/default/pods/web")
KEY = DecisionCache.key(ALICE, GET)


def test_an_answer_is_kept_for_its_stamp_only() -> None:
    cache = DecisionCache()
    assert cache.get(KEY, (1, 1, 1, 1)) is None
    cache.put(KEY, (1, 1, 1, 1), Decision(True))
    assert cache.get(KEY, (1, 1, 1, 1)) == Decision(True)
    assert cache.get(KEY, (1, 1, 2, 1)) is None  # one RBAC resource changed


def test_a_new_stamp_forgets_every_older_answer() -> None:
    cache = DecisionCache()
    other = DecisionCache.key(UserInfo("bob"), GET)
    cache.put(KEY, 1, Decision(True))
    cache.put(other, 2, Decision(False))
    assert cache.get(KEY, 2) is None
    assert cache.get(other, 2) == Decision(False)


def test_the_key_is_name_groups_and_attributes() -> None:
    same_name = UserInfo("alice", uid="x", groups=("other",))
    assert DecisionCache.key(same_name, GET) != KEY
    assert DecisionCache.key(UserInfo("alice", uid="y", groups=("devs",)), GET) == KEY


def test_it_is_bounded() -> None:
    cache = DecisionCache(size=2)
    keys = [DecisionCache.key(UserInfo(f"u{i}"), GET) for i in range(3)]
    for key in keys:
        cache.put(key, 1, Decision(True))
    assert [cache.get(k, 1) is not None for k in keys] == [False, False, True]

"""ControllerRevisions: what a template's revision holds, how history moves and is pruned."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import Create, Delete, Update
from podwall.controllers import revisions as rev
from podwall.controllers.meta import deep, meta

OWNER: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {"name": "db", "namespace": "ns", "uid": "u1"},
    "spec": {
        "revisionHistoryLimit": 2,
        "template": {
            "metadata": {"labels": {"app": "db"}},
            "spec": {"containers": [{"name": "db", "image": "db:1"}]},
        },
    },
}


def with_image(image: str) -> dict[str, Any]:
    out = deep(OWNER)
    out["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return out


def stored(owner: dict[str, Any], number: int) -> dict[str, Any]:
    revision = rev.new_revision(owner, rev.revision_hash(owner), number)
    meta(revision)["creationTimestamp"] = f"2026-12-07T00:00:0{number}Z"
    return revision


def test_a_revision_holds_the_template_as_a_replacing_patch() -> None:
    revision = rev.new_revision(OWNER, "abc", 4)
    assert meta(revision)["name"] == "db-abc"
    assert meta(revision)["labels"] == {"app": "db", "controller-revision-hash": "abc"}
    assert meta(revision)["ownerReferences"][0]["uid"] == "u1"
    assert revision["revision"] == 4
    assert revision["data"] == {"spec": {"template": {**OWNER["spec"]["template"],
                                                      "$patch": "replace"}}}  # fmt: skip


def test_the_hash_follows_the_template_and_the_collision_count() -> None:
    assert rev.revision_hash(OWNER) == rev.revision_hash(deep(OWNER))
    assert rev.revision_hash(OWNER) != rev.revision_hash(with_image("db:2"))
    collided = {**deep(OWNER), "status": {"collisionCount": 1}}
    assert rev.revision_hash(collided) != rev.revision_hash(OWNER)


@pytest.mark.parametrize(
    ("history", "action", "number"),
    [
        pytest.param([], Create, 1, id="none-yet:-created-as-1"),
        pytest.param([stored(with_image("db:0"), 1)], Create, 2, id="new-template:-max+1"),
        pytest.param([stored(OWNER, 1)], None, 1, id="newest-already:-nothing"),
        pytest.param(
            [stored(OWNER, 1), stored(with_image("db:2"), 2)], Update, 3, id="rollback:-renumbered"
        ),
    ],
)
def test_sync_current(history: list[dict[str, Any]], action: type | None, number: int) -> None:
    actions, current, after = rev.sync_current(OWNER, rev.owned(OWNER, history))
    assert [type(a) for a in actions] == ([action] if action else [])
    assert current["revision"] == number
    assert meta(current)["name"] == rev.revision_name(OWNER, rev.revision_hash(OWNER))
    assert sorted(r["revision"] for r in after) == sorted(
        {*(r["revision"] for r in history if meta(r)["name"] != meta(current)["name"]), number}
    )


def test_owned_leaves_out_other_owners_and_sorts_by_revision() -> None:
    mine = [stored(with_image("db:2"), 2), stored(OWNER, 1)]
    theirs = deep(mine[0])
    meta(theirs)["ownerReferences"][0]["uid"] = "u2"
    assert [r["revision"] for r in rev.owned(OWNER, [*mine, theirs])] == [1, 2]


@pytest.mark.parametrize(
    ("live", "doomed"),
    [
        pytest.param(set(), ["db:1", "db:2"], id="nothing-live:-oldest-go"),
        pytest.param({"db:1"}, ["db:2"], id="a-live-old-one-stays"),
        pytest.param({"db:1", "db:2", "db:3"}, [], id="within-the-limit"),
    ],
)
def test_prune_keeps_the_limit_of_revisions_nobody_uses(live: set[str], doomed: list[str]) -> None:
    history = [stored(with_image(f"db:{n}"), n) for n in range(1, 5)]
    names = {f"db:{n}": meta(history[n - 1])["name"] for n in range(1, 5)}
    actions = rev.prune(OWNER, history, {names[i] for i in live})
    assert actions == [Delete(rev.RESOURCE, "ns", names[i]) for i in doomed]

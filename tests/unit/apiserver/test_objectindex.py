"""The in-memory index: key order, scans from a key, what a scan visits, private copies."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podwall.apiserver.objectindex import Key, ObjectIndex, OpCounts, stored, thaw

NAMES = st.sampled_from(["", "a", "a-b", "b", "kube-system", "z"])
KEYS = st.lists(st.tuples(NAMES, st.text("abc", min_size=1, max_size=3)), max_size=30)


def _index(keys: list[Key]) -> ObjectIndex:
    index = ObjectIndex(OpCounts())
    for ns, name in keys:
        obj = {"metadata": {"name": name, "namespace": ns, "resourceVersion": "1"}}
        index.put("pods", ns, name, stored(obj, index.counts))
    return index


@given(KEYS, KEYS)
def test_a_scan_yields_the_keys_in_order_after_any_key(keys: list[Key], removed: list[Key]) -> None:
    index = _index(keys)
    for ns, name in removed:
        index.remove("pods", ns, name)
    present = sorted(set(keys) - set(removed))
    assert [k for k, _ in index.scan("pods")] == present
    for after in [*keys, ("", ""), ("zz", "zz")]:
        assert [k for k, _ in index.scan("pods", after=after)] == [k for k in present if k > after]


@given(KEYS)
def test_a_namespaced_scan_visits_only_that_namespace(keys: list[Key]) -> None:
    index = _index(keys)
    before = index.counts.visits
    found = [k for k, _ in index.scan("pods", "a")]
    assert found == sorted({k for k in keys if k[0] == "a"})
    assert index.counts.visits - before == len(found)


def test_replacing_an_object_keeps_one_key() -> None:
    index = _index([("a", "x"), ("a", "x")])
    assert [k for k, _ in index.scan("pods")] == [("a", "x")]
    assert index.get("other", "a", "x") is None
    assert [k for k, _ in index.scan("other")] == []


def test_thaw_copies_every_level() -> None:
    tree = {"a": [{"b": 1}], "c": {"d": ["e"]}}
    copy = thaw(tree)
    assert copy == tree
    copy["a"][0]["b"] = 2
    copy["c"]["d"].append("f")
    assert tree == {"a": [{"b": 1}], "c": {"d": ["e"]}}

"""Generated names: nft-safe, bounded, deterministic, and distinct for distinct inputs."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.nft.errors import InvalidOperation
from podwall.nft.naming import MAX_NAME_LEN, NAME_BUDGET, RESERVED, check_name, name

kinds = st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)
k8s_words = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
any_parts = st.lists(st.one_of(k8s_words, st.text(min_size=0, max_size=80)), min_size=1, max_size=5)


def test_plain_kubernetes_names_stay_readable() -> None:
    assert name("pod-in", "default", "web-0") == "pod-in_default_web-0"
    assert name("pol", "kube-system", "allow-dns", "0") == "pol_kube-system_allow-dns_0"


def test_unusual_or_long_text_gets_a_hash() -> None:
    dotted = name("pol", "default", "my.policy")
    assert re.fullmatch(r"pol_default_my-policy__[0-9a-f]{16}", dotted)
    long = name("pod-in", "namespace-" * 10, "pod")
    assert long.startswith("pod-in_namespace-namespace")
    assert len(long) <= NAME_BUDGET


def test_parts_boundaries_matter() -> None:
    assert name("x", "a_b", "c") != name("x", "a", "b_c")
    assert name("x", "a-b", "c") != name("x", "a", "b-c")


@pytest.mark.parametrize(
    ("kind", "parts"), [("", ("a",)), ("Pod", ("a",)), ("a_b", ("a",)), ("x", ())]
)
def test_bad_kind_or_no_parts_is_an_error(kind: str, parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - message varies
        name(kind, *parts)


@given(kinds, any_parts)
def test_names_are_valid_nft_identifiers(kind: str, parts: list[str]) -> None:
    result = name(kind, *parts)
    check_name(result, "generated")
    assert len(result) <= NAME_BUDGET <= MAX_NAME_LEN
    assert "_" in result  # no nft keyword contains `_`


@given(kinds, any_parts)
def test_names_are_deterministic(kind: str, parts: list[str]) -> None:
    assert name(kind, *parts) == name(kind, *list(parts))


@given(kinds, any_parts, kinds, any_parts)
def test_distinct_inputs_give_distinct_names(
    kind1: str, parts1: list[str], kind2: str, parts2: list[str]
) -> None:
    if (kind1, parts1) != (kind2, parts2):
        assert name(kind1, *parts1) != name(kind2, *parts2)


@given(kinds, st.lists(k8s_words, min_size=1, max_size=3))
def test_near_collisions_stay_distinct(kind: str, parts: list[str]) -> None:
    # Joining with `-` instead of `_`, or appending to a part, must not collide.
    joined = "-".join(parts)
    if len(parts) > 1:
        assert name(kind, *parts) != name(kind, joined)
    assert name(kind, *parts) != name(kind, *parts[:-1], parts[-1] + "_")


@pytest.mark.parametrize("bad", ["", "1abc", "a b", "a.b", "a/b", "x" * 256, *sorted(RESERVED)[:5]])
def test_check_name_rejects_unsafe_names(bad: str) -> None:
    with pytest.raises(InvalidOperation):
        check_name(bad, "chain")


@pytest.mark.parametrize("good", ["forward", "filter-forward", "a", "x" * 255, "pod-in_a_b"])
def test_check_name_accepts_safe_names(good: str) -> None:
    check_name(good, "chain")

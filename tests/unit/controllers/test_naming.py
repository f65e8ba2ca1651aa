"""Names: the pod-template hash and the random suffixes have upstream's shape."""

from __future__ import annotations

import random
import re

import pytest

from podwall.controllers.naming import (
    ALPHABET,
    compute_hash,
    fnv32a,
    generate_name,
    random_suffix,
    safe_encode,
)

TEMPLATE = {"metadata": {"labels": {"app": "backend"}}, "spec": {"containers": [{"name": "c"}]}}
HASH = re.compile(r"^[4-9bcdf]{1,10}$")


@pytest.mark.parametrize(
    ("data", "value"),
    [
        pytest.param(b"", 0x811C9DC5, id="fnv-1a of nothing is the offset basis"),
        pytest.param(b"a", 0xE40C292C, id="fnv-1a of a matches the reference vector"),
        pytest.param(b"foobar", 0xBF9CF968, id="fnv-1a of foobar matches the reference vector"),
    ],
)
def test_fnv32a(data: bytes, value: int) -> None:
    assert fnv32a(data) == value


def test_safe_encoding_of_a_decimal_hash_gives_the_tutorials_replicaset_suffix() -> None:
    assert safe_encode("2193735077") == "65f7c794cc"


@pytest.mark.parametrize(
    ("collisions", "other"),
    [
        pytest.param(None, 0, id="a collision count changes the hash"),
        pytest.param(0, 1, id="each collision count gives another hash"),
    ],
)
def test_collision_count_changes_the_hash(collisions: int | None, other: int) -> None:
    assert compute_hash(TEMPLATE, collisions) != compute_hash(TEMPLATE, other)


def test_the_hash_is_stable_and_looks_like_upstreams() -> None:
    first = compute_hash(TEMPLATE)
    assert first == compute_hash({"spec": TEMPLATE["spec"], "metadata": TEMPLATE["metadata"]})
    assert HASH.match(first)


def test_a_template_change_changes_the_hash() -> None:
    changed = {**TEMPLATE, "spec": {"containers": [{"name": "d"}]}}
    assert compute_hash(changed) != compute_hash(TEMPLATE)


def test_generated_names_keep_at_most_58_characters_of_the_prefix() -> None:
    name = generate_name("x" * 70, random.Random(1))
    assert len(name) == 63
    assert name.startswith("x" * 58)
    assert all(c in ALPHABET for c in name[58:])


def test_random_suffixes_come_from_the_seeded_generator() -> None:
    assert random_suffix(random.Random(7)) == random_suffix(random.Random(7))
    assert len(random_suffix(random.Random(7))) == 5

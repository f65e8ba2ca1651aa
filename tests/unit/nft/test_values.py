"""nft literal values: address ranges written as the fewest element texts, read back the same."""

from __future__ import annotations

import ipaddress
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podwall.nft.values import address_interval, address_texts


def ip(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


TEXTS = [
    ("one address", [(ip("198.18.0.5"), ip("198.18.0.5"))], ["198.18.0.5"]),
    ("an aligned power of two is a prefix", [(ip("198.18.0.0"), ip("198.18.0.255"))], ["198.18.0.0/24"]),
    ("anything else is a range", [(ip("198.18.0.1"), ip("198.18.0.6"))], ["198.18.0.1-198.18.0.6"]),
    ("touching ranges merge", [(ip("198.18.0.0"), ip("198.18.0.127")), (ip("198.18.0.128"), ip("198.18.0.255"))],
     ["198.18.0.0/24"]),
    ("overlapping ranges merge", [(ip("198.18.0.0"), ip("198.18.0.9")), (ip("198.18.0.5"), ip("198.18.0.20"))],
     ["198.18.0.0-198.18.0.20"]),
    ("apart ranges stay apart, in order", [(ip("198.18.0.9"), ip("198.18.0.9")), (ip("198.18.0.1"), ip("198.18.0.1"))],
     ["198.18.0.1", "198.18.0.9"]),
    ("every address", [(0, 2**32 - 1)], ["0.0.0.0/0"]),
    ("nothing", [], []),
]  # fmt: skip


@pytest.mark.parametrize(("ranges", "texts"), [t[1:] for t in TEXTS], ids=[t[0] for t in TEXTS])
def test_address_texts(ranges: list[tuple[int, int]], texts: list[str]) -> None:
    assert address_texts(ranges) == texts


BASE = ip("198.18.0.0")
# Ranges within a /22, so the addresses can be listed one by one.
ranges = st.lists(
    st.tuples(st.integers(0, 1023), st.integers(0, 300)).map(
        lambda r: (BASE + r[0], BASE + min(r[0] + r[1], 1023))
    ),
    max_size=6,
)


@given(ranges)
def test_the_texts_hold_exactly_the_addresses_of_the_ranges(
    given_ranges: list[tuple[int, int]],
) -> None:
    read = [address_interval(text, 4) for text in address_texts(given_ranges)]
    assert all(hi + 1 < lo for (_, hi), (lo, _) in itertools.pairwise(read))
    expected = {a for lo, hi in given_ranges for a in range(lo, hi + 1)}
    assert {a for lo, hi in read for a in range(lo, hi + 1)} == expected

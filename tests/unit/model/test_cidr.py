"""CIDRs convert exactly where the API server accepts them."""

from __future__ import annotations

import pytest

from podwall.model.cidr import to_network

CASES = [
    ("host bits are cleared", "10.0.0.1/8", "10.0.0.0/8"),
    ("leading zeros are decimal, as Go 1.16 parsed them", "010.0.0.0/08", "10.0.0.0/8"),
    ("IPv4-mapped IPv6 becomes IPv4", "::ffff:10.0.0.0/104", "10.0.0.0/8"),
    ("IPv6 keeps its prefix", "2001:db8::1/64", "2001:db8::/64"),
    ("upstream's podIP/4 form is a /4", "198.18.1.1/4", "192.0.0.0/4"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_to_network(text: str, expected: str) -> None:
    assert str(to_network(text)) == expected


@pytest.mark.parametrize("text", ["10.0.0.0", "10.0.0.0/33", "x/8"])
def test_rejects_what_the_api_server_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid CIDR"):
        to_network(text)

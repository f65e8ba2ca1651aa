"""Atoms.cut_along: whether a port range is a run of whole atoms."""

from __future__ import annotations

import pytest

from podwall.engine.atoms import Atoms
from podwall.model.ports import MAX_PORT, Protocol

TCP, UDP = Protocol.TCP, Protocol.UDP
ATOMS = Atoms([(TCP, 80, 80), (TCP, 8000, 8999)])

CASES = [
    ("an atom of its own", TCP, 80, 80, True),
    ("a named range", TCP, 8000, 8999, True),
    ("two atoms and the gap between them", TCP, 80, 8999, True),
    ("from the first port", TCP, 1, 79, True),
    ("to the last port", TCP, 9000, MAX_PORT, True),
    ("inside an atom", TCP, 8080, 8080, False),
    ("straddling the start of an atom", TCP, 79, 80, False),
    ("straddling the end of an atom", TCP, 8999, 9000, False),
    ("another protocol is cut apart", UDP, 80, 80, False),
    ("the whole of another protocol", UDP, 1, MAX_PORT, True),
]  # fmt: skip


@pytest.mark.parametrize(("proto", "lo", "hi", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_cut_along(proto: Protocol, lo: int, hi: int, expected: bool) -> None:
    assert ATOMS.cut_along(proto, lo, hi) is expected

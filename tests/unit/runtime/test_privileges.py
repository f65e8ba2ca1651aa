"""Reading capability sets from /proc status text."""

from __future__ import annotations

from podwall.runtime.standins.privileges import capability_sets

STATUS = """Name:\tpython
Uid:\t65534\t65534\t65534\t65534
CapInh:\t0000000000000000
CapPrm:\t0000000000000000
CapEff:\t0000000000000000
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
"""


def test_capability_sets_are_read_as_numbers() -> None:
    sets = capability_sets(STATUS)
    assert sets == {
        "CapInh": 0,
        "CapPrm": 0,
        "CapEff": 0,
        "CapBnd": 0x1FFFFFFFFFF,
        "CapAmb": 0,
    }

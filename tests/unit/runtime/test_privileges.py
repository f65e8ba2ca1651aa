"""Reading capability sets from /proc status text; which uid a stand-in drops to."""

from __future__ import annotations

import pytest

from podwall.runtime.standins.privileges import (
    NOBODY,
    POD_UID_ENV,
    PrivilegeError,
    capability_sets,
    drop_privileges,
    pod_user,
)

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


@pytest.mark.parametrize(
    ("environ", "uid"),
    [({POD_UID_ENV: "200007"}, 200007), ({}, NOBODY), ({POD_UID_ENV: "-1"}, NOBODY)],
    ids=["the pod's uid", "65534 without one", "65534 for a value that is not a uid"],
)
def test_a_stand_in_drops_to_the_pods_uid(environ: dict[str, str], uid: int) -> None:
    assert pod_user(environ) == uid


@pytest.mark.parametrize(("uid", "gid"), [(0, 200000), (200000, 0)], ids=["uid 0", "gid 0"])
def test_root_is_never_the_target(uid: int, gid: int) -> None:
    with pytest.raises(PrivilegeError, match="as root"):
        drop_privileges(uid, gid)

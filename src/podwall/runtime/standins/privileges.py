"""Dropping root for a stand-in: the same end state `setpriv` gives host commands.

A stand-in starts as root because the interpreter cannot be executed by the pod's user (it may
live under /root, mode 700). Before it handles any input it calls `drop_privileges()`: empty the
capability bounding set, set no_new_privs, clear supplementary groups, then set gid and uid to
the pod's (`PODWALL_POD_UID`, which `process` sets last in the stand-in's environment; 65534
when it is absent). Root is never a target. Changing every uid from 0 to
non-zero clears the permitted, effective and ambient sets (capabilities(7)); the inheritable set
is cleared explicitly. `verify_unprivileged()` then reads /proc/self/status and refuses to go on
if any capability set is not empty.

Modules are imported lazily by Python; after the drop the interpreter's own library directory
is unreadable, so a stand-in must import everything it uses before calling `drop_privileges()`.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import struct
from collections.abc import Mapping
from pathlib import Path

from podwall.runtime.errors import SandboxError

NOBODY = 65534
POD_UID_ENV = "PODWALL_POD_UID"

_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_CAPABILITY_VERSION_3 = 0x20080522
_CAP_SETS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")

_libc = ctypes.CDLL(None, use_errno=True)


class PrivilegeError(SandboxError, RuntimeError):
    """The process could not become the pod's uid/gid without capabilities."""


def pod_user(environ: Mapping[str, str]) -> int:
    """The uid (and gid) a stand-in becomes: the pod's, from its environment, else 65534."""
    text = environ.get(POD_UID_ENV, "")
    return int(text) if text.isdigit() else NOBODY


def drop_privileges(uid: int | None = None, gid: int | None = None) -> None:
    """Become `uid`/`gid` (default: `pod_user()` for both) with no capabilities, for good (if
    not root: only check)."""
    uid = pod_user(os.environ) if uid is None else uid
    gid = uid if gid is None else gid
    if uid == 0 or gid == 0:
        raise PrivilegeError("refusing to run a pod as root (uid or gid 0)")
    _warm_up()
    if os.geteuid() == 0:
        _drop_bounding_set()
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)
        _clear_inheritable()
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    verify_unprivileged()


def capability_sets(status: str | None = None) -> dict[str, int]:
    """The capability sets of this process (or of a /proc/PID/status text), by their status name."""
    text = Path("/proc/self/status").read_text() if status is None else status
    sets: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in _CAP_SETS:
            sets[key] = int(value.strip(), 16)
    return sets


def verify_unprivileged() -> None:
    """Raise PrivilegeError unless running as non-root with every capability set empty."""
    held = {name: value for name, value in capability_sets().items() if value}
    if os.geteuid() == 0 or os.getegid() == 0 or held:
        raise PrivilegeError(f"still privileged: euid={os.geteuid()} capabilities={held}")


def _warm_up() -> None:
    # socket.getaddrinfo() encodes every host name with the idna codec, which is looked up (and
    # its module imported) on first use: do it now, while the library is still readable.
    codecs.lookup("idna")


def _drop_bounding_set() -> None:
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _prctl(_PR_CAPBSET_DROP, cap)


def _clear_inheritable() -> None:
    # capset(2) with version 3: one header, two data structs (effective, permitted, inheritable).
    # Keep effective and permitted as they are (setresuid clears them), zero inheritable.
    header = struct.pack("Ii", _CAPABILITY_VERSION_3, 0)
    data = ctypes.create_string_buffer(24)
    if _libc.capget(header, data) != 0:
        raise PrivilegeError(f"capget: {os.strerror(ctypes.get_errno())}")
    eff0, prm0, _, eff1, prm1, _ = struct.unpack("6I", data.raw)
    cleared = struct.pack("6I", eff0, prm0, 0, eff1, prm1, 0)
    if _libc.capset(header, cleared) != 0:
        raise PrivilegeError(f"capset: {os.strerror(ctypes.get_errno())}")


def _prctl(option: int, arg: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        raise PrivilegeError(f"prctl({option}, {arg}): {os.strerror(ctypes.get_errno())}")

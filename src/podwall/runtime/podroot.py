"""The plan of a pod's own root: the host's root, entry by entry, and the image's files beside it.

A pod's PID 1 (`podinit`) gives the pod a root of its own: a tmpfs of the pod's, in which each
entry of the host's root (as the pod's mount namespace sees it) is made again at its own name: a
directory is the host's directory bound there recursively (with everything mounted under it:
/proc, /sys, /dev, /run, the pod's resolv.conf and hosts bound over /etc), a symlink is the same
symlink, any other file is the host's file bound there. Beside them, in the tmpfs only, are the
files of the pod's images at the images' paths (`/agnhost`): a path must not go through an entry
of the host's root, or writing it would write to the host; `plan_root` refuses one that does.

Binds, not an overlay of the host's root: a file the host replaces later (written aside and
renamed over, as podwall writes the cluster DNS records and its image files) must reach running
pods, and an overlay's lower layer changed underneath it is undefined (overlayfs.rst, "Changes
to underlying filesystems"); in practice the overlay keeps the old file and misses new ones.

Pure: it is given the host's root entries (`Entry`) and the image files' paths; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum
from pathlib import PurePosixPath
from typing import NamedTuple

from podwall.runtime.errors import SandboxError


class Kind(Enum):
    DIRECTORY = "directory"
    SYMLINK = "symlink"
    FILE = "file"  # anything else: a regular file, a socket, a device


# NamedTuples, not dataclasses: PID 1 imports this, and every import delays the pod's start.
class Entry(NamedTuple):
    """An entry of the host's root: its name, its kind and, for a symlink, its target."""

    name: str
    kind: Kind
    target: str = ""


class RootPlan(NamedTuple):
    """What the pod's root holds: the host's entries, in name order, and the image's files."""

    binds: tuple[Entry, ...]
    symlinks: tuple[Entry, ...]
    files: tuple[str, ...]


class PodRootError(SandboxError, ValueError):
    """An image file's path cannot be placed in the pod's root; the message names it."""


def plan_root(entries: Iterable[Entry], image_files: Sequence[str]) -> RootPlan:
    """The pod's root for these host root `entries` and image file paths."""
    ordered = sorted(entries, key=lambda e: e.name)
    for entry in ordered:
        if not _is_name(entry.name):
            raise PodRootError(f"the host's root has an entry named {entry.name!r}")
    host = {e.name for e in ordered}
    for path in image_files:
        check_image_path(path, host)
    return RootPlan(
        binds=tuple(e for e in ordered if e.kind is not Kind.SYMLINK),
        symlinks=tuple(e for e in ordered if e.kind is Kind.SYMLINK),
        files=tuple(sorted(image_files)),
    )


def check_image_path(path: str, host_names: set[str]) -> None:
    """Refuse `path` unless it is absolute, plain, and its first part is no entry of the host."""
    pure = PurePosixPath(path)
    parts = pure.parts[1:]
    if not pure.is_absolute() or not parts or str(pure) != path or ".." in parts:
        raise PodRootError(f"image file {path!r}: not a plain absolute path")
    if parts[0] in host_names:
        raise PodRootError(
            f"image file {path!r}: /{parts[0]} is the host's; podwall puts an image's files "
            "only at paths the host's root lacks"
        )


def _is_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\0" not in name

"""The plan of a pod's volume mounts in its own root: where each goes, and what is made for it.

The pod's PID 1 (`podinit`) mounts the pod's volumes once its root is made (`podroot`). A
mount path is one of:

- a path the pod's view already has (`/etc/nginx/nginx.conf` on a host with nginx): the
  volume is bound over it, in the pod's private mount namespace only;
- a path under a directory of the pod's own (its root's tmpfs: `/config`, `/data`; its
  private `/tmp`): the missing directories are made there and the volume bound on the last;
- a path whose parents stop inside a directory of the host (`/usr/share/nginx/html` on a host
  without nginx): that directory, the deepest that exists, is *spliced*: a tmpfs of the pod's
  is mounted over it, holding a bind of each of its entries (as `podroot` does for /), so the
  missing directories can be made in the tmpfs without writing to the host.

Refused (`MountPlanError`, naming the path): `/` and paths under /proc (the pod's /proc is
made afresh later), a path inside another mount path (podwall does not nest volume mounts), a
path through a file, a file volume onto a directory or a directory volume onto a file.

Pure: it is given each target's facts (`Target`: the kinds of the leading components of its
path that exist in the pod's view, symlinks already resolved); no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from pathlib import PurePosixPath
from typing import NamedTuple

from podwall.runtime.errors import SandboxError
from podwall.runtime.podroot import Kind


class Target(NamedTuple):
    """A mount's path in the pod and what of it exists there."""

    mount: int  # the mount's place in the pod's mount list
    path: str  # absolute, plain, symlinks resolved in the pod's view
    directory: bool  # the volume's source is a directory (else a file)
    existing: tuple[Kind, ...]  # the kinds of the path's leading components that exist


class Splice(NamedTuple):
    """A tmpfs over this host directory, with each of its entries bound again in it."""

    path: str


class Make(NamedTuple):
    """A directory (or an empty file) made at `path`, with its parents, in a tmpfs of the pod."""

    path: str
    directory: bool


class Bind(NamedTuple):
    """The source of mount `mount` bound at `path`."""

    mount: int
    path: str


Step = Splice | Make | Bind


class MountPlanError(SandboxError, ValueError):
    """A mount path cannot be placed in the pod's view; the message names it, `index` the
    mount (-1: none)."""

    def __init__(self, message: str, index: int = -1) -> None:
        super().__init__(message)
        self.index = index


def plan_mounts(host_names: Set[str], own: Set[str], targets: Iterable[Target]) -> list[Step]:
    """The steps that mount `targets` in a root whose top entries `host_names` are the host's
    and whose directories `own` are tmpfs of the pod's: splices first, then per target."""
    ordered = sorted(targets, key=lambda t: PurePosixPath(t.path).parts)
    splices: list[Splice] = []
    steps: list[Step] = []
    placed: list[str] = []
    for target in ordered:
        try:
            _check(target, placed)
            if len(target.existing) == len(PurePosixPath(target.path).parts) - 1:
                _check_kind(target)
        except MountPlanError as exc:
            raise MountPlanError(str(exc), target.mount) from None
        placed.append(target.path)
        parts = PurePosixPath(target.path).parts[1:]
        if len(target.existing) == len(parts):
            steps.append(Bind(target.mount, target.path))
            continue
        deepest = "/" + "/".join(parts[: len(target.existing)])
        spliced = {s.path for s in splices}
        ours = deepest == "/" or parts[0] not in host_names or deepest in own | spliced
        if not ours:
            splices.append(Splice(deepest))
        steps += [Make(target.path, target.directory), Bind(target.mount, target.path)]
    # Outer first: an inner splice then binds the entries of the outer's tmpfs.
    splices.sort(key=lambda s: (len(PurePosixPath(s.path).parts), s.path))
    return [*splices, *steps]


def _check(target: Target, placed: list[str]) -> None:
    path = PurePosixPath(target.path)
    parts = path.parts[1:]
    if not path.is_absolute() or str(path) != target.path or ".." in parts:
        raise MountPlanError(f"mountPath {target.path!r}: not a plain absolute path")
    if not parts:
        raise MountPlanError("mountPath '/': a volume cannot replace the pod's root")
    if parts[0] == "proc":
        raise MountPlanError(f"mountPath {target.path!r}: the pod's /proc is its own")
    for other in placed:
        if path == PurePosixPath(other):
            raise MountPlanError(f"mountPath {target.path!r}: two volumes mounted there")
        if path.is_relative_to(other):
            raise MountPlanError(
                f"mountPath {target.path!r} lies inside the mount at {other!r}: "
                "podwall does not nest volume mounts"
            )
    if len(target.existing) > len(parts):
        raise MountPlanError(f"mountPath {target.path!r}: more facts than components")
    for i, kind in enumerate(target.existing[:-1] if target.existing else ()):
        if kind is not Kind.DIRECTORY:
            at = "/" + "/".join(parts[: i + 1])
            raise MountPlanError(f"mountPath {target.path!r}: {at} is not a directory")
    short = target.existing and len(target.existing) < len(parts)
    if short and target.existing[-1] is not Kind.DIRECTORY:
        at = "/" + "/".join(parts[: len(target.existing)])
        raise MountPlanError(f"mountPath {target.path!r}: {at} is not a directory")


def _check_kind(target: Target) -> None:
    kind = target.existing[-1]
    if kind is Kind.SYMLINK:
        raise MountPlanError(f"mountPath {target.path!r}: a symlink (not resolved)")
    if target.directory and kind is not Kind.DIRECTORY:
        raise MountPlanError(
            f"mountPath {target.path!r} is a file in the pod, the volume a directory: "
            "not a directory"
        )
    if not target.directory and kind is Kind.DIRECTORY:
        raise MountPlanError(
            f"mountPath {target.path!r} is a directory in the pod, the volume (its subPath) "
            "a file: is a directory"
        )

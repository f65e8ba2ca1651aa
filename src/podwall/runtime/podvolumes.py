"""A pod's volumes on its node: the files the node writes for them, and what its PID 1 mounts.

The kubelet (`agent.podvolumes`) turns a pod's `spec.volumes` and its containers'
`volumeMounts` into `PodVolumes`; before the pod's PID 1 starts, `write` puts them under
`VOLUMES_ROOT/<pod netns>/`, a directory only root can traverse (as `serviceaccount` does
for the token):

- `v/<volume>/` per volume: the files of a configMap, secret, downwardAPI or projected volume
  (each at its path, with its mode), or the empty mount point of an emptyDir, on which the
  pod's PID 1 mounts a tmpfs of the pod's own (so what the pod writes never lands in the
  host's /run, and goes with the pod); for a hostPath, the same, used when the host lacks
  the path and its `type` lets the kubelet make it (`""`, DirectoryOrCreate, FileOrCreate):
  podwall never makes paths on this machine, so the pod gets one of its own instead;
- `mounts.json`: one line per mount for the pod's PID 1 (`podinit --volumes`): where in the
  pod, from which host path (a hostPath volume's own path), which subPath, read-only or not.

All the pod's containers share one mount view (the PID 1's), so a pod's mounts are the union
of its containers'; `agent.podvolumes` refuses two containers that want different things at
one path. `update` rewrites a running pod's files in place, each file renamed over its old
self (a ConfigMap or Secret changed: the pod's bind of the volume's directory sees them);
`remove` deletes the directory with the pod.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

VOLUMES_ROOT = Path("/run/podwall-volumes")
MANIFEST = "mounts.json"
EMPTY_DIR_BYTES = 64 * 1024 * 1024  # an emptyDir's tmpfs when it sets no sizeLimit


@dataclass(frozen=True, slots=True)
class VolumeFile:
    """One file of a volume: its path inside the volume, its bytes and its mode."""

    path: str
    data: bytes
    mode: int = 0o644


@dataclass(frozen=True, slots=True, kw_only=True)
class Volume:
    """A volume of the pod: files the node writes, an emptyDir, or a path of the host."""

    name: str
    files: tuple[VolumeFile, ...] = ()
    empty_dir_bytes: int | None = None  # an emptyDir: the size of its tmpfs
    host_path: str | None = None  # a hostPath: the host's path, bound as it is
    host_type: str = ""  # a hostPath's `type`, checked by the pod's PID 1

    @property
    def kind(self) -> str:
        if self.host_path is not None:
            return "hostPath"
        return "emptyDir" if self.empty_dir_bytes is not None else "files"


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount:
    """A volume at a path of the pod (a container's volumeMount)."""

    volume: str
    path: str
    sub_path: str = ""
    read_only: bool = False


@dataclass(frozen=True, slots=True)
class PodVolumes:
    volumes: tuple[Volume, ...]
    mounts: tuple[Mount, ...]


def directory(netns: str) -> Path:
    """Where the pod in `netns` has its volumes on the host."""
    return VOLUMES_ROOT / netns


def manifest_path(netns: str) -> Path:
    return directory(netns) / MANIFEST


def write(netns: str, volumes: PodVolumes) -> Path:
    """Write the pod's volume files and its mount list; the manifest's path."""
    VOLUMES_ROOT.mkdir(mode=0o700, exist_ok=True)
    VOLUMES_ROOT.chmod(0o700)
    root = directory(netns)
    (root / "v").mkdir(mode=0o755, parents=True, exist_ok=True)
    by_name = {v.name: v for v in volumes.volumes}
    for volume in volumes.volumes:
        # A hostPath's directory here is what stands in for a path the host lacks.
        _write_volume(root / "v" / volume.name, volume)
    entries = [_entry(root, m, by_name[m.volume]) for m in volumes.mounts]
    staging = root / f".{MANIFEST}.new"
    staging.write_text(json.dumps(entries, indent=1) + "\n")
    staging.chmod(0o600)
    staging.replace(root / MANIFEST)
    return root / MANIFEST


def _write_volume(target: Path, volume: Volume, uid: int | None = None) -> None:
    """The volume's files in `target`, each written aside and renamed over its old self, in
    place: a running pod's bind of the directory sees the new files (never half a file), and
    files no longer in the volume go. With `uid`, the files are that user's (the pod's, as
    its PID 1 made them)."""
    target.mkdir(mode=0o755, exist_ok=True)
    if volume.kind != "files":
        return  # the mount point of its tmpfs
    wanted = {PurePosixPath(f.path) for f in volume.files}
    for file in volume.files:
        path = target / file.path
        _make_parents(target, PurePosixPath(file.path), uid)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        staging = path.with_name(f"..{path.name}.new")
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(file.data)
            os.fchmod(out.fileno(), file.mode & 0o7777)
            if uid is not None:
                os.fchown(out.fileno(), uid, uid)
        staging.replace(path)
    _remove_others(target, wanted)


def _make_parents(top: Path, path: PurePosixPath, uid: int | None) -> None:
    current = top
    for part in path.parts[:-1]:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            current.unlink()
        if not current.exists():
            current.mkdir(mode=0o755)
            if uid is not None:
                os.chown(current, uid, uid)


def _remove_others(top: Path, wanted: set[PurePosixPath]) -> None:
    """Remove what `top` holds beyond the files `wanted` and their directories."""
    keep = {parent for path in wanted for parent in path.parents} | wanted
    for directory, dirs, files in os.walk(top, topdown=False):
        for name in (*files, *dirs):
            path = Path(directory, name)
            if PurePosixPath(path.relative_to(top)) in keep:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def update(netns: str, volumes: PodVolumes, uid: int | None) -> list[str]:
    """Rewrite, in place, the files of the pod's volumes that hold files (a ConfigMap or
    Secret changed); the names of those rewritten. Mounts by subPath keep their file, as
    upstream's do."""
    root = directory(netns) / "v"
    done = []
    for volume in volumes.volumes:
        if volume.kind == "files" and (root / volume.name).is_dir():
            _write_volume(root / volume.name, volume, uid)
            done.append(volume.name)
    return done


def _entry(root: Path, mount: Mount, volume: Volume) -> dict[str, Any]:
    source = volume.host_path if volume.host_path is not None else str(root / "v" / volume.name)
    return {
        "volume": volume.name,
        "kind": volume.kind,
        "path": mount.path,
        "source": source,
        "subPath": mount.sub_path,
        "readOnly": mount.read_only,
        "sizeBytes": volume.empty_dir_bytes,
        "hostType": volume.host_type,
        "standIn": str(root / "v" / volume.name),
    }


def remove(netns: str) -> None:
    shutil.rmtree(directory(netns), ignore_errors=True)


def is_relative_path(path: str) -> bool:
    """A path inside a volume: relative, plain, no `..` (as the API validates subPath and
    items' paths)."""
    pure = PurePosixPath(path)
    return bool(path) and not pure.is_absolute() and ".." not in pure.parts and "\0" not in path

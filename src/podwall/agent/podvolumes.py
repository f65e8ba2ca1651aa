"""A pod's volumes as the kubelet makes them (pkg/volume/{configmap,secret,downwardapi,projected,
emptydir,hostpath}): `spec.volumes` and the containers' `volumeMounts`, as the node's
`runtime.podvolumes.PodVolumes`.

- configMap, secret: each key a file (or `items`: key → path, with its `mode`), mode
  `defaultMode` (0644 unless told); a missing object, or a missing key of `items`, unless
  `optional`, is a VolumeError in the kubelet's words (`configmap "x" not found`), a FailedMount;
- downwardAPI: `items` of `fieldRef` (metadata.name, namespace, uid, labels, annotations,
  labels['k'], and the rest `podenv.field_value` serves); `resourceFieldRef` is left out;
- projected: those sources in one directory, and `serviceAccountToken` (the pod's token:
  audience and expiration are not podwall's to choose);
- emptyDir: a tmpfs of the pod's (`sizeLimit`, 64Mi unless told; `medium` changes nothing, it is
  memory either way);
- hostPath: the node's path as it is, its `type` checked by the pod's PID 1 (a path the host
  lacks that the kubelet would make is one of the pod's own instead: `runtime.podvolumes`).

Every container of a podwall pod shares one mount view, so the pod's mounts are the union of its
containers': two containers that mount different volumes (or subPaths) at one path are a
VolumeError, and a path is read-only unless some container mounts it writable. configMap,
secret, downwardAPI and projected volumes are read-only always, as upstream. A bad subPath or
`subPathExpr` is a CreateContainerConfigError. Other volume types (persistentVolumeClaim, nfs,
csi, ...) are skipped: `PodVolumes` leaves them and their mounts out, and `skipped` names them;
so are mounts of a volume the pod does not have (a StatefulSet's pods mount its
volumeClaimTemplates, which podwall does not provision: they run without those volumes).
Pure: the objects come from `lookup` (a Secret's bytes that are not UTF-8 as `surrogateescape`,
so a binary key is written exactly).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podwall.agent import podenv
from podwall.controllers.qos import parse_quantity
from podwall.errors import PodwallError
from podwall.runtime.podvolumes import (
    EMPTY_DIR_BYTES,
    Mount,
    PodVolumes,
    Volume,
    VolumeFile,
    is_relative_path,
)

Object = Mapping[str, Any]
FAILED_MOUNT = "FailedMount"
CONFIG_ERROR = "CreateContainerConfigError"
DEFAULT_MODE = 0o644
READ_ONLY_KINDS = ("configMap", "secret", "downwardAPI", "projected")
SERVED = (*READ_ONLY_KINDS, "emptyDir", "hostPath")
HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                   "CharDevice", "BlockDevice")  # fmt: skip
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_WHOLE = {"metadata.labels": "labels", "metadata.annotations": "annotations"}


class VolumeError(PodwallError):
    """The pod's volumes cannot be made: why (the message), for which volume, and the reason
    its containers wait with (FailedMount: the objects may come; else the spec is wrong)."""

    def __init__(self, message: str, *, volume: str = "", reason: str = FAILED_MOUNT) -> None:
        super().__init__(message)
        self.volume = volume
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Made:
    volumes: PodVolumes
    skipped: tuple[str, ...]  # volumes of a type podwall does not serve, or mounted but absent


def pod_volumes(pod: Object, lookup: podenv.Lookup, token: str | None = None) -> Made:
    """The pod's volumes and mounts; VolumeError when they cannot be made."""
    spec = pod.get("spec") or {}
    volumes, skipped, kinds = [], [], {}
    for entry in spec.get("volumes") or ():
        name = str(entry.get("name") or "")
        if _NAME.match(name) is None:
            raise VolumeError(f"volume name {name!r}: not a DNS label", reason=CONFIG_ERROR)
        kind = next((k for k in SERVED if isinstance(entry.get(k), dict)), None)
        if kind is None:
            skipped.append(name)
            continue
        kinds[name] = kind
        volumes.append(_volume(pod, name, kind, entry[kind], lookup, token))
    containers = [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]
    mounts = _mounts(containers, kinds, set(skipped))
    named = {str(m.get("name")) for c in containers for m in c.get("volumeMounts") or ()}
    skipped += sorted(named - set(kinds) - set(skipped))
    return Made(PodVolumes(tuple(volumes), mounts), tuple(skipped))


def _volume(
    pod: Object, name: str, kind: str, source: Object, lookup: podenv.Lookup, token: str | None
) -> Volume:
    if kind == "emptyDir":
        return Volume(name=name, empty_dir_bytes=_size(name, source.get("sizeLimit")))
    if kind == "hostPath":
        path = str(source.get("path") or "")
        if not path.startswith("/"):
            raise VolumeError(f"hostPath {path!r}: not absolute", volume=name, reason=CONFIG_ERROR)
        kind_ = str(source.get("type") or "")
        if kind_ not in HOST_PATH_TYPES:
            message = f"hostPath type {kind_!r}: not one of {', '.join(HOST_PATH_TYPES[1:])}"
            raise VolumeError(message, volume=name, reason=CONFIG_ERROR)
        return Volume(name=name, host_path=path, host_type=kind_)
    mode = _mode(source.get("defaultMode"), DEFAULT_MODE)
    try:
        if kind == "projected":
            files = _projected(pod, source, mode, lookup, token)
        elif kind == "downwardAPI":
            files = _downward(pod, source, mode)
        else:
            files = _object_files(kind, source, mode, lookup)
    except VolumeError as exc:
        raise VolumeError(str(exc), volume=name, reason=exc.reason) from None
    _check_paths(name, files)
    return Volume(name=name, files=files)


def _object_files(
    kind: str, source: Object, mode: int, lookup: podenv.Lookup
) -> tuple[VolumeFile, ...]:
    """A configMap's or secret's files (a volume's, or a projected source's)."""
    title = "ConfigMap" if kind == "configMap" else "Secret"
    # A secret volume names it `secretName`, a projected secret source `name`.
    name = str((kind == "secret" and source.get("secretName")) or source.get("name") or "")
    optional = source.get("optional") is True
    data = lookup(title, name)
    if data is None:
        if optional:
            return ()
        raise VolumeError(f'{title.lower()} "{name}" not found')
    items = source.get("items")
    if not items:
        return tuple(VolumeFile(key, _bytes(value), mode) for key, value in sorted(data.items()))
    files = []
    for item in items:
        key = str(item.get("key") or "")
        if key not in data:
            if optional:
                continue
            what = "config key" if kind == "configMap" else "secret key"
            raise VolumeError(f"{title.lower()} references non-existent {what}: {key}")
        path = str(item.get("path") or "")
        files.append(VolumeFile(path, _bytes(data[key]), _mode(item.get("mode"), mode)))
    return tuple(files)


def _bytes(value: str) -> bytes:
    """A value's bytes: `lookup` gives bytes that are not UTF-8 as `surrogateescape`."""
    return value.encode(errors="surrogateescape")


def _downward(pod: Object, source: Object, mode: int) -> tuple[VolumeFile, ...]:
    files = []
    for item in source.get("items") or ():
        ref = item.get("fieldRef")
        if not isinstance(ref, dict):
            continue  # resourceFieldRef: not served
        value = _field(pod, str(ref.get("fieldPath") or ""))
        path = str(item.get("path") or "")
        files.append(VolumeFile(path, value.encode(), _mode(item.get("mode"), mode)))
    return tuple(files)


def _field(pod: Object, path: str) -> str:
    """A downward API file's content; labels and annotations whole as `k="v"` lines, sorted
    (fieldpath.FormatMap)."""
    if path in _WHOLE:
        values = (pod.get("metadata") or {}).get(_WHOLE[path]) or {}
        return "\n".join(f"{k}={json.dumps(str(values[k]))}" for k in sorted(values))
    value = podenv.field_value(pod, path)
    if value is None:
        raise VolumeError(f"fieldPath {path!r} is not supported", reason=CONFIG_ERROR)
    return value


def _projected(
    pod: Object, source: Object, mode: int, lookup: podenv.Lookup, token: str | None
) -> tuple[VolumeFile, ...]:
    files: list[VolumeFile] = []
    for part in source.get("sources") or ():
        for kind in ("configMap", "secret"):
            if isinstance(part.get(kind), dict):
                files += _object_files(kind, part[kind], mode, lookup)
        if isinstance(part.get("downwardAPI"), dict):
            files += _downward(pod, part["downwardAPI"], mode)
        account = part.get("serviceAccountToken")
        if isinstance(account, dict):
            if token is None:
                raise VolumeError("the pod has no service account token to project")
            files.append(VolumeFile(str(account.get("path") or ""), token.encode(), mode))
    return tuple(files)


def _check_paths(volume: str, files: Sequence[VolumeFile]) -> None:
    seen: set[str] = set()
    for file in files:
        if not is_relative_path(file.path):
            message = f"path {file.path!r}: must be relative and may not contain '..'"
            raise VolumeError(message, volume=volume, reason=CONFIG_ERROR)
        if file.path in seen:
            message = f"path {file.path!r} is written twice"
            raise VolumeError(message, volume=volume, reason=CONFIG_ERROR)
        seen.add(file.path)


def _mounts(
    containers: Sequence[Object], kinds: Mapping[str, str], skipped: set[str]
) -> tuple[Mount, ...]:
    """The union of the containers' volumeMounts, by path."""
    by_path: dict[str, Mount] = {}
    for container in containers:
        for entry in container.get("volumeMounts") or ():
            mount = _mount(str(container.get("name")), entry, kinds, skipped)
            if mount is None:
                continue
            known = by_path.get(mount.path)
            if known is None:
                by_path[mount.path] = mount
            elif (known.volume, known.sub_path) != (mount.volume, mount.sub_path):
                raise VolumeError(
                    f"mountPath {mount.path!r}: volumes {known.volume!r} and {mount.volume!r} "
                    "both mounted there; a podwall pod's containers share one mount view",
                    volume=mount.volume,
                    reason=CONFIG_ERROR,
                )
            elif not mount.read_only:
                by_path[mount.path] = mount
    return tuple(by_path[p] for p in sorted(by_path))


def _mount(
    container: str, entry: Object, kinds: Mapping[str, str], skipped: set[str]
) -> Mount | None:
    name, path = str(entry.get("name") or ""), str(entry.get("mountPath") or "")
    sub = str(entry.get("subPath") or "")
    where = f"container {container!r}: volumeMount {name!r}"
    if name in skipped or name not in kinds:
        return None
    if entry.get("subPathExpr"):
        raise VolumeError(
            f"{where}: subPathExpr is not supported", volume=name, reason=CONFIG_ERROR
        )
    if sub and not is_relative_path(sub):
        message = f"{where}: subPath {sub!r} must be relative and may not contain '..'"
        raise VolumeError(message, volume=name, reason=CONFIG_ERROR)
    if not path.startswith("/"):
        message = f"{where}: mountPath {path!r} must be absolute"
        raise VolumeError(message, volume=name, reason=CONFIG_ERROR)
    read_only = entry.get("readOnly") is True or kinds[name] in READ_ONLY_KINDS
    return Mount(volume=name, path=_normal(path), sub_path=sub, read_only=read_only)


def _normal(path: str) -> str:
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return "/" + "/".join(parts)


def _mode(value: Any, default: int) -> int:
    return value & 0o777 if type(value) is int and value >= 0 else default


def _size(volume: str, limit: Any) -> int:
    if limit is None:
        return EMPTY_DIR_BYTES
    try:
        size = int(parse_quantity(limit))
    except ValueError as exc:
        raise VolumeError(f"sizeLimit: {exc}", volume=volume, reason=CONFIG_ERROR) from None
    return max(size, 4096)

"""A pod's PID 1: it makes the pod's private view of the host, then reaps orphans until killed.

`process` starts it, as root, as the first process of the pod's own PID, mount, UTS and IPC
namespaces (`unshare --pid --fork --mount --uts --ipc` inside the pod's network namespace).
Before it says `ready <host pid>` on stdout it has:

- made the pod a root of its own (`make_root`, planned by `podroot`): a tmpfs of the pod's in
  which each entry of the host's root is bound again at its own name (directories recursively,
  with every mount under them: /proc, /sys, /dev, /run, the pod's resolv.conf and hosts over
  /etc), its symlinks made again, and the files of the pod's images (`--file`, from
  `imagefiles.pod_files`: `/agnhost`) copied, root-owned, mode 0755, at paths the host's root
  lacks; then `pivot_root` into it, and the old root detached. Those files live in the pod's
  tmpfs: the host's root and other pods never see them;
- with `--service-account DIR`, mounted a tmpfs of its own on /var/run/secrets and bound DIR
  (the pod's token, ca.crt and namespace: `serviceaccount`) at
  /var/run/secrets/kubernetes.io/serviceaccount;
- made every mount read-only (mount_setattr(2) on / with AT_RECURSIVE: the host's system, its
  /etc with the pod's resolv.conf and hosts bound over it, /sys, /dev, /run, the service
  account's files), in this mount namespace only; then the root's own tmpfs alone writable
  again, its top directory the pod user's (`open_root`), as a container's root file system
  takes files: what the pod writes at / stays in its 64 MiB tmpfs, gone with the pod;
- replaced the host's /proc with one of the pod's PID namespace, so `ps` and `ls /proc` show
  the pod's processes only;
- mounted a private tmpfs on /tmp, /var/tmp and /dev/shm (writable by everyone in the pod, gone
  with the pod, invisible to the host and to other pods); when podwall itself runs from under one
  of them (a checkout or a venv in /tmp), those directories are bound back at their own paths,
  read-only, since the pod's processes and stand-ins run from them;
- with `--volumes FILE` (the pod's mount list, written by the node: `podvolumes`), mounted each
  volume at its mount path. Each source is cloned first, while the host's root is still / (a
  hostPath of `/` is the host's root, not the pod's); an emptyDir first gets a tmpfs of the
  pod's, mode 0777, on its (empty) directory on the node, so its contents never reach the host;
  the files of configMap, secret, downwardAPI and projected volumes are made the pod user's,
  as a container image's root user would own them; a hostPath is checked against its `type`
  in the kubelet's words, and one the host lacks that the kubelet would make (no type,
  DirectoryOrCreate, FileOrCreate) is the pod's own on a tmpfs, never made on the host.
  Then, once the root is open, `mountplan` says where each goes: over a path the pod's view
  has (in this mount namespace only, whose propagation is private: the host's path is
  unchanged), in a directory of the pod's own (its root's tmpfs, its /tmp), or in a host
  directory *spliced*: a tmpfs mounted over the deepest host directory that exists on the
  path, holding a bind of each of its entries (as the root holds the host's), so the missing
  directories are made in the pod's tmpfs and never in the host's. Mounts that say
  `readOnly` (all configMap, secret, downwardAPI and projected ones) and the spliced tmpfs
  are made read-only; a mount path refused (`mountplan`), a missing source or a hostPath of
  the wrong type is a SetupError naming the volume;
- set the pod's hostname;
- dropped to the pod's uid and gid with no capabilities (`standins.privileges`).

Why a root of its own: an image's paths are often ones the host lacks (`/agnhost`), and a file
there needs a writable root, which only a root of the pod's own gives without writing to the
host. Why binds of the host's entries and not an overlay with the host's root as its lower
layer (tried first): overlayfs leaves undefined what a pod sees when the host changes a lower
file, and in practice a pod kept the old content of a file the host replaced by rename (the
cluster DNS records: `test_cluster_dns_rereads_its_records` failed) and could not open files
made after it looked; a bind is the host's own directory, always current. It costs one tmpfs and
one bind per entry of / (a few milliseconds); a new entry made in the host's root later is not
seen by pods already running, and an image file cannot go inside a host directory (`podroot`
refuses, rather than write through the bind to the host). Every step that fails raises
SetupError: PID 1 exits and the pod does not start, so no pod ever runs with a half-made root.

Containers and `kubectl exec` join these namespaces (`process.pod_argv`). Orphans in the pod are
reparented to PID 1, which reaps them. The kernel delivers to a namespace's PID 1 only the
signals it handles, and this one handles none: nothing in the pod can stop it. `process` stops
the pod with SIGKILL, and the kernel then kills every process left in the pod's PID namespace.

Run as `python -I -m podwall.runtime.podinit --uid UID --gid GID --hostname NAME
[--service-account DIR] [--volumes FILE] [--file POD_PATH=HOST_PATH]...`.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import signal
import socket
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, NoReturn

from podwall.runtime import mountplan, podroot, serviceaccount
from podwall.runtime.errors import SandboxError
from podwall.runtime.standins.privileges import PrivilegeError, drop_privileges

PRIVATE_TMPFS = ("/tmp", "/var/tmp", "/dev/shm")
TMPFS_OPTIONS = b"mode=1777,size=64m"

# The same numbers on every architecture (asm-generic and x86 share them from 424 on).
_SYS_OPEN_TREE, _SYS_MOVE_MOUNT, _SYS_MOUNT_SETATTR = 428, 429, 442
_OPEN_TREE_CLONE, _OPEN_TREE_CLOEXEC = 0x1, os.O_CLOEXEC
_AT_SYMLINK_NOFOLLOW = 0x100
_MOVE_MOUNT_F_EMPTY_PATH = 0x4
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000
_MOUNT_ATTR_RDONLY = 0x1
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 0x2, 0x4, 0x8
_MS_BIND, _MS_REC = 0x1000, 0x4000
_MNT_DETACH = 0x2
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
NEW_ROOT = "/tmp"  # where the pod's root is made, in the old root (which is then detached)
ROOT_TMPFS_OPTIONS = b"mode=0755,size=64m"

_libc = ctypes.CDLL(None, use_errno=True)


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


class SetupError(SandboxError, RuntimeError):
    """The pod's view could not be made; the pod must not start."""


def host_pid(status: str) -> int:
    """This process's pid in the outermost PID namespace, from a /proc/self/status text read
    through the host's /proc (`NSpid:` lists it first, the pod's own pid 1 last)."""
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key == "NSpid":
            return int(value.split()[0])
    raise SetupError("no NSpid in /proc/self/status")


def make_root(files: Mapping[str, bytes]) -> frozenset[str]:
    """The pod's own root (see the module docstring), with `files` at their paths in it; the
    names of the host's entries in it."""
    try:
        plan = podroot.plan_root(host_root_entries(), sorted(files))
    except podroot.PodRootError as exc:
        raise SetupError(f"making the pod's root: {exc}") from None
    # Copies of the host's trees, taken before the root's tmpfs is mounted (under /tmp, which a
    # bind made later would copy too, tmpfs and all), attached once it holds their mount points.
    trees: list[int] = []
    try:
        for entry in plan.binds:
            trees.append(_clone_tree(f"/{entry.name}", entry.kind is podroot.Kind.DIRECTORY))
        _mount(b"tmpfs", NEW_ROOT, b"tmpfs", _MS_NOSUID | _MS_NODEV, ROOT_TMPFS_OPTIONS)
        for path in plan.files:  # first: no host directory is attached in the tmpfs yet
            _write_file(Path(NEW_ROOT + path), files[path])
        for entry, tree in zip(plan.binds, trees, strict=True):
            _attach(tree, entry, Path(NEW_ROOT, entry.name))
        for entry in plan.symlinks:
            Path(NEW_ROOT, entry.name).symlink_to(entry.target)
    finally:
        for tree in trees:
            os.close(tree)
    _pivot_root(NEW_ROOT)
    return frozenset(e.name for e in (*plan.binds, *plan.symlinks))


def read_files(specs: Sequence[str]) -> dict[str, bytes]:
    """`POD_PATH=HOST_PATH` each: the host file's content, by its path in the pod."""
    files = {}
    for spec in specs:
        path, sep, source = spec.partition("=")
        if not sep or not source:
            raise SetupError(f"--file {spec!r}: not POD_PATH=HOST_PATH")
        files[path] = Path(source).read_bytes()
    return files


def host_root_entries() -> list[podroot.Entry]:
    """The entries of / as this mount namespace sees it."""
    entries = []
    with os.scandir("/") as found:
        for entry in found:
            if entry.is_symlink():
                entries.append(podroot.Entry(entry.name, podroot.Kind.SYMLINK, os.readlink(entry)))
            elif entry.is_dir(follow_symlinks=False):
                entries.append(podroot.Entry(entry.name, podroot.Kind.DIRECTORY))
            else:
                entries.append(podroot.Entry(entry.name, podroot.Kind.FILE))
    return entries


def _clone_tree(path: str, recursive: bool) -> int:
    """A detached copy of the mount at `path` (with those under it if `recursive`): open_tree(2)."""
    flags = _OPEN_TREE_CLONE | _OPEN_TREE_CLOEXEC | _AT_SYMLINK_NOFOLLOW
    fd = int(
        _libc.syscall(_SYS_OPEN_TREE, _AT_FDCWD, path.encode(), flags | _AT_RECURSIVE * recursive)
    )
    if fd < 0:
        _fail(f"copying the host's {path}")
    return fd


def _attach(tree: int, entry: podroot.Entry, target: Path) -> None:
    if entry.kind is podroot.Kind.DIRECTORY:
        target.mkdir(mode=0o755)
    else:
        target.touch(mode=0o644)
    if _libc.syscall(
        _SYS_MOVE_MOUNT, tree, b"", _AT_FDCWD, str(target).encode(), _MOVE_MOUNT_F_EMPTY_PATH
    ):
        _fail(f"binding the host's /{entry.name}")


def _write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o755)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        os.fchmod(out.fileno(), 0o755)  # whatever the umask


def _pivot_root(new_root: str) -> None:
    """`new_root` becomes / and the old root goes (runc's pivot_root(".", ".") then detach)."""
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise SetupError(f"pivot_root: no syscall number known for {platform.machine()}")
    os.chdir(new_root)
    if _libc.syscall(number, b".", b"."):
        _fail(f"pivot_root into {new_root}")
    if _libc.umount2(b".", _MNT_DETACH):  # the old root, now stacked on the new one
        _fail("detaching the old root")
    os.chdir("/")


def mount_service_account(source: Path) -> None:
    """`source` at the service account's path, on a tmpfs of the pod's own (the host's
    /var/run/secrets is an empty directory, the mount point)."""
    point = serviceaccount.MOUNT_POINT
    _mount(b"tmpfs", str(point), b"tmpfs", _MS_NOSUID | _MS_NODEV, b"mode=0755,size=1m")
    target = Path(serviceaccount.MOUNT_PATH)
    target.mkdir(mode=0o755, parents=True)
    for parent in target.relative_to(point).parents:
        (point / parent).chmod(0o755)
    target.chmod(0o755)
    _mount(str(source).encode(), str(target), b"", _MS_BIND, None)


_VOLUME_KEYS = {
    "volume", "kind", "path", "source", "subPath", "readOnly", "sizeBytes", "hostType", "standIn"
}  # fmt: skip
_STAND_IN_BYTES = 64 * 1024 * 1024
SPLICE_TMPFS_BYTES = 1024 * 1024
_SPLICES = list(range(4096, 0, -1))  # staging directories' numbers, taken in turn


def read_volumes(path: Path) -> list[dict[str, Any]]:
    """The pod's mount list (`podvolumes.write`'s `mounts.json`)."""
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SetupError(f"reading the pod's volumes {path}: {exc}") from None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and set(e) == _VOLUME_KEYS for e in entries
    ):
        raise SetupError(f"{path}: not a list of mounts")
    return entries


def prepare_volumes(entries: Sequence[Mapping[str, Any]], uid: int) -> list[tuple[int, bool]]:
    """Each mount's source, cloned while the host's root is still / (a hostPath of `/` is the
    host's root), with whether it is a directory. An emptyDir gets its tmpfs first (once, on
    its host directory, in this mount namespace only); a volume of files is made the pod
    user's, as the root user of a container image would own it; a hostPath is checked
    against its `type` (`_host_source`)."""
    trees: list[tuple[int, bool]] = []
    done: set[str] = set()
    try:
        for entry in entries:
            source, kind = str(entry["source"]), entry["kind"]
            if kind == "hostPath":
                source = _host_source(entry, uid, done)
            elif source not in done and kind == "emptyDir":
                _own_tmpfs(source, int(entry["sizeBytes"]), 0o777)
            elif source not in done and kind == "files":
                _chown_tree(source, uid)
            done.add(source)
            path = _volume_source(entry, source, uid)
            directory = os.path.isdir(path)
            trees.append((_clone_tree(path, recursive=directory), directory))
    except BaseException:
        for tree, _ in trees:
            os.close(tree)
        raise
    return trees


def _own_tmpfs(directory: str, size: int, mode: int) -> None:
    options = f"mode={mode:o},size={size}".encode()
    _mount(b"tmpfs", directory, b"tmpfs", _MS_NOSUID | _MS_NODEV, options)


_HOST_TYPES = {
    "Directory": (stat.S_ISDIR, "a directory"),
    "DirectoryOrCreate": (stat.S_ISDIR, "a directory"),
    "File": (stat.S_ISREG, "a file"),
    "FileOrCreate": (stat.S_ISREG, "a file"),
    "Socket": (stat.S_ISSOCK, "a socket file"),
    "CharDevice": (stat.S_ISCHR, "a character device"),
    "BlockDevice": (stat.S_ISBLK, "a block device"),
}


def _host_source(entry: Mapping[str, Any], uid: int, done: set[str]) -> str:
    """A hostPath's source: the host's path, of its `type` (the kubelet's check, in its
    words); a path the host lacks, when the kubelet would make it (no type, or `...OrCreate`),
    is one of the pod's own instead, on a tmpfs of the pod's (its `standIn` directory), the
    pod user's: podwall never makes paths on this machine."""
    path, kind = str(entry["source"]), str(entry["hostType"])
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    check = _HOST_TYPES.get(kind)
    if mode is not None and (check is None or check[0](mode)):
        return path
    if mode is None and kind in ("", "DirectoryOrCreate", "FileOrCreate"):
        stand_in = str(entry["standIn"])
        if stand_in not in done:
            _own_tmpfs(stand_in, _STAND_IN_BYTES, 0o755)
            os.chown(stand_in, uid, uid)
            done.add(stand_in)
        if kind != "FileOrCreate":
            return stand_in
        file = Path(stand_in, PurePosixPath(path).name or "file")
        file.touch(mode=0o644)
        os.chown(file, uid, uid)
        return str(file)
    what = check[1] if check is not None else "there"
    raise SetupError(
        f"volume {entry['volume']!r}: hostPath type check failed: {path} is not {what}"
    )


def _volume_source(entry: Mapping[str, Any], source: str, uid: int) -> str:
    """The path a mount binds: `source`, or the subPath in it (made, in an emptyDir, the pod
    user's)."""
    sub = str(entry["subPath"])
    where = f"volume {entry['volume']!r}"
    if entry["kind"] == "emptyDir" and sub:
        current = Path(source)
        for part in PurePosixPath(sub).parts:
            current = current / part
            if not current.is_dir():
                current.mkdir(mode=0o755)
                os.chown(current, uid, uid)
    path = os.path.realpath(os.path.join(source, sub) if sub else source)
    if entry["kind"] != "hostPath" and not Path(path).is_relative_to(os.path.realpath(source)):
        raise SetupError(f"{where}: subPath {sub!r} leaves the volume")
    if not os.path.exists(path):
        raise SetupError(f"{where}: {path} does not exist on the node")
    return path


def _chown_tree(top: str, uid: int) -> None:
    os.lchown(top, uid, uid)
    for directory, dirs, files in os.walk(top):
        for name in (*dirs, *files):
            os.lchown(os.path.join(directory, name), uid, uid)


def mount_volumes(
    entries: Sequence[Mapping[str, Any]],
    trees: Sequence[tuple[int, bool]],
    host_names: frozenset[str],
    own: Sequence[str],
) -> None:
    """Each prepared source at its mount path in the pod's root (`mountplan`'s steps): the
    volumes that say so, and every spliced directory, read-only."""
    targets = []
    for index, (entry, (_, directory)) in enumerate(zip(entries, trees, strict=True)):
        path = os.path.realpath(str(entry["path"]))
        targets.append(mountplan.Target(index, path, directory, _existing(path)))
    try:
        steps = mountplan.plan_mounts(host_names, {os.path.realpath(o) for o in own}, targets)
    except mountplan.MountPlanError as exc:
        raise SetupError(_volume_said(entries, exc)) from None
    spliced = []
    for step in steps:
        if isinstance(step, mountplan.Splice):
            _splice(step.path)
            spliced.append(step.path)
        elif isinstance(step, mountplan.Make):
            _make(step.path, step.directory)
        else:
            entry = entries[step.mount]
            tree, _ = trees[step.mount]
            if _libc.syscall(
                _SYS_MOVE_MOUNT, tree, b"", _AT_FDCWD, step.path.encode(), _MOVE_MOUNT_F_EMPTY_PATH
            ):
                _fail(f"mounting volume {entry['volume']!r} at {step.path}")
            if entry["readOnly"]:
                _read_only(step.path, recursive=True)
    for path in spliced:
        _read_only(path, recursive=False)


def _volume_said(entries: Sequence[Mapping[str, Any]], exc: mountplan.MountPlanError) -> str:
    if 0 <= exc.index < len(entries):
        return f"volume {entries[exc.index]['volume']!r}: {exc}"
    return f"mounting the pod's volumes: {exc}"


def _existing(path: str) -> tuple[podroot.Kind, ...]:
    """The kinds of `path`'s leading components that exist, up to the first that does not."""
    kinds = []
    current = Path("/")
    for part in PurePosixPath(path).parts[1:]:
        current = current / part
        try:
            mode = current.lstat().st_mode
        except FileNotFoundError:
            break
        if stat.S_ISDIR(mode):
            kinds.append(podroot.Kind.DIRECTORY)
        elif stat.S_ISLNK(mode):
            kinds.append(podroot.Kind.SYMLINK)
        else:
            kinds.append(podroot.Kind.FILE)
    return tuple(kinds)


def _splice(directory: str) -> None:
    """A tmpfs over `directory` holding a bind of each of its entries (its symlinks made
    again): the pod can then make paths in it without writing to the host. The tmpfs is filled
    beside it (in the pod's root) and then moved over it, so one entry's copy is held at a time
    however many entries it has."""
    before = os.stat(directory)
    staging = Path(f"/.podwall-splice-{_SPLICES.pop()}")
    staging.mkdir(mode=0o700)
    options = f"mode={before.st_mode & 0o7777:o},size={SPLICE_TMPFS_BYTES}".encode()
    _mount(b"tmpfs", str(staging), b"tmpfs", _MS_NOSUID | _MS_NODEV, options)
    os.chown(staging, before.st_uid, before.st_gid)
    with os.scandir(directory) as found:
        for item in found:
            if item.is_symlink():
                Path(staging, item.name).symlink_to(os.readlink(item.path))
                continue
            is_dir = item.is_dir(follow_symlinks=False)
            kind = podroot.Kind.DIRECTORY if is_dir else podroot.Kind.FILE
            tree = _clone_tree(item.path, is_dir)
            try:
                _attach(tree, podroot.Entry(item.name, kind), Path(staging, item.name))
            finally:
                os.close(tree)
    if _libc.syscall(_SYS_MOVE_MOUNT, _AT_FDCWD, bytes(staging), _AT_FDCWD, directory.encode(), 0):
        _fail(f"moving the spliced tmpfs over {directory}")
    staging.rmdir()


def _make(path: str, directory: bool) -> None:
    target = Path(path)
    target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    if directory:
        target.mkdir(mode=0o755, exist_ok=True)
    else:
        target.touch(mode=0o644)


def _read_only(path: str, *, recursive: bool) -> None:
    attr = _MountAttr(attr_set=_MOUNT_ATTR_RDONLY)
    flags = _AT_RECURSIVE if recursive else 0
    if _libc.syscall(
        _SYS_MOUNT_SETATTR, _AT_FDCWD, path.encode(), flags, ctypes.byref(attr), ctypes.sizeof(attr)
    ):
        _fail(f"making {path} read-only")


def make_view(hostname: str) -> None:
    """Everything read-only, a /proc of this PID namespace, private tmpfs, the hostname."""
    attr = _MountAttr(attr_set=_MOUNT_ATTR_RDONLY)
    if _libc.syscall(
        _SYS_MOUNT_SETATTR, _AT_FDCWD, b"/", _AT_RECURSIVE, ctypes.byref(attr), ctypes.sizeof(attr)
    ):
        _fail("making / read-only")
    if _libc.umount2(b"/proc", _MNT_DETACH):  # the host's /proc goes, not merely covered
        _fail("unmounting the host's /proc")
    _mount(b"proc", "/proc", b"proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, None)
    for path in PRIVATE_TMPFS:
        if Path(path).is_dir():
            _private_tmpfs(path, needed_under(path, _own_roots()))
    socket.sethostname(hostname)


def open_root(uid: int, gid: int) -> None:
    """The root's own tmpfs writable again, its top directory the pod user's: a container's
    root file system takes files (`wget` saving `index.html` in `/`), while every host tree
    bound in it stays read-only."""
    attr = _MountAttr(attr_clr=_MOUNT_ATTR_RDONLY)
    if _libc.syscall(
        _SYS_MOUNT_SETATTR, _AT_FDCWD, b"/", 0, ctypes.byref(attr), ctypes.sizeof(attr)
    ):
        _fail("making the pod's root writable")
    os.chown("/", uid, gid)


def _own_roots() -> list[str]:
    """Where this interpreter and podwall's code live: the pod's processes run from there."""
    return [sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2])]


def needed_under(tmp: str, roots: Sequence[str]) -> list[str]:
    """The `roots` inside `tmp`, none inside another: what must stay visible over its tmpfs."""
    inside = sorted({r for r in roots if Path(r).is_relative_to(tmp) and Path(r) != Path(tmp)})
    return [r for r in inside if not any(Path(r).is_relative_to(o) for o in inside if o != r)]


def _private_tmpfs(path: str, keep: Sequence[str]) -> None:
    """A tmpfs on `path`, with the directories `keep` bound back at their own paths."""
    held = [os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep]  # before the tmpfs hides them
    try:
        _mount(b"tmpfs", path, b"tmpfs", _MS_NOSUID | _MS_NODEV, TMPFS_OPTIONS)
        for directory, fd in zip(keep, held, strict=True):
            os.makedirs(directory, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}".encode(), directory, b"", _MS_BIND | _MS_REC, None)
    finally:
        for fd in held:
            os.close(fd)


def reap_forever() -> NoReturn:
    """Wait for every child that ends (orphans come here), forever."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # Python's handler would let the pod stop us
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})
    while True:
        _reap_all()
        signal.sigwait({signal.SIGCHLD})


def _reap_all() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _mount(source: bytes, target: str, fstype: bytes, flags: int, data: bytes | None) -> None:
    if _libc.mount(source, target.encode(), fstype, ctypes.c_ulong(flags), data):
        _fail(f"mounting {fstype.decode()} on {target}")


def _fail(what: str) -> NoReturn:
    raise SetupError(f"{what}: {os.strerror(ctypes.get_errno())}")


def _quiet() -> None:
    # Nobody reads our output after `ready`: a write to a closed pipe must not kill PID 1.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def make_pod(args: argparse.Namespace, volumes: Sequence[Mapping[str, Any]]) -> None:
    """The pod's root, service account, view and volumes, in that order (module docstring)."""
    trees = prepare_volumes(volumes, args.uid)
    try:
        host_names = make_root(read_files(args.file))
        own = [p for p in PRIVATE_TMPFS if Path(p).is_dir()]
        if args.service_account is not None:
            mount_service_account(args.service_account)
            own.append(str(serviceaccount.MOUNT_POINT))
        make_view(args.hostname)
        open_root(args.uid, args.gid)
        mount_volumes(volumes, trees, host_names, own)
    finally:
        for tree, _ in trees:
            os.close(tree)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(prog="podwall-podinit", description=__doc__.split("\n")[0])
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--gid", type=int, required=True)
    parser.add_argument("--hostname", required=True)
    parser.add_argument("--service-account", type=Path, default=None)
    parser.add_argument(
        "--file", action="append", default=[], help="POD_PATH=HOST_PATH: an image's file"
    )
    parser.add_argument("--volumes", type=Path, default=None, help="the pod's mounts.json")
    args = parser.parse_args(argv)
    try:
        pid = host_pid(Path("/proc/self/status").read_text())  # the host's /proc, still
        volumes = read_volumes(args.volumes) if args.volumes is not None else []
        make_pod(args, volumes)
        drop_privileges(args.uid, args.gid)
    except (OSError, SetupError, PrivilegeError) as exc:
        print(f"podinit: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    print(f"ready {pid}", flush=True)
    _quiet()
    reap_forever()


if __name__ == "__main__":
    main()

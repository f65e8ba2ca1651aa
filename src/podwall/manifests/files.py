"""The manifest files a path names: the file itself, or every manifest under a directory.

Names and order are pathlib's (`str(Path(p))`, `sorted(Path(p).rglob("*"))`), so messages and
`Source.file` read as they always did, but written with `os`: in Python 3.11 pathlib's import
pulls in urllib.parse, fnmatch and ntpath (~11M instructions, 2 ms of every review command's
start-up). Does not read the files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(path: str) -> list[str] | None:
    """`path` if it is not a directory, else every manifest file under it in path order; None
    when `path` names nothing.

    A directory's symlinked subdirectories are not entered (as pathlib's rglob); symlinked files
    are read. A directory podwall may not list is skipped.
    """
    name = pathname(path)
    if os.path.isdir(name):
        return sorted(_under(name), key=lambda file: file.split("/"))
    return [name] if os.path.exists(name) else None


def pathname(path: str) -> str:
    """`str(PurePosixPath(path))`: no empty or `.` parts, no trailing slash; `//` is a root."""
    root = "/" if path.startswith("/") else ""
    if path.startswith("//") and not path.startswith("///"):
        root = "//"  # POSIX leaves a leading `//` to the implementation; pathlib keeps it
    parts = [part for part in path.split("/") if part and part != "."]
    return root + "/".join(parts) or "."


def is_manifest_name(name: str) -> bool:
    """Whether `Path(name).suffix` is a manifest's: `.yaml` alone is a hidden file, no suffix."""
    stem, dot, extension = name.rpartition(".")
    return bool(stem) and f"{dot}{extension}" in MANIFEST_SUFFIXES


def _under(folder: str) -> Iterator[str]:
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except PermissionError:
        return
    for entry in entries:
        child = _child(folder, entry.name)
        if entry.is_dir(follow_symlinks=False):
            yield from _under(child)
        elif is_manifest_name(entry.name) and os.path.isfile(child):
            yield child


def _child(folder: str, name: str) -> str:
    if folder == ".":
        return name
    return f"{folder}{name}" if folder.endswith("/") else f"{folder}/{name}"

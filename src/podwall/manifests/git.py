"""Manifests at a git revision (`REV:PATH`), read with `git` itself, never checked out.

`PATH` follows git's own rule: from the repository's top, unless it starts with `./` or `../`
(then from the current directory). A directory is read recursively, like `-f DIR`; files are
named `REV:PATH` in messages so an error points at the revision it came from.
"""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path

from podwall.manifests.files import MANIFEST_SUFFIXES
from podwall.manifests.reader import Loaded, LoadError, load_text

GIT_TIMEOUT = 60.0  # seconds per git command; a huge repository is still read in one batch


def load_revision(spec: str, *, cwd: Path | None = None) -> Loaded:
    """Every manifest under `PATH` at `REV`; raises LoadError naming the spec."""
    rev, path = split_spec(spec)
    kind = _git(spec, ["cat-file", "-t", f"{rev}:{path}"], cwd).strip()
    if kind == "blob":
        names = [(path, f"{rev}:{path}")]
    elif kind == "tree":
        names = [
            (posixpath.join(path, name) if path else name, sha)
            for name, sha in _tree(spec, rev, path, cwd)
            if name.endswith(MANIFEST_SUFFIXES)
        ]
    else:
        raise LoadError(f"{spec}: is a {kind}, not a file or directory")
    blobs = _blobs(spec, [ref for _, ref in names], cwd)
    loaded = Loaded()
    for (name, _), data in zip(names, blobs, strict=True):
        label = f"{rev}:{name}"
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LoadError(f"{label}: cannot read: not UTF-8 text ({exc.reason})") from exc
        part = load_text(text, label)
        loaded.objects += part.objects
        loaded.texts.update(part.texts)
    return loaded


def split_spec(spec: str) -> tuple[str, str]:
    rev, sep, path = spec.partition(":")
    if not sep or not rev:
        raise LoadError(f"{spec}: expected REV:PATH, for example origin/main:k8s")
    return rev, path.rstrip("/") if path not in ("", "/") else ""


def worktree_path(spec: str, *, cwd: Path | None = None) -> Path:
    """The working tree's copy of the spec's PATH (what `REV:PATH` is compared with)."""
    _, path = split_spec(spec)
    if path.startswith(("./", "../")) or path in (".", ".."):
        return (cwd or Path.cwd()) / path
    top = _git(spec, ["rev-parse", "--show-toplevel"], cwd).strip()
    here = (cwd or Path.cwd()).resolve()
    full = Path(top).resolve() / path
    # Relative to the current directory when inside it, so messages name `k8s/app.yaml`.
    return full.relative_to(here) if full.is_relative_to(here) else full


def _tree(spec: str, rev: str, path: str, cwd: Path | None) -> list[tuple[str, str]]:
    out = _git(spec, ["ls-tree", "-r", "-z", f"{rev}:{path}"], cwd)
    entries = []
    for record in out.split("\0"):
        if not record:
            continue
        meta, _, name = record.partition("\t")
        _, kind, sha = meta.split()
        if kind == "blob":
            entries.append((name, sha))
    return sorted(entries)


def _blobs(spec: str, refs: list[str], cwd: Path | None) -> list[bytes]:
    """Every blob's content in one `git cat-file --batch` run."""
    if not refs:
        return []
    data = _run(spec, ["cat-file", "--batch"], cwd, ("\n".join(refs) + "\n").encode())
    out: list[bytes] = []
    position = 0
    for ref in refs:
        end = data.index(b"\n", position)
        header = data[position:end].decode()
        parts = header.split()
        if len(parts) != 3:
            raise LoadError(f"{spec}: git cannot read {ref}: {header}")
        size = int(parts[2])
        out.append(data[end + 1 : end + 1 + size])
        position = end + 1 + size + 1  # the content is followed by a newline
    return out


def _git(spec: str, args: list[str], cwd: Path | None) -> str:
    return _run(spec, args, cwd, None).decode("utf-8", "replace")


def _run(spec: str, args: list[str], cwd: Path | None, stdin: bytes | None) -> bytes:
    try:
        done = subprocess.run(
            ["git", *args],
            input=stdin,
            capture_output=True,
            cwd=cwd,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except FileNotFoundError as exc:
        raise LoadError(f"{spec}: git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise LoadError(f"{spec}: git did not answer within {GIT_TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise LoadError(f"{spec}: {lines[-1] if lines else 'git failed'}")
    return done.stdout

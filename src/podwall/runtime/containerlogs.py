"""Where a container's output is kept: `<container>.log` for the running instance, and
`<container>.previous.log` for the one before the last restart (what `kubectl logs --previous`
reads; the kubelet, too, keeps one earlier instance). Names only, the rename at a restart, and
the removal with the pod: the kubelet keeps a pod's logs by its UID, so a pod made later under a
deleted one's name starts with none of its output.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

PREVIOUS_SUFFIX = ".previous.log"


def log_path(log_dir: Path, container: str) -> Path:
    return log_dir / f"{container}.log"


def previous_path(current: Path) -> Path:
    """The earlier instance's log beside `current` (container names hold no dots)."""
    return current.with_name(current.name.removesuffix(".log") + PREVIOUS_SUFFIX)


def rotate(current: Path) -> None:
    """Before a restart: the log so far becomes the previous one, the new instance's starts
    empty. Nothing to do for a container that never wrote its log."""
    with contextlib.suppress(FileNotFoundError):
        os.replace(current, previous_path(current))


def forget(log_dir: Path) -> None:
    """A deleted pod's logs (its `log_dir`) go with it."""
    shutil.rmtree(log_dir, ignore_errors=True)

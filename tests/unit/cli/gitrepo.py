"""A throwaway git repository for the commands' `--git REV:PATH` inputs."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def make_repo(top: Path, files: Iterable[Path], folder: str = "k8s") -> Path:
    """`top` with `files` committed under `folder/` as HEAD."""
    (top / folder).mkdir(parents=True)
    for f in files:
        shutil.copy(f, top / folder / f.name)
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, "commit", "-qm", "base")
    return top

"""Where the editor's manifests come from.

`Source` is the seam: the standalone editor reads files named on the command line and texts
the user imports; attached to `podwall up`, `cluster.ClusterSource` reads the running
cluster's objects and the editor above it does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from podwall.manifests.reader import Loaded, load_paths, load_text


class Source(Protocol):
    """Anything that yields manifests (raw objects with file and line, and their texts)."""

    def describe(self) -> list[str]:
        """What this source holds, one line per file or text, for the page."""
        ...

    def load(self) -> Loaded:
        """Read everything now; raises `LoadError` with file and line when something is bad."""
        ...


class FileSource:
    """Files and directories given with `-f`; re-read on every load, so edits show."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = list(paths)

    def describe(self) -> list[str]:
        return list(self.paths)

    def load(self) -> Loaded:
        return load_paths(self.paths)


class MemorySource:
    """Texts pasted, uploaded or dropped on the page, by name; a name given again replaces."""

    def __init__(self) -> None:
        self.texts: dict[str, str] = {}

    def describe(self) -> list[str]:
        return list(self.texts)

    def add(self, name: str, text: str) -> Loaded:
        loaded = load_text(text, name)  # raises LoadError before anything is kept
        self.texts[name] = text
        return loaded

    def remove(self, name: str) -> bool:
        return self.texts.pop(name, None) is not None

    def load(self) -> Loaded:
        out = Loaded()
        for name, text in self.texts.items():
            part = load_text(text, name)
            out.objects += part.objects
            out.texts.update(part.texts)
        return out

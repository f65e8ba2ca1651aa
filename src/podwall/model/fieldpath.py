"""field.Path as strings: `spec.ingress[0].from[1]`, `metadata.labels[app]`.

Pure: no I/O here.
"""

from __future__ import annotations

NIL = "<nil>"
"""What a nil *field.Path prints: the path of errors raised with none (labels.Parse's)."""


def child(path: str, name: str) -> str:
    """Path.Child."""
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    """Path.Index."""
    return f"{path}[{i}]"


def key(path: str, name: str) -> str:
    """Path.Key."""
    return f"{path}[{name}]"

"""Package attributes imported on first use (PEP 562): a package lists where each of its public
names lives, and its module `__getattr__` imports that home the first time the name is read.

Owns only that lookup; it does no I/O beyond importing, so the pure core may use it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: `homes` maps each lazy name to its module."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:  # a submodule (`from package import module`) is imported as usual
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)  # later reads find it without this call
        return value

    return __getattr__

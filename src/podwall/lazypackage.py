"""A package whose public names are imported on first use (PEP 562), safely.

The engine and the nft packages export functions named like their own submodules
(`podwall.engine.decide.decide`, `podwall.nft.trace.trace`). When such a submodule is first
imported, Python sets the package's attribute of that name to the submodule, after the
module-level `__getattr__` has had its say: `from podwall.nft import trace` would then give
the module, or the function, depending on what was imported before. `install` makes the
package refuse that one assignment, so the name always means the function; the submodule stays
in `sys.modules` (`import podwall.nft.trace` and `from podwall.nft.trace import X` work as
usual).
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


class _LazyPackage(types.ModuleType):
    _lazy_homes: Mapping[str, str]

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in self._lazy_homes:
            return  # a submodule named like an exported function: keep the function
        super().__setattr__(name, value)


def install(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """Make `package` lazy: `homes` maps each public name to the module defining it.

    Returns the package's `__getattr__`."""
    module = sys.modules[package]
    object.__setattr__(module, "_lazy_homes", homes)
    module.__class__ = _LazyPackage

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:  # a submodule not imported yet is imported as usual
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        types.ModuleType.__setattr__(module, name, value)
        return value

    return __getattr__

"""The error tree drawn in podwall.errors is the one the code has."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys

import podwall
from podwall import errors
from podwall.errors import PodwallError

ON_PURPOSE_OUTSIDE = {
    "InvalidOperation",
    "_OpError",
    "TooOld",
    "_Fallback",
    "UsageError",
    "PortError",
    "HelpRequested",
    "FetchError",
    "ProtocolError",
    "ReplyError",
    "CommandError",
    "WorkError",
}  # named in the docstring, with why
NOT_YET_ROOTED: set[str] = set()  # every error podwall raises on purpose is rooted


def _exception_classes() -> list[type[BaseException]]:
    for info in pkgutil.walk_packages(podwall.__path__, "podwall."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    found: list[type[BaseException]] = []
    for name, module in list(sys.modules.items()):
        if name.startswith("podwall"):
            found += [
                obj
                for obj in vars(module).values()
                if inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == name
            ]
    return found


def test_the_docstring_draws_every_podwall_error() -> None:
    classes = _exception_classes()
    named = set(re.findall(r"\b_?[A-Z]\w+\b", errors.__doc__ or ""))
    drawn = named & {c.__name__ for c in classes}
    rooted = {c.__name__ for c in classes if issubclass(c, PodwallError)}
    assert rooted - drawn == set()
    assert drawn - rooted == ON_PURPOSE_OUTSIDE


def test_every_other_exception_is_named_as_outside() -> None:
    outside = {c.__name__ for c in _exception_classes() if not issubclass(c, PodwallError)}
    assert outside == ON_PURPOSE_OUTSIDE | NOT_YET_ROOTED

"""A package's lazy attributes: imported from their home on first read, then kept."""

from __future__ import annotations

import sys
import types

import pytest

from podwall.lazy import lazy_attributes


def test_a_name_is_read_from_its_home_once_and_others_are_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    package = types.ModuleType("fakepkg")
    monkeypatch.setitem(sys.modules, "fakepkg", package)
    getattr_ = lazy_attributes("fakepkg", {"join": "posixpath"})
    join = getattr_("join")
    assert join("a", "b") == "a/b"
    assert vars(package)["join"] is join
    with pytest.raises(AttributeError, match="'fakepkg' has no attribute 'nothing'"):
        getattr_("nothing")

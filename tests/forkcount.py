"""How many parts each `forkmap.map_parts` call was given: tests that a large input is shared."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.manifests import forkmap


def count_shares(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets the number of parts of every later `map_parts` call."""
    shares: list[int] = []
    real = forkmap.map_parts

    def counted(work: Any, parts: Any) -> Any:
        shares.append(len(parts))
        return real(work, parts)

    monkeypatch.setattr(forkmap, "map_parts", counted)
    return shares


def expected_shares() -> list[int]:
    """One call over every core where the process can fork, else none."""
    return [forkmap.cores()] if forkmap.can_fork() else []

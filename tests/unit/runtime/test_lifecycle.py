"""`with piece:` creates a sandbox piece and destroys it on the way out, also after an error."""

from __future__ import annotations

import pytest

from podwall.runtime.lifecycle import Lifecycle


class Piece(Lifecycle):
    def __init__(self) -> None:
        self.calls: list[str] = []

    def create(self) -> None:
        self.calls.append("create")

    def destroy(self) -> None:
        self.calls.append("destroy")


def test_with_creates_then_destroys() -> None:
    with Piece() as piece:
        assert piece.calls == ["create"]
    assert piece.calls == ["create", "destroy"]


def test_an_error_in_the_body_still_destroys_and_propagates() -> None:
    piece = Piece()
    with pytest.raises(RuntimeError, match="boom"), piece:
        raise RuntimeError("boom")
    assert piece.calls == ["create", "destroy"]

"""A container's current and previous logs: names, and the rename at a restart."""

from __future__ import annotations

from pathlib import Path

from podwall.runtime.containerlogs import log_path, previous_path, rotate


def test_the_previous_log_sits_beside_the_current_one(tmp_path: Path) -> None:
    current = log_path(tmp_path, "web")
    assert current == tmp_path / "web.log"
    assert previous_path(current) == tmp_path / "web.previous.log"


def test_rotate_keeps_one_earlier_instance(tmp_path: Path) -> None:
    current = log_path(tmp_path, "web")
    current.write_text("first\n")
    rotate(current)
    assert not current.exists()
    current.write_text("second\n")
    rotate(current)
    assert previous_path(current).read_text() == "second\n"


def test_rotate_without_a_log_does_nothing(tmp_path: Path) -> None:
    rotate(log_path(tmp_path, "web"))
    assert list(tmp_path.iterdir()) == []

"""A container's current and previous logs: names, the rename at a restart, the removal with
the pod."""

from __future__ import annotations

from pathlib import Path

from podwall.runtime.containerlogs import forget, log_path, previous_path, rotate


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


def test_forget_removes_the_pods_logs_current_and_previous(tmp_path: Path) -> None:
    pod_dir = tmp_path / "default" / "busybox"
    pod_dir.mkdir(parents=True)
    current = log_path(pod_dir, "busybox")
    current.write_text("first\n")
    rotate(current)
    current.write_text("second\n")
    forget(pod_dir)
    assert not pod_dir.exists()
    assert (tmp_path / "default").is_dir()  # other pods' logs stay


def test_forget_a_pod_without_logs_does_nothing(tmp_path: Path) -> None:
    forget(tmp_path / "default" / "never-started")
    assert list(tmp_path.iterdir()) == []

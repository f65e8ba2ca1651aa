"""What a pod's PID 1 keeps visible over its private tmpfs: podwall's own interpreter and code
when they live under it (a checkout or a venv in /tmp), and nothing else."""

from __future__ import annotations

import pytest

from podwall.runtime.podinit import needed_under

CASES = [
    ("installed elsewhere", "/tmp", ["/usr", "/opt/venv", "/home/u/podwall/src"], []),
    (
        "a checkout in /tmp with its venv",
        "/tmp",
        ["/tmp/podwall/.venv", "/usr", "/tmp/podwall/src"],
        ["/tmp/podwall/.venv", "/tmp/podwall/src"],
    ),
    ("one inside another: the outer", "/tmp", ["/tmp/x", "/tmp/x/.venv"], ["/tmp/x"]),
    ("the same root twice", "/tmp", ["/tmp/x", "/tmp/x"], ["/tmp/x"]),
    ("a prefix that is not a parent", "/tmp", ["/tmpfoo/venv"], []),
    ("the tmpfs itself is not kept", "/tmp", ["/tmp"], []),
    ("another private tmpfs", "/var/tmp", ["/var/tmp/v", "/tmp/w"], ["/var/tmp/v"]),
]


@pytest.mark.parametrize(
    ("tmp", "roots", "kept"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_needed_under(tmp: str, roots: list[str], kept: list[str]) -> None:
    assert needed_under(tmp, roots) == kept

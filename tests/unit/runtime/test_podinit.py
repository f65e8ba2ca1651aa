"""What a pod's PID 1 keeps visible over its private tmpfs: podwall's own interpreter and code
when they live under it (a checkout or a venv in /tmp), and nothing else; the pod's mount list,
read whole or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podwall.runtime.podinit import SetupError, needed_under, read_volumes

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


ENTRY = {
    "volume": "v", "kind": "files", "path": "/config", "source": "/run/x/v/v", "subPath": "",
    "readOnly": True, "sizeBytes": None, "hostType": "", "standIn": "/run/x/v/v",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (json.dumps([ENTRY]), True),
        ("[]", True),
        (json.dumps([{**ENTRY, "extra": 1}]), False),
        (json.dumps([{k: v for k, v in ENTRY.items() if k != "path"}]), False),
        (json.dumps({"volume": "v"}), False),
        ("not json", False),
    ],
    ids=["one mount", "none", "an unknown key", "a key missing", "not a list", "not json"],
)
def test_the_mount_list_is_read_whole_or_refused(tmp_path: Path, text: str, ok: bool) -> None:
    path = tmp_path / "mounts.json"
    path.write_text(text)
    if ok:
        assert read_volumes(path) == json.loads(text)
    else:
        with pytest.raises(SetupError, match=str(path)):
            read_volumes(path)

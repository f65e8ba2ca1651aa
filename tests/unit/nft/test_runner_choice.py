"""runner.run: libnftables in-process when the library loads, else `nft -f -` on stdin."""

from __future__ import annotations

import pytest

from podwall.nft import libnft, runner


def test_without_the_library_a_batch_goes_to_the_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[str], str]] = []
    monkeypatch.setattr(libnft, "available", lambda: False)
    monkeypatch.setattr(runner, "_run", lambda argv, stdin: seen.append((argv, stdin)) or "")
    runner.run("add table inet podwall\n", netns="pw-x-n1")
    assert seen == [
        (["ip", "netns", "exec", "pw-x-n1", "nft", "-f", "-"], "add table inet podwall\n")
    ]


def test_with_the_library_a_batch_stays_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, str | None]] = []
    monkeypatch.setattr(libnft, "available", lambda: True)
    monkeypatch.setattr(libnft, "run", lambda script, netns=None: seen.append((script, netns)))
    monkeypatch.setattr(runner, "_run", lambda argv, stdin: pytest.fail(f"ran {argv}"))
    runner.run("add table inet podwall\n", netns="pw-x-n1")
    assert seen == [("add table inet podwall\n", "pw-x-n1")]

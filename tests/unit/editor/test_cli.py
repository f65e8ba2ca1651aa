"""`podwall editor` refuses what it must before it listens."""

from __future__ import annotations

from click.testing import CliRunner

from podwall.cli.editor import editor


def test_beyond_loopback_is_refused_without_listen_any() -> None:
    result = CliRunner().invoke(editor, ["--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output


def test_a_missing_manifest_is_bad_input() -> None:
    result = CliRunner().invoke(editor, ["-f", "/nonexistent/x.yaml"])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output

"""`program`, the `podwall` executable: a one-shot command ends by os._exit once its output is
flushed, with the status and the output it would have had; any other command exits as usual.

Each case runs the real executable (`python -m podwall`) in a fresh interpreter, with stdout a
pipe, a file or a pipe closed early, since only a real process can show what os._exit skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from podwall.cli.main import ONE_SHOT, listed

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
PODWALL = (sys.executable, "-m", "podwall")
TO_BACKEND = ("-f", str(TUTORIAL), "--from", "deploy/frontend", "--to")
# Buffered as for a user: PYTHONUNBUFFERED would hide a buffer os._exit forgot to flush.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _podwall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PODWALL, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
        env=ENV,
    )


@pytest.mark.parametrize(
    ("args", "status", "stdout_starts", "stderr"),
    [
        pytest.param(("check", *TO_BACKEND, "svc/backend:8080"), 0, "ALLOWED", "", id="allowed"),
        pytest.param(
            ("check", "-f", str(TUTORIAL / "backend-ingress-deny.yaml"), "-f",
             str(TUTORIAL / "simple-app.yaml"), "--from", "deploy/frontend", "--to",
             "svc/backend:8080"),
            1, "DENIED", "", id="denied",
        ),
        pytest.param(
            ("check", *TO_BACKEND, "svc/backend:80"), 2, "",
            "error: svc/backend: service default/backend has no port 80/TCP; it has http "
            "8080/TCP\n",
            id="bad-input",
        ),
        pytest.param(("check", "--bogus"), 2, "", "usage: podwall check", id="usage-error"),
    ],
)  # fmt: skip
def test_a_one_shot_command_keeps_its_status_and_output(
    args: tuple[str, ...], status: int, stdout_starts: str, stderr: str
) -> None:
    done = _podwall(*args)
    assert done.returncode == status, done.stderr
    assert done.stdout.startswith(stdout_starts)
    assert done.stderr.startswith(stderr)


def test_all_of_a_long_output_is_written_before_the_process_ends(tmp_path: Path) -> None:
    """The JSON map goes to a file (block-buffered): os._exit after an unflushed buffer would
    cut it short, and the JSON would not parse."""
    out = tmp_path / "matrix.json"
    with out.open("w") as sink:
        done = subprocess.run(
            [*PODWALL, "matrix", "-f", str(TUTORIAL), "-o", "json"],
            stdout=sink, stderr=subprocess.PIPE, text=True, timeout=120, cwd=ROOT, check=False,
            env=ENV,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["pods"]


def test_a_reader_that_stops_early_ends_the_command_quietly() -> None:
    """`podwall matrix | head -c 1`: no traceback, whatever the status."""
    with subprocess.Popen(
        [*PODWALL, "matrix", "-f", str(TUTORIAL), "-o", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=ENV,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.read(1)
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in stderr


def test_the_one_shot_commands_are_commands_and_no_server_is_one() -> None:
    assert set(ONE_SHOT) <= set(listed())
    assert not ONE_SHOT & {"up", "agent", "apiserver", "editor", "observe", "probe", "down"}


def test_a_command_that_is_not_one_shot_exits_as_usual() -> None:
    done = _podwall("kubeconfig", "--help")
    assert done.returncode == 0
    assert done.stdout.startswith("usage: podwall kubeconfig")

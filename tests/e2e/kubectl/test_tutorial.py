"""The seed lab verbatim with the real kubectl against `podwall up` (demo/tutorial.sh), with
the kubectl the dispatcher picks (1.32) and with 1.27 and 1.33 run directly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "demo" / "tutorial.sh"


def _kubectl(version: str | None) -> str:
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    if version is None:
        return kubectl
    return str(Path(os.path.realpath(kubectl)).parent / f"kubectl.{version}")


@pytest.mark.kubectl
@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.parametrize(
    "version",
    [
        None,
        "1.27",
        "1.33",
    ],
    ids=["dispatcher", "1.27", "1.33"],
)
def test_the_tutorial_runs_verbatim(version: str | None) -> None:
    env = {**os.environ, "KUBECTL": _kubectl(version), "PODWALL": str(ROOT / ".venv/bin/podwall")}
    env.pop("KUBECONFIG", None)
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.count("command terminated with exit code 28") == 3
    assert "Network policies are additive" in result.stdout

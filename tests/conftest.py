"""Shared test configuration: hypothesis profiles, golden files, and needs that skip or fail.

Tests that need root, `nft` or `ip` carry the `netns` marker. They skip with a reason when the
need is missing, except when PODWALL_REQUIRE_ALL=1 (set by .ci/run) or CI=true: then a missing
need fails the test, so a green CI never hides an unrun suite.
"""

from __future__ import annotations

import difflib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")

REQUIRE_ALL = os.environ.get("PODWALL_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from current output"
    )


def missing_netns_needs() -> list[str]:
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    for tool in ("nft", "ip", "unshare"):
        if shutil.which(tool) is None:
            missing.append(f"the {tool} command")
    return missing


def missing_kubectl_needs() -> list[str]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return ["kubectl"]
    beside = Path(os.path.realpath(kubectl)).parent
    return [f"{beside}/{v}" for v in ("kubectl.1.27", "kubectl.1.33") if not (beside / v).exists()]


NEEDS = {"netns": missing_netns_needs, "kubectl": missing_kubectl_needs}


def pytest_runtest_setup(item: pytest.Item) -> None:
    if any(item.get_closest_marker(marker) for marker in NEEDS):
        item.session.config.stash[_HOST_TOUCHED] = True
    missing = [
        need
        for marker, check in NEEDS.items()
        if item.get_closest_marker(marker)
        for need in check()
    ]
    if not missing:
        return
    reason = "needs " + ", ".join(missing)
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (required in CI: install it in .ci/run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[Path, str], None]:
    """Compare text with a golden file; `--update-golden` rewrites it (CI never does)."""
    update = bool(request.config.getoption("--update-golden")) or (
        os.environ.get("PODWALL_UPDATE_GOLDEN") == "1"
    )

    def check(path: Path, actual: str) -> None:
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual)
            return
        if not path.exists():
            pytest.fail(f"{path} does not exist: run `make golden` and review it", pytrace=False)
        expected = path.read_text()
        if expected != actual:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(True), actual.splitlines(True), str(path), "actual"
                )
            )
            pytest.fail(f"output differs from {path}:\n{diff}", pytrace=False)

    return check


# Leftovers: every namespace and process a test creates is removed by name or pid, also when
# it fails. The session checks it: anything podwall-made that appeared during the run and is
# still there at the end fails the run.
def _podwall_state() -> set[str]:
    found = {f"netns {p.name}" for p in Path("/var/run/netns").glob("pw-*")}
    found |= {f"/etc/netns/{p.name}" for p in Path("/etc/netns").glob("pw-*")}
    found |= {f"pod record {p}" for p in Path("/run/podwall-pods").glob("pw-*")}
    found |= {f"service account files {p}" for p in Path("/run/podwall-secrets").glob("pw-*")}
    found |= {f"pod volumes {p}" for p in Path("/run/podwall-volumes").glob("pw-*")}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="ignore")
        except OSError:
            continue
        if "podwall.runtime." in cmdline:
            found.add(f"process {proc.name}: {cmdline.strip()[:120]}")
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_BEFORE] = _podwall_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Only tests with a need (root, kubectl) make namespaces or processes: without one, what
    # appeared belongs to something else on this host (a running `podwall up`, say).
    if not session.config.stash.get(_HOST_TOUCHED, False):
        return
    left = _podwall_state() - session.config.stash.get(_BEFORE, set())
    if left:
        print("\nleft behind by the tests:\n  " + "\n  ".join(sorted(left)))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_BEFORE = pytest.StashKey[set[str]]()
_HOST_TOUCHED = pytest.StashKey[bool]()

"""`/version`: what kubectl reads from it, and nothing claimed that podwall is not."""

from __future__ import annotations

import re

import pytest

from podwall import __version__
from podwall.apiserver.discovery import platform_name, server_version

# Kubernetes' semver (k8s.io/apimachinery/pkg/util/version.ParseSemantic): a leading `v`,
# then major.minor.patch, an optional `-prerelease` and an optional `+build`.
SEMVER = re.compile(r"v(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def test_major_and_minor_are_1_32_so_the_dispatcher_runs_kubectl_1_32() -> None:
    version = server_version()
    assert (version["major"], version["minor"]) == ("1", "32")


def test_git_version_is_semver_1_32_0_with_podwalls_version_as_build_metadata() -> None:
    git_version = server_version()["gitVersion"]
    match = SEMVER.fullmatch(git_version)
    assert match is not None, git_version
    assert match.group(1, 2, 3) == ("1", "32", "0")
    assert match.group(4) is None  # a prerelease would sort below v1.32.0
    assert match.group(5) == f"+podwall.{__version__}"


def test_no_go_build_is_claimed() -> None:
    assert set(server_version()) == {"major", "minor", "gitVersion", "platform"}


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", "linux/amd64"),
        ("Linux", "aarch64", "linux/arm64"),
        ("Linux", "riscv64", "linux/riscv64"),
    ],
    ids=["x86_64 is amd64", "aarch64 is arm64", "anything else keeps its name"],
)
def test_platform_is_named_as_go_names_it(system: str, machine: str, expected: str) -> None:
    assert platform_name(system, machine) == expected

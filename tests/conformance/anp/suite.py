"""The v1alpha1 (AdminNetworkPolicy, BaselineAdminNetworkPolicy) conformance suite, loaded by
the ClusterNetworkPolicy suite's loader (../cnp/suite.py: the same file format, the same
changes) over this suite's topology and upstream manifests."""

from __future__ import annotations

from pathlib import Path

from tests.conformance.cnp.suite import ConformanceTest, file_paths, load_all

HERE = Path(__file__).parent
TESTS = HERE / "tests"
UPSTREAM = HERE / "upstream" / "base"
GO_TESTS = HERE / "upstream" / "tests"
TOPOLOGY = HERE / "topology.yaml"


def paths() -> list[Path]:
    return file_paths(TESTS)


def load() -> list[ConformanceTest]:
    return load_all(TESTS, UPSTREAM, TOPOLOGY)

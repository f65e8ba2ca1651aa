"""Helpers for the lint table tests: run one check over the builders' base cluster."""

from __future__ import annotations

from dataclasses import dataclass

from podwall.review.lint.registry import lint
from tests.builders import BASE, make_cluster, policy

__all__ = ["Case", "policy", "run_check"]


@dataclass(frozen=True, slots=True)
class Case:
    """One row: manifests added to the base cluster and the (path, phrase) found, if any."""

    id: str
    extra: str
    found: tuple[tuple[str, str], ...] = ()  # (field path, a phrase of the message)
    base: str = BASE


def run_check(check: str, extra: str, base: str = BASE) -> list[tuple[str, str, str]]:
    """(object, path, message) of the findings of one check only."""
    report = lint(make_cluster(extra, base=base))
    return [(f.obj, f.path, f.message) for f in report.findings if f.check == check]


def assert_case(check: str, case: Case) -> None:
    found = run_check(check, case.extra, case.base)
    assert [path for _, path, _ in found] == [path for path, _ in case.found], found
    for (_, _, message), (_, phrase) in zip(found, case.found, strict=True):
        assert phrase in message

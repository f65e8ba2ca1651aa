"""The registry: stable, unique ids; documentation for each; disable; skipped without pods."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podwall.review.lint.registry import CHECKS, UnknownCheck, find, lint
from tests.builders import make_cluster, policy

HERE = Path(__file__).parent
SPLIT = policy(
    "p",
    "x",
    "podSelector: {}\ningress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}},"
    " {podSelector: {matchLabels: {tier: db}}}]}]",
)


def test_ids_and_names_are_unique_and_well_formed() -> None:
    assert len({c.id for c in CHECKS}) == len(CHECKS)
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    for check in CHECKS:
        assert re.fullmatch(r"PW\d{3}", check.id)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", check.name)


def test_every_check_is_documented_and_has_positive_and_negative_table_rows() -> None:
    tables = "".join(p.read_text() for p in HERE.glob("test_*.py") if p.name != Path(__file__).name)
    for check in CHECKS:
        assert len(check.doc.splitlines()) >= 5, check.id
        assert check.summary
        assert "\n" not in check.summary
        assert f'"{check.id}"' in tables, f"{check.id} has no table test"


@pytest.mark.parametrize("ref", ["PW005", "pw005", "split-peer", " split-peer "])
def test_find_by_id_or_name(ref: str) -> None:
    assert find(ref).id == "PW005"


def test_an_unknown_check_lists_the_known_ones() -> None:
    with pytest.raises(UnknownCheck) as info:
        find("PW999")
    assert "PW999: no such check; the checks are PW001 (policy-selects-nothing)" in str(info.value)


def test_disable_by_id_or_name() -> None:
    snapshot = make_cluster(SPLIT)
    assert [f.check for f in lint(snapshot).findings] == ["PW005"]
    assert lint(snapshot, ["PW005"]).findings == []
    assert lint(snapshot, ["split-peer"]).findings == []


def test_without_pods_the_checks_that_need_them_are_skipped_and_named() -> None:
    report = lint(make_cluster(SPLIT, base=""))
    assert [c.id for c in report.skipped] == [c.id for c in CHECKS if c.needs_pods]
    assert [f.check for f in report.findings] == ["PW005"]


def test_findings_carry_the_policy_source_and_severity() -> None:
    (finding,) = lint(make_cluster(SPLIT)).findings
    assert finding.obj == "NetworkPolicy x/p"
    assert finding.severity == "warning"
    assert finding.name == "split-peer"

"""SARIF 2.1.0 output: the shape code-scanning UIs read."""

from __future__ import annotations

from podwall.model.source import Source
from podwall.review.lint.finding import Finding, Severity
from podwall.review.lint.registry import CHECKS
from podwall.review.lint.sarif import Located, render

FINDING = Finding(
    check="PW005",
    name="split-peer",
    severity=Severity.WARNING,
    message="from[0] and from[1] are two peers",
    obj="NetworkPolicy x/web",
    path="spec.ingress[0].from[1]",
    source=Source(file="k8s/web.yaml", line=1),
)


def test_one_run_with_every_check_as_a_rule() -> None:
    doc = render([], "1.2.3")
    assert doc["version"] == "2.1.0"
    assert doc["$schema"].endswith("sarif-2.1.0.json")
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("podwall", "1.2.3")
    assert [r["id"] for r in driver["rules"]] == [c.id for c in CHECKS]
    for rule, check in zip(driver["rules"], CHECKS, strict=True):
        assert rule["name"] == check.name
        assert rule["defaultConfiguration"] == {"level": check.severity.value}
        assert rule["shortDescription"]["text"] == check.summary
        assert rule["help"]["text"] == check.doc
    assert run["results"] == []


def test_a_result_at_its_file_and_line() -> None:
    doc = render([Located(finding=FINDING, uri="k8s/web.yaml", line=14)], "0")
    (result,) = doc["runs"][0]["results"]
    assert result["ruleId"] == "PW005"
    assert doc["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "PW005"
    assert result["level"] == "warning"
    assert result["message"]["text"] == (
        "NetworkPolicy x/web: spec.ingress[0].from[1]: from[0] and from[1] are two peers"
    )
    (location,) = result["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "k8s/web.yaml"},
        "region": {"startLine": 14},
    }


def test_a_result_from_a_cluster_has_only_a_logical_location() -> None:
    doc = render([Located(finding=FINDING, uri=None, line=0)], "0")
    (location,) = doc["runs"][0]["results"][0]["locations"]
    assert location == {
        "logicalLocations": [
            {"fullyQualifiedName": "NetworkPolicy x/web spec.ingress[0].from[1]", "kind": "object"}
        ]
    }

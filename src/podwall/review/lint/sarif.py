"""Findings as SARIF 2.1.0, the format code-scanning UIs (GitHub, GitLab, VS Code) read.

One run, podwall as the tool with every check as a rule (id, name, short and full
description, default level), one result per finding at its file and line. Findings from a
live cluster have no file: they carry the object as a logical location. Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podwall.model.record import Record
from podwall.review.lint.finding import Finding
from podwall.review.lint.registry import CHECKS, Check

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


# A result read field by field, never compared or hashed: identity equality is enough.
class Located(Record, eq=False):
    """A finding with where to show it: a repository-relative `uri` and a 1-based line."""

    finding: Finding
    uri: str | None
    line: int


def render(results: Sequence[Located], version: str) -> dict[str, Any]:
    index = {check.id: i for i, check in enumerate(CHECKS)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "podwall",
                        "version": version,
                        "rules": [_rule(check) for check in CHECKS],
                    }
                },
                "results": [_result(r, index[r.finding.check]) for r in results],
            }
        ],
    }


def _rule(check: Check) -> dict[str, Any]:
    return {
        "id": check.id,
        "name": check.name,
        "shortDescription": {"text": check.summary},
        "fullDescription": {"text": check.doc.split("\n\n")[0].replace("\n", " ")},
        "help": {"text": check.doc, "markdown": check.doc},
        "defaultConfiguration": {"level": check.severity.value},
    }


def _result(item: Located, rule_index: int) -> dict[str, Any]:
    f = item.finding
    where = f"{f.path}: " if f.path else ""
    result: dict[str, Any] = {
        "ruleId": f.check,
        "ruleIndex": rule_index,
        "level": f.severity.value,
        "message": {"text": f"{f.obj}: {where}{f.message}"},
    }
    logical = [{"fullyQualifiedName": f"{f.obj} {f.path}".strip(), "kind": "object"}]
    if item.uri is None:
        result["locations"] = [{"logicalLocations": logical}]
    else:
        region = {"startLine": max(item.line, 1)}
        result["locations"] = [
            {
                "physicalLocation": {"artifactLocation": {"uri": item.uri}, "region": region},
                "logicalLocations": logical,
            }
        ]
    return result

"""A lint finding: which check, how bad, what, and where (object, field path, source).

Pure: no I/O here. The line of `path` inside the file is found by the caller, which holds the
text (`manifests.reader.field_line`).
"""

from __future__ import annotations

from enum import StrEnum

from podwall.model.policy import NetworkPolicy
from podwall.model.record import Record
from podwall.model.source import Source


class Severity(StrEnum):
    """SARIF's levels, most severe first."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Finding(Record):
    """One problem a check found, in one object (and field) of one file."""

    check: str  # the check's id, e.g. PW005
    name: str  # the check's name, e.g. split-peer
    severity: Severity
    message: str
    obj: str  # `NetworkPolicy x/web`
    path: str  # field path inside the object, `spec.ingress[0].from[1]`; "" for the object
    source: Source

    def sort_key(self) -> tuple[str, int, str, str, str]:
        return (self.source.file, self.source.line, self.obj, self.path, self.check)


def on_policy(policy: NetworkPolicy, path: str, message: str) -> tuple[NetworkPolicy, str, str]:
    """What a check yields: the policy, the field path and the message; the registry adds the
    check's id, name and severity."""
    return policy, path, message


Raw = tuple[NetworkPolicy, str, str]

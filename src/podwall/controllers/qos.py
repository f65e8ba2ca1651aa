"""A pod's QoS class, as upstream computes it for `status.qosClass`.

Mirrors `ComputePodQOS` (pkg/apis/core/helper/qos/qos.go): only cpu and memory count; a pod with
no requests and no limits is BestEffort; one whose every container limits both cpu and memory,
with requests equal to limits, is Guaranteed; anything else is Burstable. Quantities are parsed
as resource.Quantity does (decimal and binary suffixes, exponents), exactly, with fractions.
Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

BEST_EFFORT = "BestEffort"
BURSTABLE = "Burstable"
GUARANTEED = "Guaranteed"

_QOS_RESOURCES = ("cpu", "memory")
_SUFFIXES = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    **{f"{p}i": Fraction(2 ** (10 * (i + 1))) for i, p in enumerate("KMGTPE")},
}
_QUANTITY = re.compile(r"^([+-]?[0-9]*\.?[0-9]+)([eE][+-]?[0-9]+|[a-zA-Z]*)$")


def parse_quantity(text: str | int | float) -> Fraction:
    """resource.ParseQuantity, as an exact number; ValueError when it is not a quantity."""
    match = _QUANTITY.match(str(text).strip())
    if match is None:
        raise ValueError(f"quantities must match the regular expression: {text!r}")
    number, suffix = match.groups()
    if suffix[:1] in ("e", "E"):
        return Fraction(number) * Fraction(10) ** int(suffix[1:])
    if suffix not in _SUFFIXES:
        raise ValueError(f"unable to parse quantity's suffix: {text!r}")
    return Fraction(number) * _SUFFIXES[suffix]


def _positive(resources: Mapping[str, Any]) -> dict[str, Fraction]:
    values = {name: parse_quantity(resources[name]) for name in _QOS_RESOURCES if name in resources}
    return {name: value for name, value in values.items() if value > 0}


def _add(total: dict[str, Fraction], more: Mapping[str, Fraction]) -> None:
    for name, value in more.items():
        total[name] = total.get(name, Fraction(0)) + value


def pod_qos(spec: Mapping[str, Any]) -> str:
    """The QoS class of a pod spec (requests already defaulted from limits)."""
    containers: Iterable[Mapping[str, Any]] = [
        *(spec.get("containers") or ()),
        *(spec.get("initContainers") or ()),
    ]
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        _add(requests, _positive(resources.get("requests") or {}))
        found = _positive(resources.get("limits") or {})
        _add(limits, found)
        guaranteed = guaranteed and set(found) >= set(_QOS_RESOURCES)
    if not requests and not limits:
        return BEST_EFFORT
    same = all(limits.get(name) == value for name, value in requests.items())
    return GUARANTEED if guaranteed and same and len(requests) == len(limits) else BURSTABLE

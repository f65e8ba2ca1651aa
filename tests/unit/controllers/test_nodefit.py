"""Which nodes a pod fits: tolerations against taints, node selector terms, daemon tolerations."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import nodefit

NODE: dict[str, Any] = {
    "metadata": {"name": "node-2", "labels": {"zone": "a", "cores": "8", "ssd": "true"}},
}

NO_SCHEDULE = {"key": "k", "effect": "NoSchedule"}
TOLERATES: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("exists on the key", {"key": "k", "operator": "Exists"}, NO_SCHEDULE, True),
    ("exists, other key", {"key": "j", "operator": "Exists"}, NO_SCHEDULE, False),
    ("empty key and Exists: every taint", {"operator": "Exists"},
     {"key": "j", "effect": "NoExecute"}, True),
    ("equal values", {"key": "k", "value": "v"}, {**NO_SCHEDULE, "value": "v"}, True),
    ("equal, other value", {"key": "k", "value": "v"}, {**NO_SCHEDULE, "value": "w"}, False),
    ("explicit Equal, no values", {"key": "k", "operator": "Equal"}, NO_SCHEDULE, True),
    ("effect must match when given",
     {"key": "k", "operator": "Exists", "effect": "NoExecute"}, NO_SCHEDULE, False),
    ("no effect: any effect",
     {"key": "k", "operator": "Exists"}, {"key": "k", "effect": "PreferNoSchedule"}, True),
    ("an unknown operator tolerates nothing", {"key": "k", "operator": "Gt"}, NO_SCHEDULE, False),
]  # fmt: skip


@pytest.mark.parametrize(("toleration", "taint", "expected"), [c[1:] for c in TOLERATES],
                         ids=[c[0] for c in TOLERATES])  # fmt: skip
def test_a_toleration_tolerates_a_taint(
    toleration: dict[str, Any], taint: dict[str, Any], expected: bool
) -> None:
    assert nodefit.tolerates(toleration, taint) is expected


def req(key: str, operator: str, *values: str) -> dict[str, Any]:
    return {"key": key, "operator": operator, **({"values": list(values)} if values else {})}


TERMS: list[tuple[str, dict[str, Any], bool]] = [
    ("In, listed", {"matchExpressions": [req("zone", "In", "a", "b")]}, True),
    ("In, not listed", {"matchExpressions": [req("zone", "In", "b")]}, False),
    ("In, label absent", {"matchExpressions": [req("rack", "In", "a")]}, False),
    ("NotIn, label absent", {"matchExpressions": [req("rack", "NotIn", "a")]}, True),
    ("NotIn, listed", {"matchExpressions": [req("zone", "NotIn", "a")]}, False),
    ("Exists", {"matchExpressions": [req("ssd", "Exists")]}, True),
    ("DoesNotExist, present", {"matchExpressions": [req("ssd", "DoesNotExist")]}, False),
    ("DoesNotExist, absent", {"matchExpressions": [req("gpu", "DoesNotExist")]}, True),
    ("Gt, larger", {"matchExpressions": [req("cores", "Gt", "4")]}, True),
    ("Gt, equal", {"matchExpressions": [req("cores", "Gt", "8")]}, False),
    ("Lt, smaller", {"matchExpressions": [req("cores", "Lt", "16")]}, True),
    ("Gt on a non-number", {"matchExpressions": [req("zone", "Gt", "1")]}, False),
    ("expressions are ANDed",
     {"matchExpressions": [req("zone", "In", "a"), req("ssd", "DoesNotExist")]}, False),
    ("matchFields on the name", {"matchFields": [req("metadata.name", "In", "node-2")]}, True),
    ("matchFields, another node", {"matchFields": [req("metadata.name", "In", "node-1")]}, False),
    ("matchFields NotIn", {"matchFields": [req("metadata.name", "NotIn", "node-1")]}, True),
    ("matchFields on another field", {"matchFields": [req("spec.podCIDR", "NotIn", "x")]}, False),
    ("labels and fields together",
     {"matchExpressions": [req("zone", "In", "a")],
      "matchFields": [req("metadata.name", "In", "node-2")]}, True),
    ("an empty term matches nothing", {}, False),
]  # fmt: skip


@pytest.mark.parametrize(("term", "expected"), [c[1:] for c in TERMS], ids=[c[0] for c in TERMS])
def test_a_node_selector_term_against_a_node(term: dict[str, Any], expected: bool) -> None:
    assert nodefit.term_matches(term, NODE) is expected


def required(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        }
    }


AFFINITY: list[tuple[str, dict[str, Any], bool]] = [
    ("nothing asked", {}, True),
    ("nodeSelector met", {"nodeSelector": {"zone": "a"}}, True),
    ("nodeSelector missed", {"nodeSelector": {"zone": "a", "ssd": "false"}}, False),
    ("terms are ORed",
     required({"matchExpressions": [req("zone", "In", "b")]},
              {"matchExpressions": [req("zone", "In", "a")]}), True),
    ("no term matches", required({"matchExpressions": [req("zone", "In", "b")]}), False),
    ("required with no terms matches nothing", required(), False),
    ("nodeSelector and affinity both needed",
     {"nodeSelector": {"zone": "b"}, **required({"matchExpressions": [req("ssd", "Exists")]})},
     False),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "expected"), [c[1:] for c in AFFINITY],
                         ids=[c[0] for c in AFFINITY])  # fmt: skip
def test_required_node_affinity(spec: dict[str, Any], expected: bool) -> None:
    assert nodefit.fits_node_affinity(spec, NODE) is expected


def test_daemon_tolerations_are_added_once_and_replace_the_same_key_and_effect() -> None:
    spec: dict[str, Any] = {
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "infra", "effect": "NoSchedule"},
            {"key": nodefit.NOT_READY, "operator": "Exists", "effect": "NoExecute",
             "tolerationSeconds": 10},
        ]
    }  # fmt: skip
    nodefit.add_daemon_tolerations(spec)
    again = {"tolerations": list(spec["tolerations"])}
    nodefit.add_daemon_tolerations(again)
    assert again == spec
    assert [(t["key"], t["effect"]) for t in spec["tolerations"]] == [
        ("dedicated", "NoSchedule"),
        (nodefit.NOT_READY, "NoExecute"),
        (nodefit.UNREACHABLE, "NoExecute"),
        (nodefit.DISK_PRESSURE, "NoSchedule"),
        (nodefit.MEMORY_PRESSURE, "NoSchedule"),
        (nodefit.PID_PRESSURE, "NoSchedule"),
        (nodefit.UNSCHEDULABLE, "NoSchedule"),
    ]
    assert "tolerationSeconds" not in spec["tolerations"][1]  # upstream replaces it whole


def test_host_network_daemons_also_tolerate_an_unavailable_network() -> None:
    spec: dict[str, Any] = {"hostNetwork": True}
    nodefit.add_daemon_tolerations(spec)
    assert spec["tolerations"][-1] == {
        "key": nodefit.NETWORK_UNAVAILABLE,
        "operator": "Exists",
        "effect": "NoSchedule",
    }

"""Meta tests: the scenario files are well formed and cover every upstream It."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conformance.scenario import (
    HERE,
    ScenarioError,
    apply_changes,
    cluster_pods,
    load_all,
    load_cluster,
    load_scenario,
    parse_table,
    render_table,
    scenario_paths,
)

PODS = ("x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c")
PORT_NAMES = {f"serve-{p}-{proto}" for p in (80, 81) for proto in ("tcp", "udp", "sctp")}
APPLY_KINDS = {"NetworkPolicy", "Pod", "Namespace"}
SCENARIOS = load_all()


def _titles(name: str) -> list[str]:
    return [line for line in (HERE / name).read_text().splitlines() if line.strip()]


def _strip_tags(title: str) -> str:
    """Drop ginkgo tags such as ``[Feature:Netpol]`` and normalise spaces."""
    return " ".join(re.sub(r"\[[^\]]*\]", " ", title).split())


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_every_scenario_file_parses(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name
    assert scenario.context
    assert scenario.raw.get("upstream", "").startswith("test/e2e/network/netpol/")
    assert all(step.expectations for step in scenario.steps)


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_every_table_is_square_over_the_nine_pods_in_order(path: Path) -> None:
    scenario = load_scenario(path)
    for step in scenario.steps:
        assert cluster_pods(step.manifests) == PODS
        for expectation in step.expectations:
            assert expectation.pods == PODS
            assert len(expectation.table) == len(PODS) ** 2


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_self_traffic_is_always_allowed(path: Path) -> None:
    for step in load_scenario(path).steps:
        for expectation in step.expectations:
            assert all(expectation.table[p, p] for p in PODS)


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_applied_objects_are_full_manifests(path: Path) -> None:
    for raw_step in load_scenario(path).raw["steps"]:
        for manifest in raw_step.get("apply") or ():
            assert manifest["kind"] in APPLY_KINDS
            assert manifest["apiVersion"] in ("v1", "networking.k8s.io/v1")
            assert manifest["metadata"]["name"]
            if manifest["kind"] != "Namespace":
                assert manifest["metadata"]["namespace"] in ("x", "y", "z")


def test_scenario_names_and_slugs_are_unique_per_context() -> None:
    keys = Counter((s.context, s.name) for s in SCENARIOS)
    assert [k for k, n in keys.items() if n > 1] == []
    assert len({s.slug for s in SCENARIOS}) == len(SCENARIOS)


def test_every_upstream_it_has_a_scenario() -> None:
    titles = Counter(_titles("upstream_titles.txt"))
    names = Counter(s.name for s in SCENARIOS if s.raw.get("upstream_version") != "legacy")
    missing = {t: n - names[t] for t, n in titles.items() if names[t] < n}
    assert missing == {}
    assert sum(titles.values()) == 48


def test_every_legacy_it_has_a_scenario() -> None:
    stripped = {_strip_tags(s.name) for s in SCENARIOS}
    assert [
        t for t in _titles("upstream_titles_legacy.txt") if _strip_tags(t) not in stripped
    ] == []


def test_legacy_scenarios_use_legacy_titles_verbatim() -> None:
    legacy_titles = set(_titles("upstream_titles_legacy.txt"))
    legacy = [s for s in SCENARIOS if s.raw.get("upstream_version") == "legacy"]
    assert legacy
    assert [s.name for s in legacy if s.name not in legacy_titles] == []


def test_sctp_is_covered() -> None:
    probes = {e.protocol for s in SCENARIOS for step in s.steps for e in step.expectations}
    assert probes == {"TCP", "UDP", "SCTP"}
    sctp_context = [s for s in SCENARIOS if s.context.endswith("using SCTP")]
    assert len(sctp_context) == 3
    assert all(e.protocol == "SCTP" for s in sctp_context for e in s.steps[0].expectations)
    policy_text = "".join(p.read_text() for p in scenario_paths())
    assert "protocol: SCTP" in policy_text


def test_cluster_is_the_upstream_model() -> None:
    manifests = load_cluster("xyz")
    namespaces = {m["metadata"]["name"]: m for m in manifests if m["kind"] == "Namespace"}
    assert {n: m["metadata"]["labels"] for n, m in namespaces.items()} == {
        n: {"ns": n} for n in ("x", "y", "z")
    }
    pods = [m for m in manifests if m["kind"] == "Pod"]
    assert cluster_pods(manifests) == PODS
    ips = [ipaddress.ip_address(p["status"]["podIP"]) for p in pods]
    assert len(set(ips)) == len(PODS)
    assert all(ip in ipaddress.ip_network("198.18.0.0/16") for ip in ips)
    for pod in pods:
        assert pod["metadata"]["labels"] == {"pod": pod["metadata"]["name"]}
        ports = [p for c in pod["spec"]["containers"] for p in c["ports"]]
        assert {p["name"] for p in ports} == PORT_NAMES
        assert all(
            p["name"] == f"serve-{p['containerPort']}-{p['protocol'].lower()}" for p in ports
        )


def test_tables_round_trip_through_the_renderer() -> None:
    for scenario in SCENARIOS:
        for step in scenario.steps:
            for e in step.expectations:
                assert parse_table(render_table(e.pods, e.table)) == (e.pods, e.table)


def test_apply_replaces_by_kind_namespace_and_name_and_delete_removes() -> None:
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "x"}, "spec": {}}
    updated = {**policy, "spec": {"podSelector": {}}}
    state = apply_changes([], [policy])
    assert apply_changes(state, [updated]) == [updated]
    assert (
        apply_changes(state, delete=[{"kind": "NetworkPolicy", "namespace": "x", "name": "p"}])
        == []
    )
    with pytest.raises(ScenarioError):
        apply_changes(state, delete=[{"kind": "NetworkPolicy", "namespace": "y", "name": "p"}])


@pytest.mark.parametrize(
    "text",
    [
        "x/a x/b\nx/a . .\nx/b . .",  # no header
        "- x/a x/b\nx/b . .\nx/a . .",  # rows out of order
        "- x/a x/b\nx/a .\nx/b . .",  # short row
        "- x/a x/b\nx/a . ?\nx/b . .",  # bad cell
    ],
)
def test_parse_table_rejects_malformed_tables(text: str) -> None:
    with pytest.raises(ScenarioError):
        parse_table(text)


def test_parse_table_reads_rows_as_sources() -> None:
    pods, table = parse_table("- x/a x/b\nx/a . X\nx/b . .\n")
    assert pods == ("x/a", "x/b")
    assert table == {
        ("x/a", "x/a"): True,
        ("x/a", "x/b"): False,
        ("x/b", "x/a"): True,
        ("x/b", "x/b"): True,
    }

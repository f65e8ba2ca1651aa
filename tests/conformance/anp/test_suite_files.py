"""Meta tests: the translation is upstream's v0.1.7 suite, test for test, subtest for subtest,
row for row, over upstream's topology; every policy it applies is valid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from podwall.model.anpvalidation import KINDS, validate
from podwall.model.validation import validate_network_policy
from tests.conformance.anp.suite import GO_TESTS, TOPOLOGY, UPSTREAM, load, paths
from tests.conformance.cnp.suite import ConformanceTest, pods, topology

TESTS = load()
# v0.1.7's calls: the server pod fetched into a variable by `s.Client.Get(ctx,
# client.ObjectKey{Namespace: ..., Name: ...}, var)`, then poked at its PodIP.
_POKE = re.compile(
    r'PokeServer\(t, s\.ClientSet, &s\.KubeConfig, "[^"]+", "([^"]+)", "(\w+)",\s*'
    r"(\w+)\.Status\.PodIP, int32\((\d+)\), s\.TimeoutConfig\.RequestTimeout, (true|false)\)"
)
_TOKEN = re.compile(
    r'ShortName:\s+"(?P<name>[^"]+)"'
    r'|t\.Run\("(?P<run>(?:[^"\\]|\\.)*)"'
    r'|client\.ObjectKey\{\s*Namespace:\s*"[^"]+",\s*Name:\s*"(?P<podname>[^"]+)",\s*\}, '
    r"(?P<pod>\w+)\)"
    r"|(?P<poke>PokeServer\()"
)


def _upstream() -> Iterator[tuple[str, str, str]]:
    """(test, subtest, row) for every PokeServer of the vendored Go tests, in order."""
    for path in sorted(GO_TESTS.glob("*.go")):
        text = path.read_text()
        test = subtest = ""
        servers: dict[str, str] = {}
        for match in _TOKEN.finditer(text):
            if match["name"]:
                test = match["name"]
            elif match["run"] is not None:
                subtest = match["run"]
            elif match["pod"]:
                servers[match["pod"]] = match["podname"]
            elif match["poke"]:
                poke = _POKE.match(text, match.start())
                assert poke is not None, f"{path.name}: {text[match.start() : match.start() + 200]}"
                client, proto, var, port, ok = poke.groups()
                cell = "." if ok == "true" else "X"
                yield test, subtest, f"{client} -> {servers[var]} {proto}/{port} {cell}"


def _translated() -> Iterator[tuple[str, str, str]]:
    for test in TESTS:
        for step in test.steps:
            for row in step.rows:
                yield test.name, step.subtest, row.render()


def test_every_upstream_poke_is_a_row_in_the_same_order() -> None:
    upstream = sorted(_upstream(), key=lambda r: r[0])
    translated = sorted(_translated(), key=lambda r: r[0])
    assert len(upstream) == 289
    assert translated == upstream


def test_every_upstream_test_and_subtest_is_translated() -> None:
    names = {t.name for t in TESTS}
    assert names == {test for test, _, _ in _upstream()}
    assert len(TESTS) == 24
    subtests = {(t.name, s["name"]) for t in TESTS for s in t.raw["subtests"]}
    assert len(subtests) == 92


@pytest.mark.parametrize("path", paths(), ids=lambda p: p.stem)
def test_a_file_names_its_upstream_and_manifests(path: Path) -> None:
    raw = yaml.safe_load(path.read_text())
    go = GO_TESTS / Path(raw["upstream"]).name
    assert go.is_file()
    assert f'ShortName:   "{raw["name"]}"' in go.read_text()
    assert raw["name"] == path.stem
    for name in raw["manifests"]:
        assert (UPSTREAM / name).is_file()


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.name)
def test_rows_name_pods_of_the_topology(test: ConformanceTest) -> None:
    known = set(pods(topology(TOPOLOGY)))
    for step in test.steps:
        for row in step.rows:
            assert {row.client, row.server} <= known, row


@pytest.mark.parametrize("test", TESTS, ids=lambda t: t.name)
def test_every_policy_applied_is_valid(test: ConformanceTest) -> None:
    for step in test.steps:
        for manifest in step.manifests:
            if manifest["kind"] in KINDS:
                assert validate(manifest["kind"], manifest) == [], step.label
            elif manifest["kind"] == "NetworkPolicy":
                assert validate_network_policy(manifest) == [], step.label
            else:
                assert manifest["kind"] in ("Namespace", "Pod", "Node"), manifest["kind"]


def test_the_topology_is_upstreams() -> None:
    upstream = [d for d in yaml.safe_load_all((UPSTREAM / "manifests.yaml").read_text()) if d]
    ours = topology(TOPOLOGY)
    assert [d for d in ours if d["kind"] == "Namespace"] == [
        d for d in upstream if d["kind"] == "Namespace"
    ]
    expected = {}
    for sts in (d for d in upstream if d["kind"] == "StatefulSet"):
        for i in range(sts["spec"]["replicas"]):
            template = sts["spec"]["template"]
            expected[f"{sts['metadata']['name']}-{i}"] = (
                sts["metadata"]["namespace"],
                template["metadata"]["labels"],
                template["spec"]["containers"],
                bool(template["spec"].get("hostNetwork")),
            )
    found = {
        name: (
            p["metadata"]["namespace"],
            p["metadata"]["labels"],
            p["spec"]["containers"],
            bool(p["spec"].get("hostNetwork")),
        )
        for name, p in pods(ours).items()
    }
    assert found == expected


def test_the_suite_applies_both_v1alpha1_kinds() -> None:
    kinds = {m["kind"] for t in TESTS for s in t.steps for m in s.manifests}
    assert set(KINDS) <= kinds
    assert "ClusterNetworkPolicy" not in kinds

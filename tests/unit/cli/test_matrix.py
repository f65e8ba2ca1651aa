"""`podwall matrix`: the pod-by-pod JSON contract for one port, and the full connectivity map."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from podwall.cli import output
from podwall.engine import connectivity, port_matrix
from podwall.model.cluster import Cluster, Pod
from podwall.model.labels import Labels
from tests.clirunner import Result, invoke

ROOT = Path(__file__).parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
APP = str(TUTORIAL / "simple-app.yaml")
DENY = str(TUTORIAL / "backend-ingress-deny.yaml")
ALLOW = str(TUTORIAL / "backend-allow-ingress-frontend.yaml")
FIXTURES = ROOT / "tests" / "fixtures"
NAMED = str(FIXTURES / "named-ports.yaml")
RANGES = str(FIXTURES / "port-ranges.yaml")
UNMODELLED = str(FIXTURES / "unmodelled.yaml")

PODS = ["default/backend", "default/frontend", "default/not-frontend"]


def run(*args: str, stdin: str | None = None) -> Result:
    """Run podwall; an exception other than the exit is a bug, never a verdict."""
    return invoke(args, input=stdin)


def matrix_json(*args: str, stdin: str | None = None) -> dict[str, Any]:
    result = run("matrix", *args, "-o", "json", stdin=stdin)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _files(*paths: str) -> list[str]:
    return [arg for path in paths for arg in ("-f", path)]


T, F = True, False
TUTORIAL_MATRICES = [
    ("before any policy every pod reaches every pod", (APP,),
     [[T, T, T], [T, T, T], [T, T, T]]),
    ("the deny policy closes the backend to everyone else", (APP, DENY),
     [[T, T, T], [F, T, T], [F, T, T]]),
    ("with both policies only not-frontend cannot reach the backend", (APP, DENY, ALLOW),
     [[T, T, T], [T, T, T], [F, T, T]]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("paths", "allowed"),
    [c[1:] for c in TUTORIAL_MATRICES],
    ids=[c[0] for c in TUTORIAL_MATRICES],
)
def test_the_tutorial_matrix_on_8080(paths: tuple[str, ...], allowed: list[list[bool]]) -> None:
    data = matrix_json(*_files(*paths), "--port", "8080")
    assert data == {"pods": PODS, "allowed": allowed}


def test_the_json_contract_has_exactly_pods_and_allowed() -> None:
    data = matrix_json("-f", str(TUTORIAL), "--port", "8080")
    assert list(data) == ["pods", "allowed"]
    assert len(data["allowed"]) == len(data["pods"])
    assert all(len(row) == len(data["pods"]) for row in data["allowed"])
    assert all(isinstance(v, bool) for row in data["allowed"] for v in row)


def test_rows_are_sources_and_columns_destinations() -> None:
    data = matrix_json("-f", str(TUTORIAL), "--port", "8080")
    pods: list[str] = data["pods"]
    cell = data["allowed"][pods.index("default/not-frontend")][pods.index("default/backend")]
    assert cell is False
    reverse = data["allowed"][pods.index("default/backend")][pods.index("default/not-frontend")]
    assert reverse is True


def test_pods_are_sorted_by_namespace_and_name() -> None:
    stdin = "".join(
        f"kind: Pod\nmetadata: {{name: {name}, namespace: {ns}}}\n---\n"
        for ns, name in [("b", "a"), ("a", "z"), ("a", "b"), ("a-b", "c")]
    )
    data = matrix_json("-f", "-", "--port", "80", stdin=stdin)
    assert data["pods"] == ["a/b", "a/z", "a-b/c", "b/a"]


def test_a_port_the_policies_do_not_mention_is_the_same_for_isolated_pods() -> None:
    data = matrix_json(*_files(APP, DENY, ALLOW), "--port", "443")
    assert data["allowed"] == [[T, T, T], [T, T, T], [F, T, T]]


def test_a_named_port_resolves_on_each_destination_pod() -> None:
    # old calls 8080 "http", new calls 9090 "http"; the client has no port "http" at all.
    data = matrix_json("-f", NAMED, "--port", "http")
    assert data == {
        "pods": ["default/client", "default/new", "default/old"],
        "allowed": [[T, T, T], [F, T, T], [F, T, T]],
    }


def test_a_numeric_port_that_is_only_one_pods_http_is_denied_to_the_other() -> None:
    data = matrix_json("-f", NAMED, "--port", "9090")
    assert data["allowed"] == [[T, T, F], [T, T, F], [T, T, T]]


PROTOCOLS = [
    ("UDP 53 is admitted by the dns rule", ("--port", "53", "--protocol", "UDP"),
     [[T, T, T], [T, T, T], [T, T, T]]),
    ("the protocol is case insensitive", ("--port", "53", "--protocol", "udp"),
     [[T, T, T], [T, T, T], [T, T, T]]),
    ("TCP 53 is not UDP 53", ("--port", "53"), [[T, F, F], [T, T, F], [T, F, T]]),
    ("SCTP 53 is denied too", ("--port", "53", "--protocol", "SCTP"),
     [[T, F, F], [T, T, F], [T, F, T]]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "allowed"), [c[1:] for c in PROTOCOLS], ids=[c[0] for c in PROTOCOLS]
)
def test_protocol(args: tuple[str, ...], allowed: list[list[bool]]) -> None:
    assert matrix_json("-f", NAMED, *args)["allowed"] == allowed


def test_the_port_table_marks_each_pair() -> None:
    result = run("matrix", "-f", str(TUTORIAL), "--port", "8080")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "reachability on TCP 8080 (rows: from, columns: to)"
    (row,) = [line for line in lines if "default/not-frontend " in line and "│" in line]
    assert row.split("│")[2:5] == [
        "        ✗        ",
        "        ✓         ",
        "          ✓           ",
    ]
    assert result.stderr == "8 of 9 pairs allowed (a pod can always reach itself)\n"


def test_without_a_port_the_json_is_the_connectivity_map() -> None:
    data = matrix_json(*_files(APP, RANGES))
    assert list(data) == ["pods", "groups", "connections", "self"]
    assert data["pods"] == PODS
    assert data["groups"] == [[0], [1], [2]]
    to_backend = [c for c in data["connections"] if c["to"] == [0]]
    assert to_backend == [
        {
            "from": [1],
            "to": [0],
            "ports": {"TCP": [[8080, 8081]], "UDP": [[53, 53]]},
            "text": "TCP 8080-8081, UDP 53",
        }
    ]


def test_without_a_port_the_table_lists_protocols_and_ranges() -> None:
    result = run("matrix", *_files(APP, RANGES))
    assert result.exit_code == 0
    assert result.stdout.startswith("allowed connections between pods\n")
    (row,) = [line for line in result.stdout.splitlines() if "default/backend" in line]
    assert [cell.strip() for cell in row.split("│")[1:4]] == [
        "default/frontend",
        "default/backend",
        "TCP 8080-8081, UDP 53",
    ]
    assert "every pod" in result.stdout
    assert result.stderr == (
        "3 pods in 3 groups; pairs not listed have no connection; a pod can always reach itself\n"
    )


def test_pods_that_behave_alike_are_one_group() -> None:
    stdin = "".join(
        f"kind: Pod\nmetadata: {{name: web-{i}, labels: {{app: web}}}}\n---\n" for i in range(3)
    )
    data = matrix_json("-f", "-", "-f", DENY, stdin=stdin)
    assert data["pods"] == ["default/web-0", "default/web-1", "default/web-2"]
    assert data["groups"] == [[0, 1, 2]]


def test_the_ignored_objects_note_goes_to_stderr_only() -> None:
    result = run("matrix", "-f", str(TUTORIAL), "-f", UNMODELLED, "--port", "8080", "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "pods": PODS,
        "allowed": [[T, T, T], [T, T, T], [F, T, T]],
    }
    assert result.stderr == ("ignored 3 object(s) podwall does not model: 2 ConfigMap, 1 Ingress\n")


def test_check_prints_the_ignored_objects_note_on_stderr_too() -> None:
    result = run(
        "check", "-f", str(TUTORIAL), "-f", UNMODELLED, "--from", "frontend", "--to",
        "backend:8080",
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout.startswith("ALLOWED")
    assert "ignored" not in result.stdout
    assert "ignored 3 object(s)" in result.stderr


def test_stdout_and_stderr_are_separate_streams() -> None:
    # click 8.4's CliRunner keeps them apart; `output` is both, interleaved.
    result = run("matrix", "-f", str(TUTORIAL), "--port", "8080")
    assert "pairs allowed" in result.stderr
    assert "pairs allowed" not in result.stdout
    assert "pairs allowed" in result.output


def test_the_table_names_a_group_by_its_labels_and_size() -> None:
    stdin = "".join(
        f"kind: Pod\nmetadata: {{name: web-{i}, labels: {{app: web}}}}\n---\n" for i in range(3)
    )
    stdin += (
        "kind: Pod\nmetadata: {name: db, labels: {app: db}}\n---\n"
        "kind: NetworkPolicy\nmetadata: {name: db}\nspec:\n"
        "  podSelector: {matchLabels: {app: db}}\n"
        "  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 5432}]}]\n"
    )
    result = run("matrix", "-f", "-", stdin=stdin)
    assert result.exit_code == 0
    rows = [
        [cell.strip() for cell in line.split("│")[1:4]]
        for line in result.stdout.splitlines()
        if line.startswith("│")
    ]
    assert rows == [
        ["default/{app: web} (3 pods)", "default/db", "TCP 5432"],
        ["every pod", "default/{app: web} (3 pods)", "all"],
    ]
    assert result.stderr.startswith("4 pods in 2 groups;")


def test_manifests_given_twice_do_not_double_the_pods() -> None:
    result = run(
        "matrix", "-f", str(TUTORIAL), "-f", APP, "--port", "8080", "-o", "json"
    )  # fmt: skip
    assert result.exit_code == 0
    assert json.loads(result.stdout)["pods"] == PODS
    assert result.stderr == (
        "4 object(s) given more than once, the last declaration is used: "
        "Deployment default/frontend, Deployment default/not-frontend, "
        "Deployment default/backend, Service default/backend\n"
    )


def test_a_name_the_api_server_refuses_is_bad_input() -> None:
    result = run("matrix", "-f", "-", stdin="kind: Pod\nmetadata: {name: 'a[/b]'}\n")
    assert result.exit_code == 2
    assert '<stdin>:2: Pod default/a[/b]: metadata.name: Invalid value: "a[/b]"' in result.stderr


@pytest.mark.parametrize(
    "port",
    [80, None],
    ids=["the port table prints a [ in a name as it is", "the map table does too"],
)
def test_names_are_printed_as_text_never_as_markup(
    port: int | None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Validation refuses such a name in manifests; the tables must not depend on it.
    snapshot = Cluster.build(pods=[Pod(namespace="default", name="a[/b]", labels=Labels())])
    cmap = connectivity(snapshot)
    if port is None:
        output.connectivity_table(cmap)
    else:
        output.port_matrix_table(port_matrix(snapshot, port, cmap=cmap))
    assert "default/a[/b]" in capsys.readouterr().out


def _ran_in_a_terminal(*args: str) -> str:
    """podwall's output with stdout and stderr both on one pseudo-terminal, as a user sees it."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "podwall", *args],
            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
            env={**os.environ, "COLUMNS": "200", "TERM": "xterm"}, timeout=60, check=False,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        chunks = []
        with contextlib.suppress(OSError):  # EIO once everything written has been read
            while chunk := os.read(leader, 65536):
                chunks.append(chunk)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert done.returncode == 0
    text = b"".join(chunks).decode().replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _ran_through_a_pipe(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "podwall", *args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=60, check=True, text=True,
    )  # fmt: skip
    return done.stdout


@pytest.mark.parametrize("run_it", [_ran_in_a_terminal, _ran_through_a_pipe])
@pytest.mark.parametrize(
    ("port_args", "summary"),
    [((), "3 pods in 3 groups;"), (("--port", "8080"), "9 of 9 pairs allowed")],
    ids=["the connectivity map", "one port"],
)
def test_the_summary_follows_the_table_on_a_line_of_its_own(
    run_it: Callable[..., str], port_args: tuple[str, ...], summary: str
) -> None:
    lines = run_it("matrix", "-f", APP, *port_args).splitlines()
    bottom = max(i for i, line in enumerate(lines) if line.startswith("└"))
    assert lines[bottom].endswith("┘")
    assert lines[bottom + 1].startswith(summary)


def test_the_tutorial_matrix_with_tiers_around_it() -> None:
    tiers = ROOT / "examples" / "tiers"
    guard = str(tiers / "admin-deny-not-frontend.yaml")
    baseline = str(tiers / "baseline-default-deny.yaml")
    out = matrix_json(*_files(APP, guard, baseline, DENY, ALLOW), "--port", "8080")
    assert out["pods"] == PODS
    # backend's NetworkPolicies decide for it; the Baseline denies the clients' ingress.
    assert out["allowed"] == [[True, False, False], [True, True, False], [False, False, True]]


# The v1alpha1 kinds mean what the ClusterNetworkPolicy tiers mean: examples/anp is
# examples/tiers rewritten as an AdminNetworkPolicy and the BaselineAdminNetworkPolicy.
ANP = ROOT / "examples" / "anp"
TIERS = ROOT / "examples" / "tiers"
ANP_MATRICES = [
    ("the AdminNetworkPolicy keeps not-frontend out of the backend", ("admin-deny-not-frontend",),
     (), [[T, T, T], [T, T, T], [F, T, T]]),
    ("the BaselineAdminNetworkPolicy closes every pod", ("admin-deny-not-frontend",
     "baseline-default-deny"), (), [[T, F, F], [F, T, F], [F, F, T]]),
    ("a NetworkPolicy opens the backend before the baseline", ("admin-deny-not-frontend",
     "baseline-default-deny"), (DENY, ALLOW), [[T, F, F], [T, T, F], [F, F, T]]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("names", "more", "allowed"),
    [c[1:] for c in ANP_MATRICES],
    ids=[c[0] for c in ANP_MATRICES],
)
def test_admin_network_policies_match_the_same_cluster_network_policies(
    names: tuple[str, ...], more: tuple[str, ...], allowed: list[list[bool]]
) -> None:
    anp = _files(APP, *(str(ANP / f"{n}.yaml") for n in names), *more)
    cnp = _files(APP, *(str(TIERS / f"{n}.yaml") for n in names), *more)
    assert matrix_json(*anp, "--port", "8080") == matrix_json(*cnp, "--port", "8080")
    assert matrix_json(*anp, "--port", "8080") == {"pods": PODS, "allowed": allowed}
    # The full map (every port and protocol) agrees too.
    assert matrix_json(*anp) == matrix_json(*cnp)

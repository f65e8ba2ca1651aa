"""`podwall observe` over ring files two nodes wrote: merged, joined, filtered, printed."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from podwall.cli.observe import parse_since, run_observe
from podwall.flows import files
from podwall.flows.filters import FilterError, FlowFilter
from podwall.flows.flow import Flow, Verdict
from podwall.flows.ring import RingFile
from podwall.model.policy import Direction
from tests.clirunner import Result, invoke
from tests.unit.flows.samples import OUTSIDE, flow, hop

CLUSTER_ID = "c0ffee"


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory whose cluster's two nodes wrote some flows."""
    run_root = tmp_path / "run"
    monkeypatch.setattr(files, "RUN_ROOT", run_root)
    state = tmp_path / "state"
    state.mkdir()
    (state / "cluster-id").write_text(CLUSTER_ID + "\n")
    directory = files.flows_dir(CLUSTER_ID, run_root)
    one = RingFile(files.ring_path(directory, "node-1"), 100)
    two = RingFile(files.ring_path(directory, "node-2"), 100)
    one.append([hop(1000.0, "node-1"), flow(1000.1, node="node-1", direction=Direction.EGRESS)])
    two.append([flow(1000.2, node="node-2")])
    one.append([flow(1000.3, node="node-1", source=OUTSIDE, verdict=Verdict.DENIED,
                     policies=("default/backend-ingress-deny",))])  # fmt: skip
    one.close()
    two.close()
    return state


def run(*args: str) -> Result:
    return invoke(["observe", *args])


def _json(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.output.splitlines()]


def test_every_node_merged_in_time_order_with_the_service_joined(state: Path) -> None:
    result = run("--state-dir", str(state), "-o", "json")
    assert result.exit_code == 0
    rows = _json(result)
    assert [(r["node"], r["direction"]) for r in rows] == [
        ("node-1", "egress"),
        ("node-2", "ingress"),
        ("node-1", "ingress"),
    ]
    # node-2 decided the ingress of a connection node-1 translated: the Service is joined
    assert [r.get("service") for r in rows] == ["default/backend", "default/backend", None]


@pytest.mark.parametrize(
    ("args", "count"),
    [
        pytest.param(("--verdict", "denied"), 1, id="--verdict"),
        pytest.param(
            ("--policy", "backend-ingress-deny"), 1, id="--policy in the default namespace"
        ),
        pytest.param(("--from", "203.0.113.0/24"), 1, id="--from a CIDR"),
        pytest.param(("--to", "default/backend", "--port", "8080"), 3, id="--to and --port"),
        pytest.param(("--pod", "frontend"), 2, id="--pod either end"),
        pytest.param(("--namespace", "kube-system"), 0, id="--namespace with no flow"),
        pytest.param(("--last", "1"), 1, id="--last"),
        pytest.param(("--since", "1970-01-01T00:16:40.25Z"), 1, id="--since a time"),
    ],
)
def test_filters(state: Path, args: tuple[str, ...], count: int) -> None:
    result = run("--state-dir", str(state), "-o", "json", *args)
    assert result.exit_code == 0
    assert len(result.output.splitlines()) == count


def test_text_lines_read_like_hubble(state: Path) -> None:
    result = run("--state-dir", str(state), "--verdict", "DENIED")
    assert result.output.rstrip().endswith(
        "203.0.113.9:443 -> default/backend:8080 TCP INGRESS DENIED: "
        "denied by default/backend-ingress-deny"
    )


def test_a_bad_filter_is_bad_input(state: Path) -> None:
    result = run("--state-dir", str(state), "--verdict", "dropped")
    assert result.exit_code == 2
    assert "--verdict 'dropped'" in result.output


def test_no_cluster_is_bad_input(tmp_path: Path) -> None:
    result = run("--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "podwall up" in result.output


def test_following_prints_the_history_then_what_comes(tmp_path: Path) -> None:
    directory = tmp_path / "flows"
    ring = RingFile(files.ring_path(directory, "node-1"), 100)
    ring.append([flow(1.0), flow(2.0)])
    shown: list[Flow] = []

    def show(item: Flow) -> None:
        shown.append(item)
        if len(shown) == 1:  # a node that starts while we follow is read from its start
            late = RingFile(files.ring_path(directory, "node-2"), 100)
            late.append([flow(3.0, node="node-2")])
            late.close()

    run_observe(directory, FlowFilter(), follow=True, last=1, show=show, polls=1)
    ring.close()
    assert [(f.node, f.time) for f in shown] == [("node-1", 2.0), ("node-2", 3.0)]


NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", NOW - 30),
        ("5m", NOW - 300),
        ("1h30m", NOW - 5400),
        ("2d", NOW - 172800),
        ("250ms", NOW - 0.25),
        (
            "2025-01-02T03:04:05Z",
            datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC).timestamp(),
        ),
    ],
)
def test_parse_since(text: str, expected: float) -> None:
    assert parse_since(text, NOW) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "5 minutes", "5x", "yesterday"])
def test_parse_since_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(FilterError, match="--since"):
        parse_since(text, NOW)

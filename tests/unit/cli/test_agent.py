"""`podwall agent` and `podwall status`'s agents: the CLI's own part (no cluster, no root)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from podwall.agent.lease import Enforcement, lease_body
from podwall.cli.agent import agent_rows, agents_lines
from tests.clirunner import invoke

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


def lease(node: str, renewed: datetime, **enforcement: object) -> dict[str, object]:
    return lease_body(node, f"agent-{node}", Enforcement(**enforcement), renewed, None)  # type: ignore[arg-type]


def test_the_agent_command_is_registered() -> None:
    result = invoke(["agent", "--help"])
    assert result.exit_code == 0
    assert "--node-name" in result.output
    assert "--cleanup" in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "{path}: no kubeconfig there"),
        ("clusters: [", "{path}: cannot use this kubeconfig: ParserError"),
        (
            "apiVersion: v1\ncurrent-context: gone\n",
            "{path}: cannot use this kubeconfig: ConfigException",
        ),
    ],
    ids=["missing", "not yaml", "no such context"],
)
def test_a_bad_kubeconfig_is_one_line_and_exit_2(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "kubeconfig"
    if content is not None:
        path.write_text(content)
    result = invoke(["agent", "--kubeconfig", str(path), "--node-name", "n"])
    assert result.exit_code == 2
    (line,) = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert line.startswith("error: no cluster configuration: " + expected.format(path=path))


def test_rows_say_alive_down_and_what_is_enforced() -> None:
    leases = [
        lease(
            "node-2",
            NOW - timedelta(seconds=5),
            ready=True,
            synced_resource_version="812",
            synced_at=NOW - timedelta(seconds=6),
            lag_seconds=0.25,
            policies=10,
            pods=31,
        ),
        lease("node-1", NOW - timedelta(minutes=5), ready=True, last_error="NftError: x"),
        lease("node-3", NOW - timedelta(seconds=1)),
    ]
    assert agent_rows(leases, NOW) == [
        ("node-1", "down", "5m ago", "-", "-", "0", "0", "NftError: x"),
        ("node-2", "alive", "5s ago", "rv 812, 6s ago", "0.2s", "10", "31", "-"),
        ("node-3", "starting", "1s ago", "-", "0.0s", "0", "0", "-"),
    ]


def test_the_table_has_a_summary_and_aligned_columns() -> None:
    lines = agents_lines([lease("node-1", NOW - timedelta(minutes=5))], NOW, "podwall-system")
    assert lines[0] == "agents: 1, 1 down"
    assert lines[1].split() == ["NODE", "AGENT", "RENEWED", "SYNCED", "LAG", "POLICIES", "PODS",
                                "LAST", "ERROR"]  # fmt: skip
    assert lines[1].index("AGENT") == lines[2].index("down")


def test_no_lease_says_so() -> None:
    assert agents_lines([], NOW, "podwall-system") == [
        "agents: none (no agent Lease in namespace podwall-system)"
    ]

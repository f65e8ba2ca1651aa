"""`podwall exposure` on the tutorial: one workload, a service, every pod, JSON, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirunner import Result, invoke

TUTORIAL = Path(__file__).parents[3] / "examples" / "tutorial"


def run(*args: str) -> Result:
    return invoke(["exposure", "-f", str(TUTORIAL), *args])


def test_a_workload_behind_the_tutorial_policies() -> None:
    result = run("deploy/backend")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "default/backend (deployment backend) is reachable",
        "  from outside the cluster: no",
        "  from namespace default: frontend: all ports",
    ]


def test_a_service_stands_for_its_pods() -> None:
    assert run("svc/backend").stdout == run("deploy/backend").stdout


def test_every_pod_most_exposed_first() -> None:
    lines = run("--all").stdout.splitlines()
    assert lines[0].split() == ["POD", "FROM", "OUTSIDE", "FROM", "NAMESPACES", "PODS", "PORTS"]
    assert [line.split()[:2] for line in lines[1:]] == [
        ["default/frontend", "anywhere"],
        ["default/not-frontend", "anywhere"],
        ["default/backend", "no"],
    ]


def test_json() -> None:
    data = json.loads(run("deploy/backend", "-o", "json").stdout)
    assert data == {
        "pods": [
            {
                "pod": "default/backend",
                "anywhere": False,
                "outside": [],
                "from": [
                    {
                        "namespace": "default",
                        "pods": ["default/frontend"],
                        "everyPod": False,
                        "ports": "all",
                    }
                ],
            }
        ]
    }


BAD = [
    ("neither a pod nor --all", [], "name a pod"),
    ("both a pod and --all", ["deploy/backend", "--all"], "name a pod"),
    ("a pod that does not exist", ["nope"], "nope: no pod default/nope in the manifests"),
]


@pytest.mark.parametrize(("args", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_exits_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.stderr

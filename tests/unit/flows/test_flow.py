from __future__ import annotations

import json

from hypothesis import given

from podwall.flows.flow import Flow
from podwall.model.policy import Direction
from tests.unit.flows.samples import BACKEND, FRONTEND, OUTSIDE, flow, flows


@given(flows())
def test_json_round_trips(original: Flow) -> None:
    assert Flow.from_json(json.loads(json.dumps(original.to_json()))) == original


def test_the_subject_is_the_source_for_egress_and_the_destination_for_ingress() -> None:
    assert flow(direction=Direction.EGRESS).subject == FRONTEND
    assert flow(direction=Direction.INGRESS).subject == BACKEND


def test_json_names_pods_with_labels_and_outside_addresses_alone() -> None:
    data = flow(source=OUTSIDE, time=0.5).to_json()
    assert data["time"] == "1970-01-01T00:00:00.500000Z"
    assert data["source"] == {"ip": "203.0.113.9", "port": 443}
    assert data["destination"] == {
        "ip": "198.18.0.3",
        "port": 8080,
        "namespace": "default",
        "pod": "backend",
        "labels": {"app": "backend"},
    }
    assert data["rule"] == {"index": 0, "peer": 0}
    assert "service" not in data

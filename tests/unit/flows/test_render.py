from __future__ import annotations

import datetime
import json

from podwall.flows import render
from podwall.model.policy import Direction
from tests.unit.flows.samples import flow

UTC = datetime.UTC


def test_a_text_line_reads_like_hubble_observe() -> None:
    line = render.text(flow(time=1_700_000_000.25, service="default/backend"), tz=UTC)
    assert line == (
        "Nov 14 22:13:20.250 [node-1]: default/frontend:40000 -> default/backend:8080 "
        "(service default/backend) TCP INGRESS ALLOWED: "
        "allowed by default/backend-allow-ingress-frontend"
    )


def test_an_egress_line_says_so() -> None:
    assert " EGRESS " in render.text(flow(direction=Direction.EGRESS), tz=UTC)


def test_a_json_line_is_one_object_on_one_line() -> None:
    line = render.json_line(flow())
    assert "\n" not in line
    assert json.loads(line)["verdict"] == "ALLOWED"

"""Flows as a reader sees them: one line of text each, or one JSON object a line.

The text line reads like `hubble observe`'s:

    Mar  3 10:15:02.113 [node-1]: default/frontend:40312 -> default/backend:8080 TCP
        INGRESS ALLOWED: allowed by default/backend-allow-ingress-frontend ingress[0] from[0]

(one line). Pure: no I/O here; the caller prints.
"""

from __future__ import annotations

import datetime
import json

from podwall.flows.flow import Flow, FlowEndpoint


def _end(end: FlowEndpoint) -> str:
    return end.key if end.port is None else f"{end.key}:{end.port}"


def stamp(seconds: float, tz: datetime.tzinfo | None = None) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz)
    return moment.strftime("%b %e %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def text(flow: Flow, tz: datetime.tzinfo | None = None) -> str:
    via = f" (service {flow.service})" if flow.service is not None else ""
    return (
        f"{stamp(flow.time, tz)} [{flow.node}]: {_end(flow.source)} -> "
        f"{_end(flow.destination)}{via} {flow.protocol} {flow.direction.value.upper()} "
        f"{flow.verdict.value}: {flow.reason}"
    )


def json_line(flow: Flow) -> str:
    return json.dumps(flow.to_json(), separators=(",", ":"))

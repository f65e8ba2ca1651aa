from __future__ import annotations

import pytest

from podwall.flows.filters import EndMatch, FilterError, FlowFilter, parse_policy, parse_verdict
from podwall.flows.flow import Verdict
from tests.unit.flows.samples import OUTSIDE, flow

ALLOWED = flow()  # default/frontend:40000 -> default/backend:8080, ALLOWED at 1000.0
FROM_OUTSIDE = flow(source=OUTSIDE, verdict=Verdict.DENIED, policies=("default/deny",))


def _end(text: str) -> tuple[EndMatch, ...]:
    return (EndMatch.parse(text, "--pod"),)


@pytest.mark.parametrize(
    ("flt", "matches"),
    [
        pytest.param(FlowFilter(), True, id="no filter lets everything through"),
        pytest.param(FlowFilter(pods=_end("backend")), True, id="--pod NAME matches either end"),
        pytest.param(
            FlowFilter(pods=_end("default/frontend")), True, id="--pod NS/NAME matches the source"
        ),
        pytest.param(
            FlowFilter(pods=_end("other/backend")), False, id="--pod in another namespace does not"
        ),
        pytest.param(
            FlowFilter(pods=_end("198.18.0.0/24")), True, id="--pod CIDR matches pod addresses"
        ),
        pytest.param(FlowFilter(namespaces=("default",)), True, id="--namespace of either end"),
        pytest.param(
            FlowFilter(namespaces=("kube-system",)), False, id="--namespace of neither end"
        ),
        pytest.param(FlowFilter(sources=_end("frontend")), True, id="--from the source"),
        pytest.param(
            FlowFilter(sources=_end("backend")), False, id="--from the destination does not match"
        ),
        pytest.param(FlowFilter(destinations=_end("backend")), True, id="--to the destination"),
        pytest.param(FlowFilter(ports=(8080,)), True, id="--port is the destination port"),
        pytest.param(FlowFilter(ports=(40000,)), False, id="--port is not the source port"),
        pytest.param(
            FlowFilter(verdicts=(Verdict.DENIED,)), False, id="--verdict DENIED on an allowed flow"
        ),
        pytest.param(
            FlowFilter(policies=("default/backend-allow-ingress-frontend",)),
            True,
            id="--policy the admitting policy",
        ),
        pytest.param(FlowFilter(policies=("default/other",)), False, id="--policy another policy"),
        pytest.param(FlowFilter(since=1000.0), True, id="--since includes its own instant"),
        pytest.param(FlowFilter(since=1000.5), False, id="--since after the flow"),
        pytest.param(
            FlowFilter(pods=_end("backend"), verdicts=(Verdict.DENIED,)),
            False,
            id="every filter must hold",
        ),
    ],
)
def test_filter(flt: FlowFilter, matches: bool) -> None:
    assert flt.matches(ALLOWED) is matches


def test_an_address_matches_an_outside_end_and_a_pod_name_does_not() -> None:
    assert FlowFilter(sources=_end("203.0.113.9")).matches(FROM_OUTSIDE)
    assert not FlowFilter(sources=_end("frontend")).matches(FROM_OUTSIDE)


@pytest.mark.parametrize(
    "text", ["", "a/", "/b", "a/b/c"], ids=["empty", "no pod", "no namespace", "two slashes"]
)
def test_a_malformed_end_names_its_option(text: str) -> None:
    with pytest.raises(FilterError, match="--from"):
        EndMatch.parse(text, "--from")


def test_verdicts_and_policies_parse() -> None:
    assert parse_verdict("denied") is Verdict.DENIED
    assert parse_policy("web") == "default/web"
    assert parse_policy("x/web") == "x/web"
    with pytest.raises(FilterError, match="ALLOWED, DENIED, AUDIT"):
        parse_verdict("dropped")
    with pytest.raises(FilterError, match="--policy"):
        parse_policy("a/b/c")

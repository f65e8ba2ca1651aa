"""labels.Parse, NewRequirement and LabelSelectorAsSelector: what parses, what it matches, and
the errors in apimachinery's words."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.model.labels import Labels
from podwall.model.labelselectors import SelectorError, as_selector, lex, parse

LABELS = Labels({"app": "web", "tier": "front", "replicas": "3"})

PARSED = [
    ("equality", "app=web", "app=web", True),
    ("double equals", "app==web", "app==web", True),
    ("inequality of a present key", "app!=web", "app!=web", False),
    ("inequality of a missing key matches", "zone!=a", "zone!=a", True),
    ("set membership, values sorted", "tier in (front, back)", "tier in (back,front)", True),
    ("set exclusion", "tier notin (front)", "tier notin (front)", False),
    ("set exclusion of a missing key matches", "zone notin (a)", "zone notin (a)", True),
    ("existence", "tier", "tier", True),
    ("absence", "!tier", "!tier", False),
    ("absence of a missing key", "!zone", "!zone", True),
    ("every term must hold", "app=web,tier in (back)", "app=web,tier in (back)", False),
    ("terms are sorted by key", "tier,app=web", "app=web,tier", True),
    ("commas inside parentheses do not split", "app in (x,web),tier", "app in (web,x),tier", True),
    ("empty places in a set are the empty string", "x in (a,,b)", "x in (,a,b)", False),
    ("an empty set holds the empty string", "x notin ()", "x notin ()", True),
    ("a missing exact value is the empty string", "app=", "app=", False),
    ("in and notin are values inside a set", "in in (in,notin)", "in in (in,notin)", False),
    ("greater than compares integers", "replicas>2", "replicas>2", True),
    ("less than compares integers", "replicas<3", "replicas<3", False),
    ("a comparison with a key that is not there", "zone>1", "zone>1", False),
    ("whitespace around tokens", "  app =  web ,  tier ", "app=web,tier", True),
    ("the empty selector matches everything", "", "", True),
]


@pytest.mark.parametrize(
    ("text", "rendered", "matches"), [c[1:] for c in PARSED], ids=[c[0] for c in PARSED]
)
def test_parse(text: str, rendered: str, matches: bool) -> None:
    selector = parse(text)
    assert selector.string() == rendered
    assert selector.matches(LABELS) is matches
    assert parse(rendered) == selector  # what String() prints parses back to the same


KEY_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
ERRORS = [
    ("an unknown operator", "a is b",
     "unable to parse requirement: found 'is', expected: in, notin, =, ==, !=, gt, lt"),
    ("a set without parentheses", "a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("an unclosed set", "a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("two values without a comma", "a in (b c)",
     "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a set that starts with an operator", "a in (=)",
     "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("an operator where a value belongs", "a=(",
     "unable to parse requirement: found '(', expected: identifier"),
    ("a double negation", "!!a", "unable to parse requirement: found '!', expected: identifier"),
    ("a trailing comma", "a,", "found '', expected: identifier after ','"),
    ("a leading comma", ",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a second operator", "a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("a negated key with a value", "!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a key that is not a qualified name", "-a",
     f'unable to parse requirement: <nil>: Invalid value: "-a": {KEY_MESSAGE}'),
    ("a value that is not a label value", "a=-x",
     f'unable to parse requirement: values[0][a]: Invalid value: "-x": {VALUE_MESSAGE}'),
    ("a comparison with a word", "a>x",
     'unable to parse requirement: values[0]: Invalid value: "x": '
     "for 'Gt', 'Lt' operators, the value must be an integer"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_parse_errors_are_upstream_s(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as error:
        parse(text)
    assert str(error.value) == message


def test_the_lexer_takes_the_longest_operator_and_stops_at_a_nul() -> None:
    assert [i.literal for i in lex("a!=b,c==d,!e")] == [
        "a", "!=", "b", ",", "c", "==", "d", ",", "!", "e", "",
    ]  # fmt: skip
    assert [i.literal for i in lex("a=b\0,=")] == ["a", "=", "b", ""]


AS_SELECTOR: list[tuple[str, dict[str, Any] | None, str | None]] = [
    ("null selects nothing", None, None),
    ("the empty selector is empty", {}, ""),
    ("matchLabels and matchExpressions sorted together by key",
     {"matchLabels": {"z": "1"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]},
     "a,z=1"),
    ("every operator", {"matchExpressions": [
        {"key": "a", "operator": "NotIn", "values": ["y", "x"]},
        {"key": "b", "operator": "DoesNotExist"},
        {"key": "c", "operator": "In", "values": ["v"]}]},
     "a notin (x,y),!b,c in (v)"),
    ("a null matchLabels value is the empty string", {"matchLabels": {"a": None}}, "a="),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "rendered"), [c[1:] for c in AS_SELECTOR], ids=[c[0] for c in AS_SELECTOR]
)
def test_as_selector(raw: dict[str, Any] | None, rendered: str | None) -> None:
    selector = as_selector(raw)
    assert (None if selector is None else selector.string()) == rendered


AS_SELECTOR_ERRORS = [
    ("an operator metav1 does not have (not treated as Exists)",
     {"matchExpressions": [{"key": "a", "operator": "Exist"}]},
     '"Exist" is not a valid label selector operator'),
    ("a null expression is Go's zero requirement", {"matchExpressions": [None]},
     '"" is not a valid label selector operator'),
    ("an operator only the string syntax has",
     {"matchExpressions": [{"key": "a", "operator": "="}]},
     '"=" is not a valid label selector operator'),
    ("In without values", {"matchExpressions": [{"key": "a", "operator": "In"}]},
     "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"),
    ("Exists with values", {"matchExpressions": [{"key": "a", "operator": "Exists",
                                                  "values": ["x"]}]},
     'values: Invalid value: []string{"x"}: '
     "values set must be empty for exists and does not exist"),
    ("a bad key and a bad value, aggregated", {"matchLabels": {"-a": "-x"}},
     f'[key: Invalid value: "-a": {KEY_MESSAGE}, '
     f'values[0][-a]: Invalid value: "-x": {VALUE_MESSAGE}]'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    [c[1:] for c in AS_SELECTOR_ERRORS],
    ids=[c[0] for c in AS_SELECTOR_ERRORS],
)
def test_as_selector_errors(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectorError) as error:
        as_selector(raw)
    assert str(error.value) == message

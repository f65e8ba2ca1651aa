"""loading.convert: many objects are validated on every core while the process converts them;
the answer, and every error, is the one validating first and converting after gives."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.cli import loading
from podwall.cli.loading import InvalidManifests
from podwall.manifests.reader import Loaded, load_text
from podwall.model.convert import Conversion
from tests.forkcount import count_shares, expected_shares


def _manifests(count: int, bad: tuple[int, ...] = ()) -> Loaded:
    docs = [
        f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {'Bad_Name' if i in bad else f'p{i}'}\n"
        f"  namespace: n{i % 9}\n  labels: {{app: a{i % 5}}}\nspec:\n  containers:\n"
        f"  - name: c\n    image: i\n    ports: [{{containerPort: {80 + i % 3}}}]\n"
        f"status:\n  podIP: 198.18.{i // 250}.{i % 250 + 1}\n"
        for i in range(count)
    ]
    docs += ["apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: d}\n"
             "spec: {podSelector: {}}\n"]  # fmt: skip
    return load_text("---\n".join(docs), "many.yaml")


def _serially(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "PARALLEL_OBJECTS", 10**9)


def _outcome(loaded: Loaded) -> Any:
    try:
        conversion: Conversion = loading.convert(loaded)
    except InvalidManifests as exc:
        return exc.lines
    return conversion.cluster


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param((), id="all-valid"),
        pytest.param((3,), id="invalid-in-this-process-share"),
        pytest.param((1500, 2999), id="invalid-in-a-child-share"),
        pytest.param((0, 1700), id="invalid-in-both"),
    ],
)
def test_shared_validation_gives_the_serial_answer(
    monkeypatch: pytest.MonkeyPatch, bad: tuple[int, ...]
) -> None:
    shared = _outcome(_manifests(3000, bad))
    _serially(monkeypatch)
    assert shared == _outcome(_manifests(3000, bad))
    assert isinstance(shared, list) == bool(bad)


def test_the_children_share_the_validation_when_it_can_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shares = count_shares(monkeypatch)
    loading.convert(_manifests(1200))
    assert shares == expected_shares()


def _conversion_fails(*_: object) -> Conversion:
    raise TypeError("what converting an invalid object may raise")


def test_a_conversion_that_fails_on_invalid_input_leaves_the_validation_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loading, "cluster", _conversion_fails)
    with pytest.raises(InvalidManifests, match="Bad_Name"):
        loading.convert(_manifests(2000, bad=(1900,)))


def test_a_conversion_that_fails_on_valid_input_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "cluster", _conversion_fails)
    with pytest.raises(TypeError, match="what converting"):
        loading.convert(_manifests(2000))

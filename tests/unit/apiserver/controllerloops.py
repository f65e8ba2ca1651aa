"""What the tests of the controller loops share: a store that admits as the API server does,
its controllers' informers alone (what they queue, the worker not running) or the whole loop,
and `settle`, which waits until the loop is idle."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.mutating import Admission
from podwall.apiserver.reconciler import CONTROLLERS, Reconciler
from podwall.apiserver.store import Store


@contextmanager
def admitted_store(path: Path) -> Iterator[Store]:
    """A bootstrapped Store at `path` with admission installed; closed at the end."""
    store = Store(path)
    bootstrap(store)
    allow = Admission(store)
    allow.install()
    try:
        yield store
    finally:
        allow.remove()
        store.close()


@contextmanager
def running_loop(store: Store, controllers: Iterable[str] = CONTROLLERS) -> Iterator[Reconciler]:
    """The reconciler with `controllers` (every one by default) installed on `store`."""
    reconciler = Reconciler(store, controllers=controllers)
    reconciler.install()
    try:
        yield reconciler
    finally:
        reconciler.remove()


@contextmanager
def queued_by(store: Store, controller: str) -> Iterator[Callable[[], list[Any]]]:
    """The informers of `controller` run, its worker does not: a function that returns (and
    empties) what the controller queued."""
    loop = Reconciler(store, controllers=[controller])
    loop.informers.start()
    (only,) = loop.controllers

    def drain() -> list[Any]:
        keys = []
        while (key := only.queue.get(timeout=0)) is not None:
            keys.append(key)
            only.queue.done(key)
        return keys

    try:
        yield drain
    finally:
        loop.informers.stop()


def settle(loop: Reconciler) -> None:
    assert loop.wait_idle(), "the controllers did not settle"

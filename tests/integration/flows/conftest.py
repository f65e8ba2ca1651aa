"""Fresh sandbox node namespaces, removed by name afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from podwall.runtime.names import random_cluster_id
from podwall.runtime.netns import NodeSandbox


@pytest.fixture
def make_node() -> Iterator[Callable[[], str]]:
    made: list[NodeSandbox] = []

    def make() -> str:
        sandbox = NodeSandbox(random_cluster_id())
        made.append(sandbox)
        sandbox.create()
        return sandbox.netns

    yield make
    for sandbox in made:
        sandbox.destroy()

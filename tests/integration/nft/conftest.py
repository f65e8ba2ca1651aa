"""A fresh sandbox node namespace per test, removed by name afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from podwall.runtime.names import random_cluster_id
from podwall.runtime.netns import NodeSandbox


@pytest.fixture
def node() -> Iterator[str]:
    sandbox = NodeSandbox(random_cluster_id())
    with sandbox:
        sandbox.create()
        yield sandbox.netns

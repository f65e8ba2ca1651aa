"""Fixtures for podwall.nft tests.

The `netns` marker (skip locally, fail under CI=true / PODWALL_REQUIRE_ALL=1 when root,
nft, ip or unshare is missing) is handled by the top-level tests/conftest.py.
"""

from __future__ import annotations

import pytest

from podwall.nft.transaction import Transaction

from .nft_samples import sample_transaction


@pytest.fixture
def sample_tx() -> Transaction:
    return sample_transaction()

"""Fixtures: the editor app with the lab's manifests loaded, or with nothing loaded."""

from __future__ import annotations

import pytest

from podwall.editor.app import create_app
from podwall.editor.workspace import Workspace
from tests.unit.editor.apiclient import TOKEN, Client, workspace


@pytest.fixture
def client() -> Client:
    """As after the lab's task 10.1.3: the app and backend-ingress-deny."""
    return Client(create_app(workspace("simple-app.yaml", "backend-ingress-deny.yaml"), TOKEN))


@pytest.fixture
def empty_client() -> Client:
    return Client(create_app(Workspace(), TOKEN))

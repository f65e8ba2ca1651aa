"""A client for the editor app over httpx's in-process ASGI transport (no socket)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from podwall.editor.sources import FileSource
from podwall.editor.workspace import Workspace

ROOT = Path(__file__).resolve().parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
TOKEN = "test-token"
BASE = "http://127.0.0.1:8765"


class Client:
    """A synchronous face on httpx's ASGI transport; `token=False` sends none."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, *, token: bool = True, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        cookies = kw.pop("cookies", None)
        if token:
            headers.setdefault("x-podwall-token", TOKEN)

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url=BASE, cookies=cookies
            ) as client:
                return await client.request(method, path, headers=headers, **kw)

        return asyncio.run(go())

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json=body, **kw)

    def ok(self, path: str, body: Any = None) -> Any:
        response = self.get(path) if body is None else self.post(path, body)
        assert response.status_code == 200, response.text
        return response.json()


def workspace(*names: str) -> Workspace:
    return Workspace([FileSource([str(TUTORIAL / n) for n in names])])

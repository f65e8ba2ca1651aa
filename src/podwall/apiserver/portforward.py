"""`kubectl port-forward`: pods/portforward, over WebSocket (tunneled SPDY) and over SPDY/3.1.

* kubectl 1.31 and newer: `GET .../pods/NAME/portforward` upgraded to a WebSocket with the
  subprotocol `SPDY/3.1+portforward.k8s.io`; every binary message carries bytes of a SPDY
  connection (client-go's TunnelingConnection), so the streams are those of SPDY below.
* kubectl before 1.31 (or with KUBECTL_PORT_FORWARD_WEBSOCKETS=false), and 1.31+ when the
  WebSocket is refused: `POST .../pods/NAME/portforward` with `Upgrade: SPDY/3.1` and
  `X-Stream-Protocol-Version: portforward.k8s.io`, answered 101 (spdyexec's HTTP protocol hands
  the connection over).

portforwardsession.py serves the streams; the runtime (PortForwardRuntime) connects to the
pod's port. Checked before the upgrade, as for exec: the pod exists (404), a runtime that can
port-forward is there (503), the pod runs on it (400).
"""

from __future__ import annotations

import contextlib
import logging
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from podwall.apiserver import errors, spdyexec
from podwall.apiserver.errors import ApiError
from podwall.apiserver.exec import deny, runtime_missing
from podwall.apiserver.podruntime import PodLookupError, PodRuntime, PortForwardRuntime
from podwall.apiserver.portforwardsession import PROTOCOL, Connect, PortForwardSession
from podwall.apiserver.spdyexec import RawConnection, upgrade_spdy
from podwall.apiserver.store import Store

log = logging.getLogger(__name__)

TUNNEL = "SPDY/3.1+portforward.k8s.io"


def portforward_connect(
    store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> Connect:
    """Everything checked before the upgrade (ApiError otherwise); what reaches a port."""
    obj = store.get("pods", namespace, pod)
    containers = (obj.get("spec") or {}).get("containers") or []
    if runtime is None:
        raise runtime_missing()
    if not isinstance(runtime, PortForwardRuntime):
        raise ApiError(503, "ServiceUnavailable", "this pod runtime cannot forward ports")
    try:
        runtime.check_container(namespace, pod, str(containers[0].get("name")))
    except (PodLookupError, IndexError) as exc:
        raise errors.bad_request(f"pod {pod} is not running on this node") from exc
    return partial(runtime.port_forward, namespace, pod)


async def serve_websocket(websocket: WebSocket, store: Store, runtime: PodRuntime | None) -> None:
    """The pods/portforward WebSocket endpoint: SPDY tunneled in binary messages."""
    params = websocket.path_params
    namespace, pod = str(params["namespace"]), str(params["name"])
    offered = [p.strip() for p in websocket.headers.get("sec-websocket-protocol", "").split(",")]
    try:
        if TUNNEL not in offered:
            raise errors.bad_request(
                f"requested protocol(s) are not supported: {offered}; supports [{TUNNEL}]"
            )
        connect = portforward_connect(store, runtime, namespace, pod)
    except ApiError as exc:
        await deny(websocket, exc)
        return
    await websocket.accept(subprotocol=TUNNEL)
    try:
        await PortForwardSession(_WebSocketPipe(websocket), connect).run()
    finally:
        with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
            await websocket.close(1000)


def serve_http(
    request: Request, store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> Response:
    """pods/portforward without a WebSocket: SPDY when asked for and possible, else a 400."""
    connect = portforward_connect(store, runtime, namespace, pod)
    if not spdyexec.wants_spdy(request):
        raise errors.bad_request("Upgrade request required")
    offered = [
        token.strip()
        for value in request.headers.getlist("x-stream-protocol-version")
        for token in value.split(",")
    ]
    if PROTOCOL not in offered:
        raise ApiError(
            403, "Forbidden",
            f"unable to upgrade: unable to negotiate protocol: client supports {offered}, "
            f"server supports [{PROTOCOL}]",
        )  # fmt: skip
    return _SpdyUpgrade(connect)


class _SpdyUpgrade(Response):
    """Sends 101, then serves the streams on the connection."""

    def __init__(self, connect: Connect) -> None:
        super().__init__(status_code=101)
        self.connect = connect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = upgrade_spdy(scope, PROTOCOL)
        try:
            await PortForwardSession(_RawPipe(connection), self.connect).run()
        finally:
            connection.close()


class _RawPipe:
    def __init__(self, connection: RawConnection) -> None:
        self.connection = connection

    async def read(self) -> bytes:
        return await self.connection.read()

    async def write(self, data: bytes) -> None:
        self.connection.write(data)
        await self.connection.drain()


class _WebSocketPipe:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket

    async def read(self) -> bytes:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return b""
            data = message.get("bytes")
            if data:
                return bytes(data)

    async def write(self, data: bytes) -> None:
        try:
            await self.websocket.send_bytes(data)
        except WebSocketDisconnect as exc:
            raise OSError("the client closed the WebSocket") from exc

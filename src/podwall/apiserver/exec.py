"""`kubectl exec` over WebSocket `v5.channel.k8s.io` (kubectl-api.md §10), and the checks every
exec request passes first.

kubectl upgrades `GET .../pods/NAME/exec?command=...&container=...&stdin=true...` to a
WebSocket. Every message is a binary frame whose first byte is a channel:

| channel | direction        | content                                                     |
|---------|------------------|-------------------------------------------------------------|
| 0       | client -> server | stdin bytes                                                 |
| 1, 2    | server -> client | stdout, stderr (with a TTY, the pty's output is all on 1)   |
| 3       | server -> client | one metav1.Status, last: Success or NonZeroExitCode + code  |
| 4       | client -> server | `{"Width":W,"Height":H}`: resize the pty (TIOCSWINSZ)       |
| 255     | client -> server | `[255, 0]`: the client's stdin ended (v5 only)              |

WebSocketTransport carries an ExecSession (execsession.py), which runs the command through the
PodRuntime. After the Status on channel 3 comes a close frame with code 1000.

Errors found before the upgrade (no such pod, invalid container, no runtime attached) are
answered as an HTTP Status instead of 101 (the WebSocket denial response). kubectl then retries
over SPDY with a POST, which gets the same Status. kubectl before 1.30 (or with
KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false) speaks only SPDY to exec: spdyexec.py serves it, with
the same checks and session. Only an app run without spdyexec's HTTP protocol
(SpdyH11Protocol: it hands the connection over) answers SPDY with a 400 (SPDY_MESSAGE).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect

from podwall.apiserver import errors
from podwall.apiserver.errors import ApiError
from podwall.apiserver.execsession import (
    ExecSession,
    Inbound,
    Launch,
    Status,
    resize_all,
    status_json,
)
from podwall.apiserver.handlers import status_response
from podwall.apiserver.podruntime import ExecRequest, Output, PodLookupError, PodRuntime
from podwall.apiserver.store import Store

log = logging.getLogger(__name__)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
PROTOCOLS = (V5, V4)
SPDY_MESSAGE = (
    "this server runs without podwall's HTTP protocol, so it serves exec over WebSocket "
    "(v5.channel.k8s.io) only, not SPDY: use kubectl 1.30 or newer"
)


@dataclass(frozen=True, slots=True)
class ExecOptions:
    """The query of an exec request (PodExecOptions)."""

    command: tuple[str, ...]
    container: str | None
    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool

    @property
    def request(self) -> ExecRequest:
        return ExecRequest(
            command=self.command, stdin=self.stdin, stdout=self.stdout,
            stderr=self.stderr, tty=self.tty,
        )  # fmt: skip


def runtime_missing() -> ApiError:
    return ApiError(
        503,
        "ServiceUnavailable",
        "pod runtime not attached: this API server runs no pods, so it cannot exec or read logs",
    )


def _flag(params: QueryParams, name: str) -> bool:
    return params.get(name, "").lower() in ("true", "1")


def exec_options(params: QueryParams) -> ExecOptions:
    """PodExecOptions from the query, validated as the API server does (400 otherwise)."""
    command = tuple(params.getlist("command"))
    if not command:
        raise errors.bad_request("you must specify at least one command for the container")
    stdin, stdout, stderr = (_flag(params, name) for name in ("stdin", "stdout", "stderr"))
    if not (stdin or stdout or stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    tty = _flag(params, "tty")
    return ExecOptions(
        command=command,
        container=params.get("container") or None,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr and not tty,  # a TTY merges stderr into stdout
        tty=tty,
    )


def pod_container(store: Store, namespace: str, pod: str, container: str | None) -> str:
    """The container a pods/exec or pods/log request names, checked against the pod's spec.

    Raises 404 for a missing pod and 400 with the API server's wording for a bad container.
    """
    obj = store.get("pods", namespace, pod)
    spec = obj.get("spec") or {}
    names = [str(c.get("name")) for c in spec.get("containers") or []]
    init_names = [str(c.get("name")) for c in spec.get("initContainers") or []]
    ephemeral = [str(c.get("name")) for c in spec.get("ephemeralContainers") or []]
    if container:
        if container not in (*names, *init_names, *ephemeral):
            raise errors.bad_request(f"container {container} is not valid for pod {pod}")
        return container
    if len(names) == 1:
        return names[0]
    if not names:
        raise errors.bad_request(f"a container name must be specified for pod {pod}")
    message = (
        f"a container name must be specified for pod {pod}, choose one of: [{' '.join(names)}]"
    )
    if init_names:
        message += f" or one of the init containers: [{' '.join(init_names)}]"
    raise errors.bad_request(message)


def launch_target(
    store: Store, runtime: PodRuntime | None, namespace: str, pod: str, options: ExecOptions
) -> tuple[PodRuntime, str]:
    """What exec and attach check first: the container `options` names (or the pod's only
    one) and a runtime to run it in; ApiError otherwise."""
    container = pod_container(store, namespace, pod, options.container)
    if runtime is None:
        raise runtime_missing()
    return runtime, container


def check_running(runtime: PodRuntime, namespace: str, pod: str, container: str) -> None:
    """400 BadRequest, in the runtime's words, unless the container runs in `runtime`."""
    try:
        runtime.check_container(namespace, pod, container)
    except PodLookupError as exc:
        raise errors.bad_request(str(exc)) from exc


def exec_launch(
    store: Store, runtime: PodRuntime | None, namespace: str, pod: str, options: ExecOptions
) -> Launch:
    """Everything checked before the upgrade (ApiError otherwise); what starts the command."""
    found, container = launch_target(store, runtime, namespace, pod, options)
    check_running(found, namespace, pod, container)
    return partial(found.exec, namespace, pod, container)


def choose_protocol(websocket: WebSocket) -> str:
    offered = [
        p.strip()
        for p in websocket.headers.get("sec-websocket-protocol", "").split(",")
        if p.strip()
    ]
    for protocol in PROTOCOLS:
        if protocol in offered:
            return protocol
    raise errors.bad_request(
        f"requested protocol(s) are not supported: {offered}; supports {list(PROTOCOLS)}"
    )


async def serve_websocket(websocket: WebSocket, store: Store, runtime: PodRuntime | None) -> None:
    """The pods/exec WebSocket endpoint: validate, upgrade, run, report."""

    def prepare(namespace: str, pod: str) -> tuple[ExecOptions, Launch]:
        options = exec_options(websocket.query_params)
        return options, exec_launch(store, runtime, namespace, pod, options)

    await serve_session(websocket, prepare)


Prepare = Callable[[str, str], tuple[ExecOptions, Launch]]


async def serve_session(websocket: WebSocket, prepare: Prepare) -> None:
    """A session over the WebSocket (exec, attach): `prepare(namespace, pod)` checks the
    request (ApiError: denied) and says what runs; then upgrade, run, report."""
    params = websocket.path_params
    namespace, pod = str(params["namespace"]), str(params["name"])
    try:
        protocol = choose_protocol(websocket)
        options, launch = prepare(namespace, pod)
    except ApiError as exc:
        await deny(websocket, exc)
        return
    except Exception as exc:
        log.exception("exec %s/%s: before the upgrade", namespace, pod)
        await deny(websocket, errors.internal(str(exc)))
        return
    await websocket.accept(subprotocol=protocol)
    session = ExecSession(WebSocketTransport(websocket, protocol), options.request, launch)
    try:
        await session.run()
    except Exception as exc:
        log.exception("exec %s/%s: %s", namespace, pod, options.command)
        await session.fail(str(exc))


async def deny(websocket: WebSocket, error: ApiError) -> None:
    """Answer the upgrade with the error's Status instead of 101 (kubectl prints it)."""
    _quiet_uvicorn_denials()
    await websocket.send_denial_response(status_response(error))


class _DenialNoise(logging.Filter):
    """uvicorn 0.54's websockets-sansio protocol sends a denial response correctly but then
    logs "ASGI callable returned without completing handshake." (it never marks a denial as
    complete). Every exec WebSocket here completes its handshake (accept or deny), so the line
    is only that noise."""

    MESSAGE = "ASGI callable returned without completing handshake."

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.MESSAGE


_DENIAL_FILTER = _DenialNoise()


def _quiet_uvicorn_denials() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _DENIAL_FILTER not in logger.filters:
        logger.addFilter(_DENIAL_FILTER)


def serve_http(
    request: Request, store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> ApiError:
    """The error for an exec request that is neither WebSocket nor SPDY that can be served."""
    options = exec_options(request.query_params)
    exec_launch(store, runtime, namespace, pod, options)
    upgrade = request.headers.get("upgrade", "").lower()
    if "spdy" in upgrade:
        return errors.bad_request(SPDY_MESSAGE)
    return errors.bad_request("Upgrade request required")


class WebSocketTransport:
    """An accepted exec WebSocket: channel-prefixed binary frames, then a close with 1000."""

    resizes = True  # kubectl sends sizes on channel 4 whenever it has a TTY

    def __init__(self, websocket: WebSocket, protocol: str) -> None:
        self.websocket = websocket
        self.protocol = protocol
        self.gone = False  # the client went away, or a send to it failed
        self._send_lock = asyncio.Lock()

    async def opened(self) -> bool:
        return True

    async def receive(self, inbound: Inbound) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                self.gone = True
                return
            data = message.get("bytes")
            if data:
                self._dispatch(inbound, data[0], data[1:])

    def _dispatch(self, inbound: Inbound, channel: int, payload: bytes) -> None:
        if channel == STDIN:
            inbound.stdin(payload)
        elif channel == RESIZE:
            resize_all(inbound, payload)
        elif channel == CLOSE and self.protocol == V5 and payload[:1] == bytes([STDIN]):
            inbound.stdin_end()

    async def send(self, output: Output, data: bytes) -> None:
        await self._send(bytes([STDERR if output is Output.STDERR else STDOUT]) + data)

    async def finish(self, status: Status) -> None:
        await self._send(bytes([ERROR]) + status_json(status))

    async def close(self) -> None:
        if not self.gone:
            self.gone = True
            with contextlib.suppress(OSError, RuntimeError, WebSocketDisconnect):
                await self.websocket.close(1000)

    async def _send(self, frame: bytes) -> None:
        if self.gone:
            return
        async with self._send_lock:
            try:
                await self.websocket.send_bytes(frame)
            except (OSError, RuntimeError, WebSocketDisconnect):
                self.gone = True

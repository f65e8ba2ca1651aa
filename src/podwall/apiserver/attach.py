"""`kubectl attach` and `kubectl run -i/-t`: pods/attach over WebSocket and SPDY.

The request is an exec without a command: `GET .../pods/NAME/attach?container=C&stdin=true&
stdout=true&stderr=true&tty=true` upgraded to a WebSocket (v5/v4.channel.k8s.io), or a POST
upgraded to SPDY/3.1 (kubectl before 1.30). The same session as exec carries it
(execsession.py, over exec.py's or spdyexec.py's transport); the runtime hands it an attachment
to the container's running process instead of a new command (kubeletattach.py): its output from
now on, its stdin (when the container has one), its terminal's size. The session ends with a
Success Status when the container exits (the pod's status has its exit code) or, for a
stdinOnce container, once the client's input has ended and the container with it.

Checked before the upgrade, as for exec: the pod and container exist (404, 400), a runtime that
can attach is there (503), the container runs on it (400).
"""

from __future__ import annotations

from functools import partial
from typing import Protocol, runtime_checkable

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from podwall.apiserver import errors, spdyexec
from podwall.apiserver.errors import ApiError
from podwall.apiserver.exec import ExecOptions, check_running, launch_target, serve_session
from podwall.apiserver.execsession import Launch
from podwall.apiserver.podruntime import ExecProcess, ExecRequest, PodRuntime
from podwall.apiserver.store import Store


@runtime_checkable
class AttachRuntime(Protocol):
    """A PodRuntime that can attach to a running container."""

    def check_container(self, namespace: str, pod: str, container: str) -> None: ...

    def attach(
        self, namespace: str, pod: str, container: str, request: ExecRequest
    ) -> ExecProcess: ...


def attach_options(params: QueryParams) -> ExecOptions:
    """PodAttachOptions from the query, validated as the API server does (400 otherwise)."""
    stdin, stdout, stderr = (_flag(params, name) for name in ("stdin", "stdout", "stderr"))
    if not (stdin or stdout or stderr):
        raise errors.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    tty = _flag(params, "tty")
    return ExecOptions(
        command=(),
        container=params.get("container") or None,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr and not tty,
        tty=tty,
    )


def attach_launch(
    store: Store, runtime: PodRuntime | None, namespace: str, pod: str, options: ExecOptions
) -> Launch:
    """Everything checked before the upgrade (ApiError otherwise); what attaches."""
    found, container = launch_target(store, runtime, namespace, pod, options)
    if not isinstance(found, AttachRuntime):
        raise ApiError(503, "ServiceUnavailable", "this pod runtime cannot attach to containers")
    check_running(found, namespace, pod, container)
    return partial(found.attach, namespace, pod, container)


async def serve_websocket(websocket: WebSocket, store: Store, runtime: PodRuntime | None) -> None:
    """The pods/attach WebSocket endpoint."""

    def prepare(namespace: str, pod: str) -> tuple[ExecOptions, Launch]:
        options = attach_options(websocket.query_params)
        return options, attach_launch(store, runtime, namespace, pod, options)

    await serve_session(websocket, prepare)


def serve_http(
    request: Request, store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> Response:
    """pods/attach without a WebSocket: SPDY when asked for and possible, else a 400."""
    options = attach_options(request.query_params)
    launch = attach_launch(store, runtime, namespace, pod, options)
    if spdyexec.wants_spdy(request):
        return spdyexec.upgrade_to(request, options, launch)
    raise errors.bad_request("Upgrade request required")


def _flag(params: QueryParams, name: str) -> bool:
    return params.get(name, "").lower() in ("true", "1")

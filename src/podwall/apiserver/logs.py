"""`kubectl logs` (kubectl-api.md §11): `GET .../pods/NAME/log`, plain and followed.

The runtime keeps one file per container with its stdout and stderr (`PodRuntime.log_path`).
Query parameters:

- `container`: as for exec: checked against the pod's spec; without it, the only container.
- `tailLines`, `limitBytes`: the last N lines; at most N bytes in all.
- `follow=true`: a chunked `text/plain` stream that ends when the client goes away, the pod
  is deleted, or its container has terminated (after the last bytes are sent).
- `timestamps=true`, `sinceSeconds`, `sinceTime`: the file holds no per-line times, so lines
  already written carry the file's modification time (when the newest of them was written)
  and followed lines the time podwall read them. `since...` filters on those times.
- `previous=true`: the instance before the last restart (`containerlogs`), whole, never
  followed; 400 as the kubelet answers when the container has not restarted.

Errors are Status bodies: 404 for a missing pod, 400 for a bad container or parameter or a
container that is not running, 503 when no pod runtime is attached.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from podwall.apiserver import errors
from podwall.apiserver.exec import pod_container, runtime_missing
from podwall.apiserver.podruntime import PodLookupError, PodRuntime
from podwall.apiserver.store import Store
from podwall.runtime import containerlogs

POLL_SECONDS = 0.2
ENDED_CHECK_SECONDS = 1.0
BLOCK = 64 * 1024


@dataclass(frozen=True, slots=True)
class LogOptions:
    """The query of a log request (PodLogOptions)."""

    container: str | None = None
    follow: bool = False
    previous: bool = False
    timestamps: bool = False
    tail_lines: int | None = None
    limit_bytes: int | None = None
    since: datetime | None = None


def _flag(params: QueryParams, name: str) -> bool:
    return params.get(name, "").lower() in ("true", "1")


def _count(params: QueryParams, name: str, minimum: int) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text)
    except ValueError:
        raise errors.bad_request(f"{name}: invalid value {text!r}: must be an integer") from None
    if value < minimum:
        raise errors.bad_request(
            f"{name}: Invalid value: {value}: must be greater than or equal to {minimum}"
        )
    return value


def _since(params: QueryParams, now: datetime) -> datetime | None:
    seconds = _count(params, "sinceSeconds", 1)
    text = params.get("sinceTime")
    if seconds is not None and text:
        raise errors.bad_request("at most one of sinceTime or sinceSeconds may be specified")
    if seconds is not None:
        return now - timedelta(seconds=seconds)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise errors.bad_request(f"sinceTime: invalid RFC 3339 time {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def log_options(params: QueryParams, now: datetime | None = None) -> LogOptions:
    """PodLogOptions from the query; 400 for values the API server would reject."""
    return LogOptions(
        container=params.get("container") or None,
        follow=_flag(params, "follow"),
        previous=_flag(params, "previous"),
        timestamps=_flag(params, "timestamps"),
        tail_lines=_count(params, "tailLines", 0),
        limit_bytes=_count(params, "limitBytes", 1),
        since=_since(params, now or datetime.now(UTC)),
    )


def rfc3339_nano(moment: datetime) -> str:
    """`2025-01-01T12:00:00.123456789Z`, as the kubelet prefixes timestamped lines."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond * 1000:09d}Z"


def stamp(data: bytes, moment: datetime, at_line_start: bool) -> tuple[bytes, bool]:
    """Prefix each line that starts in `data`; returns the bytes and whether a line is open."""
    prefix = (rfc3339_nano(moment) + " ").encode()
    out = bytearray()
    for line in data.splitlines(keepends=True):
        if at_line_start:
            out += prefix
        out += line
        at_line_start = line.endswith(b"\n")
    return bytes(out), at_line_start


def last_lines(path: Path, count: int, end: int) -> bytes:
    """The last `count` lines of the first `end` bytes of `path`, read from the end."""
    if count == 0:
        return b""
    with path.open("rb") as handle:
        position, data = end, b""
        while position > 0 and data.count(b"\n") <= count:
            step = min(BLOCK, position)
            position -= step
            handle.seek(position)
            data = handle.read(step) + data
    lines = data.splitlines(keepends=True)
    return b"".join(lines[-count:])


def history(path: Path, options: LogOptions) -> tuple[bytes, int, datetime]:
    """What the file holds now, as asked: (bytes, the size read up to, its mtime)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return b"", 0, datetime.now(UTC)
    written = datetime.fromtimestamp(info.st_mtime, UTC)
    size = info.st_size
    if options.since is not None and written < options.since:
        return b"", size, written
    if options.tail_lines is not None:
        data = last_lines(path, options.tail_lines, size)
    else:
        with path.open("rb") as handle:
            data = handle.read(size)
    if options.timestamps:
        data, _ = stamp(data, written, True)
    return data, size, written


def _limit(data: bytes, remaining: int | None) -> tuple[bytes, int | None]:
    if remaining is None:
        return data, None
    data = data[:remaining]
    return data, remaining - len(data)


async def serve(
    request: Request, store: Store, runtime: PodRuntime | None, namespace: str, pod: str
) -> Response:
    """The pods/log endpoint; raises ApiError for the app to render as a Status."""
    options = log_options(request.query_params)
    container = pod_container(store, namespace, pod, options.container)
    if runtime is None:
        raise runtime_missing()
    try:
        path = runtime.log_path(namespace, pod, container)
    except PodLookupError as exc:
        raise errors.bad_request(str(exc)) from exc
    if options.previous:
        path = containerlogs.previous_path(path)
        if not path.exists():
            raise errors.bad_request(
                f'previous terminated container "{container}" in pod "{pod}" not found'
            )
    data, size, _ = history(path, options)
    data, remaining = _limit(data, options.limit_bytes)
    if options.previous or not options.follow or remaining == 0:
        return Response(data, media_type="text/plain")
    ended = _Ended(store, namespace, pod, container)
    return FollowResponse(follow(path, data, size, options, remaining, ended))


@dataclass
class _Ended:
    """Whether a followed container is gone: its pod deleted or its state terminated."""

    store: Store
    namespace: str
    pod: str
    container: str

    def __call__(self) -> bool:
        try:
            obj = self.store.get("pods", self.namespace, self.pod)
        except errors.NotFoundError:
            return True
        statuses = (obj.get("status") or {}).get("containerStatuses") or []
        for status in statuses:
            if status.get("name") == self.container:
                return "terminated" in (status.get("state") or {})
        return False


async def follow(
    path: Path,
    first: bytes,
    offset: int,
    options: LogOptions,
    remaining: int | None,
    ended: _Ended,
) -> AsyncIterator[bytes]:
    """The history, then whatever the file gains, until the container ends or the limit."""
    if first:
        yield first
    at_line_start = first.endswith(b"\n") or not first
    loop = asyncio.get_running_loop()
    next_check = loop.time() + ENDED_CHECK_SECONDS
    while remaining is None or remaining > 0:
        data, offset = _read_from(path, offset)
        if data:
            if options.timestamps:
                data, at_line_start = stamp(data, datetime.now(UTC), at_line_start)
            data, remaining = _limit(data, remaining)
            yield data
            continue
        if loop.time() >= next_check:
            if ended():
                data, offset = _read_from(path, offset)
                if data:
                    continue  # the last words first
                return
            next_check = loop.time() + ENDED_CHECK_SECONDS
        await asyncio.sleep(POLL_SECONDS)


def _read_from(path: Path, offset: int) -> tuple[bytes, int]:
    """New bytes from `offset` (from 0 again if the file shrank)."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:
                offset = 0
            handle.seek(offset)
            data = handle.read(BLOCK)
    except FileNotFoundError:
        return b"", offset
    return data, offset + len(data)


class FollowResponse(StreamingResponse):
    """A chunked text/plain stream that stops as soon as the client disconnects."""

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        super().__init__(chunks, media_type="text/plain")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        streaming = asyncio.create_task(self.stream_response(send))
        gone = asyncio.create_task(_disconnected(receive))
        await asyncio.wait([streaming, gone], return_when=asyncio.FIRST_COMPLETED)
        for task in (streaming, gone):
            task.cancel()
        for task in (streaming, gone):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass

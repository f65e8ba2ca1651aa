"""The agent's connection to a Kubernetes API server, through the official `kubernetes` client.

Configured as the review commands and the editor configure theirs (`podwall.live.connect`:
kubeconfig contexts, client certificates, credential plugins, the pod's service account).
The agent takes only the transport from it: requests go through `ApiClient.call_api` and come
back as raw responses, and the agent parses the JSON itself. The generated model classes (V1Pod,
...) would cost several times the time and memory for 10k pods, and the agent reads a few
fields of each object.

Errors come out as three kinds, each with a message that names what is missing:
`ConfigError` (no usable configuration), `Unreachable` (no HTTP answer), `ApiError` (an HTTP
error with the API server's own Status message).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import urllib3
from kubernetes import client

from podwall.live import connect

# Re-exported: the agent's modules know these as the client's errors and targets.
from podwall.live.connect import ClientError as ClientError
from podwall.live.connect import ConfigError as ConfigError
from podwall.live.connect import Target as Target
from podwall.live.connect import Unreachable as Unreachable

CONNECT_SECONDS = 5.0
REQUEST_SECONDS = 60.0
Query = Sequence[tuple[str, str | int]]


class ApiError(ClientError):
    """An HTTP error from the API server, with its Status message."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}" if message else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.message = message

    @property
    def gone(self) -> bool:
        """410 Gone: the resourceVersion is too old; a list must start over."""
        return self.status == 410

    @classmethod
    def from_status(cls, status: Mapping[str, Any]) -> ApiError:
        """The error a watch's ERROR event carries, as a Status object."""
        code = int(status.get("code") or 500)
        return cls(code, str(status.get("reason") or ""), str(status.get("message") or ""))


def _status_message(body: bytes) -> str:
    try:
        status = json.loads(body)
    except ValueError:
        return body.decode(errors="replace").strip()[:300]
    if isinstance(status, dict):
        return str(status.get("message") or "")
    return ""


class Stream:
    """A streaming response (a watch): JSON lines as they come; `close` from any thread."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def events(self) -> Iterator[dict[str, Any]]:
        buffer = b""
        try:
            for chunk in self._response.stream(amt=None, decode_content=True):
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(connect.reason(exc)) from exc

    def close(self) -> None:
        """Unblock a reader waiting for the next line, and drop the connection (a watch
        left half-read cannot go back to the pool)."""
        response = self._response
        with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: already released
            response.shutdown()
        with contextlib.suppress(OSError):
            response.close()
        response.release_conn()


class Connection:
    """An `ApiClient` for the agent's raw requests; thread-safe (urllib3 pools connections)."""

    def __init__(self, configuration: Any, source: str) -> None:
        # One connection per watch plus the lease and the odd list: the default 4 would queue.
        configuration.connection_pool_maxsize = 16
        # No retries inside urllib3: the informers and the Lease keeper back off themselves,
        # and say so in the log once per failure.
        configuration.retries = False
        self.configuration = configuration
        self.source = source
        self.host = str(configuration.host)
        self._api: Any = client.ApiClient(configuration=configuration)

    @classmethod
    def open(cls, target: Target) -> Connection:
        return cls(*connect.configure(target))

    def close(self) -> None:
        """Close every pooled connection now. urllib3's `PoolManager.clear` only forgets the
        pools (their sockets close when the garbage collector finds them), which leaves the
        server with open connections after the agent is done."""
        pools = self._api.rest_client.pool_manager.pools
        for key in list(pools.keys()):
            with contextlib.suppress(KeyError):
                pools[key].close()
        self._api.close()

    def _call(
        self,
        method: str,
        path: str,
        query: Query = (),
        body: Any = None,
        timeout: tuple[float, float] = (CONNECT_SECONDS, REQUEST_SECONDS),
    ) -> Any:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self._api.param_serialize(
            method,
            path,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            rest = self._api.call_api(*request, _request_timeout=timeout)
        except client.ApiException as exc:  # TLS failures come this way, status 0
            raise Unreachable(connect.reason(exc)) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(connect.reason(exc)) from exc
        response = rest.response
        if not 200 <= response.status <= 299:
            try:
                data = response.data
            except (urllib3.exceptions.HTTPError, OSError):
                data = b""
            finally:
                response.release_conn()
            raise ApiError(response.status, str(response.reason or ""), _status_message(data))
        return response

    def request(self, method: str, path: str, query: Query = (), body: Any = None) -> Any:
        """One request; the decoded JSON answer."""
        response = self._call(method, path, query, body)
        try:
            data = response.data
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unreachable(connect.reason(exc)) from exc
        finally:
            response.release_conn()
        return json.loads(data)

    def stream(self, path: str, query: Query, read_seconds: float) -> Stream:
        """A watch: the response is read line by line as the server writes it."""
        return Stream(self._call("GET", path, query, timeout=(CONNECT_SECONDS, read_seconds)))

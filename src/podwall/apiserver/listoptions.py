"""List and watch query parameters as kube-apiserver reads them (kubectl-api.md §5.2, §8).

`parse` validates a request's ListOptions (`resourceVersion`, `resourceVersionMatch`, `limit`,
`continue`, `sendInitialEvents`, `allowWatchBookmarks`, `timeoutSeconds`) with upstream's
ValidateListOptions rules and messages (422 on `ListOptions.meta.k8s.io ""`). `read_at` says
which resourceVersion a list is served at. Continue tokens are upstream's format: base64url of
`{"v":"meta.k8s.io/v1","rv":<list RV>,"start":"<last key>\\u0000"}`, the key relative to the
list (`ns/name` across namespaces, `name` within one); `rv` -1 continues at the latest RV.
Nothing here touches the Store.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podwall.apiserver import errors
from podwall.apiserver.errors import ApiError, ExpiredError
from podwall.apiserver.objectindex import Key
from podwall.model.fielderrors import FieldError, forbidden, not_supported

EXACT, NOT_OLDER_THAN = "Exact", "NotOlderThan"
TOKEN_VERSION = "meta.k8s.io/v1"
BLOCK_SECONDS = 3.0  # how long a read waits for a resourceVersion newer than the store's
LIST_TOO_OLD = "The resourceVersion for the provided list is too old."
CONTINUE_TOO_OLD = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in the list."
)


@dataclass(frozen=True, slots=True)
class ListOptions:
    """The query parameters of a list or watch, validated."""

    watch: bool
    resource_version: str  # "" when unset
    match: str  # "", Exact or NotOlderThan
    limit: int  # 0: everything
    continue_token: str
    send_initial_events: bool | None
    allow_bookmarks: bool
    timeout_seconds: float | None


@dataclass(frozen=True, slots=True)
class Continue:
    """A decoded continue token: the list's RV (None: the latest) and the last key served."""

    resource_version: int | None
    after: Key


def _bool(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1")


def _int(params: Mapping[str, str], name: str) -> int:
    raw = params.get(name, "")
    if raw == "":
        return 0
    try:
        return int(raw)
    except ValueError:
        raise errors.bad_request(f'{name}: Invalid value: "{raw}": must be an integer') from None


def parse(params: Mapping[str, str]) -> ListOptions:
    """ListOptions of a list (or, with `watch=true`, a watch) request; ApiError if invalid."""
    watch = _bool(params.get("watch"))
    rv = params.get("resourceVersion", "")
    if rv and (not rv.isdigit()):
        raise errors.bad_request(f'resourceVersion: Invalid value: "{rv}": must be an integer')
    initial_raw = params.get("sendInitialEvents")
    timeout: float | None = None
    if params.get("timeoutSeconds"):
        try:
            timeout = float(params["timeoutSeconds"])
        except ValueError:
            timeout = None
    options = ListOptions(
        watch=watch,
        resource_version=rv,
        match=params.get("resourceVersionMatch", ""),
        limit=max(0, _int(params, "limit")),
        continue_token=params.get("continue", ""),
        send_initial_events=None if initial_raw is None else _bool(initial_raw),
        allow_bookmarks=_bool(params.get("allowWatchBookmarks")),
        timeout_seconds=timeout,
    )
    found = _watch_errors(options) if watch else _list_errors(options)
    if found:
        raise errors.invalid("ListOptions", "meta.k8s.io", "", found)
    return options


def _list_errors(options: ListOptions) -> list[FieldError]:
    """ValidateListOptions for a list."""
    found: list[FieldError] = []
    match = options.match
    path = "resourceVersionMatch"
    if match:
        if not options.resource_version:
            found.append(
                forbidden(
                    path, "resourceVersionMatch is forbidden unless resourceVersion is provided"
                )
            )
        if options.continue_token:
            found.append(
                forbidden(path, "resourceVersionMatch is forbidden when continue is provided")
            )
        if match not in (EXACT, NOT_OLDER_THAN):
            found.append(not_supported(path, match, [EXACT, NOT_OLDER_THAN, ""]))
        if match == EXACT and options.resource_version == "0":
            found.append(
                forbidden(path, 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
            )
    if options.send_initial_events is not None:
        found.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
    return found


def _watch_errors(options: ListOptions) -> list[FieldError]:
    """ValidateListOptions for a watch (the WatchList feature is on, as in 1.32)."""
    found: list[FieldError] = []
    match = options.match
    path = "resourceVersionMatch"
    if options.send_initial_events is not None and match != NOT_OLDER_THAN:
        found.append(
            forbidden(
                path, f"sendInitialEvents requires setting resourceVersionMatch to {NOT_OLDER_THAN}"
            )
        )
    if match:
        if options.send_initial_events is None:
            found.append(
                forbidden(
                    path,
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is "
                    "provided",
                )
            )
        if match != NOT_OLDER_THAN:
            found.append(not_supported(path, match, [NOT_OLDER_THAN]))
        if options.continue_token:
            found.append(
                forbidden(path, "resourceVersionMatch is forbidden when continue is provided")
            )
    return found


@dataclass(frozen=True, slots=True)
class ReadAt:
    """Where a list is served: `minimum` the RV the store must have reached first (0: none);
    `exact` the RV to serve the list as of (None: the latest)."""

    minimum: int
    exact: int | None


def read_at(options: ListOptions) -> ReadAt:
    """The resourceVersion semantics of a list without a continue token.

    Unset: the most recent state. "0": any state (podwall's is always the most recent).
    N with NotOlderThan (or no match and no limit): at least N, so the latest once the store
    has reached N. N with Exact (or no match with a limit, as upstream): exactly N.
    """
    rv = options.resource_version
    if not rv or rv == "0":
        return ReadAt(0, None)
    value = int(rv)
    exact = options.match == EXACT or (not options.match and options.limit > 0)
    return ReadAt(value, value if exact else None)


def too_large(wanted: int, current: int) -> ApiError:
    """storage.NewTooLargeResourceVersionError: 504 Timeout, retry after 1 second."""
    return ApiError(
        504,
        "Timeout",
        f"Timeout: Too large resource version: {wanted}, current: {current}",
        {
            "causes": [
                {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
            ],
            "retryAfterSeconds": 1,
        },
    )


def encode_continue(after: Key, resource_version: int, namespace: str | None) -> str:
    """The token for the next page of a list in `namespace` (None: every namespace)."""
    ns, name = after
    start = f"{ns}/{name}" if namespace is None and ns else name
    token = {"v": TOKEN_VERSION, "rv": resource_version, "start": start + "\x00"}
    raw = json.dumps(token, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_continue(token: str, namespace: str | None) -> Continue:
    """DecodeContinue: the token's RV (-1: the latest) and key; 400 BadRequest if invalid."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded: Any = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"continue key is not valid: {exc}") from None
    if not isinstance(decoded, dict):
        raise _invalid("continue key is not valid")
    if decoded.get("v") != TOKEN_VERSION:
        raise _invalid(
            "continue key is not valid: server does not recognize this encoded version "
            f'"{decoded.get("v", "")}"'
        )
    rv, start = decoded.get("rv"), decoded.get("start")
    if not isinstance(rv, int) or rv == 0:
        raise _invalid(
            "continue key is not valid: incorrect encoded start resourceVersion "
            f"(version {TOKEN_VERSION})"
        )
    if not isinstance(start, str) or not start:
        raise _invalid(
            f"continue key is not valid: encoded start key empty (version {TOKEN_VERSION})"
        )
    key = start if start.startswith("/") else "/" + start
    if posixpath.normpath(key) != key:
        raise _invalid(f"continue key is not valid: {start}")
    last = start.removesuffix("\x00")
    if namespace is None and "/" in last:
        ns, _, name = last.partition("/")
        after: Key = (ns, name)
    else:
        after = (namespace or "", last)
    return Continue(None if rv < 0 else rv, after)


def _invalid(message: str) -> ApiError:
    return errors.bad_request(f"invalid continue token: {message}")


class ContinueExpiredError(ExpiredError):
    """410 for a continue token older than the history: with a token to go on inconsistently."""

    def __init__(self, token: str) -> None:
        super().__init__(410, "Expired", CONTINUE_TOO_OLD)
        self.token = token

    def status(self) -> dict[str, Any]:
        body = super().status()
        body["metadata"] = {"continue": self.token}
        return body


def continue_expired(after: Key, namespace: str | None) -> ApiError:
    """The 410 for an expired continue token, carrying one that continues at the latest RV."""
    return ContinueExpiredError(encode_continue(after, -1, namespace))


def list_expired() -> ApiError:
    return errors.expired(LIST_TOO_OLD)

"""metav1.Status bodies for every error the API server returns (kubectl-api.md §12).

`ApiError` carries the HTTP code and the Status; handlers raise it, the app renders it. Its
subclasses name the cases callers catch (NotFoundError, ConflictError, ...; PatchError for the
patch package's). The constructors below word each as kube-apiserver does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from podwall.errors import PodwallError
from podwall.model.fielderrors import ErrorType, FieldError, aggregate

# field.ErrorType -> metav1.CauseType (the `reason` of a StatusCause).
_CAUSE_TYPES = {
    ErrorType.INVALID: "FieldValueInvalid",
    ErrorType.REQUIRED: "FieldValueRequired",
    ErrorType.UNSUPPORTED: "FieldValueNotSupported",
    ErrorType.FORBIDDEN: "FieldValueForbidden",
    ErrorType.DUPLICATE: "FieldValueDuplicate",
    ErrorType.TOO_LONG: "FieldValueTooLong",
    ErrorType.TOO_MANY: "FieldValueTooMany",
    ErrorType.NOT_FOUND: "FieldValueNotFound",
}


class ApiError(PodwallError):
    """An error answered as a metav1.Status: HTTP `code`, `reason` ("" = StatusReasonUnknown,
    left out of the Status as the API server does), `message`, `details`."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = dict(details) if details is not None else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason!r}, {self.message!r})"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
        }
        if self.reason:  # "" is StatusReasonUnknown, omitted as the API server does
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


class NotFoundError(ApiError):
    """404 NotFound."""


class AlreadyExistsError(ApiError):
    """409 AlreadyExists."""


class ConflictError(ApiError):
    """409 Conflict: a stale resourceVersion or a failed precondition."""


class ExpiredError(ApiError):
    """410 Expired: a watch asked for history the server no longer keeps."""


def qualified(resource: str, group: str) -> str:
    """schema.GroupResource.String(): `pods`, `networkpolicies.networking.k8s.io`."""
    return f"{resource}.{group}" if group else resource


def _details(name: str, group: str, kind: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    return details


def _named(
    error: type[ApiError], code: int, reason: str, resource: str, group: str, name: str, what: str
) -> ApiError:
    """A StatusError about one named object, worded as upstream: `pods "web" not found`."""
    message = f'{qualified(resource, group)} "{name}" {what}'
    return error(code, reason, message, _details(name, group, resource))


def not_found(resource: str, group: str, name: str) -> ApiError:
    return _named(NotFoundError, 404, "NotFound", resource, group, name, "not found")


def not_found_path() -> ApiError:
    """A path that names no resource (404 without details, as the apiserver's mux answers)."""
    return NotFoundError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(resource: str, group: str, name: str) -> ApiError:
    return _named(AlreadyExistsError, 409, "AlreadyExists", resource, group, name, "already exists")


def conflict(resource: str, group: str, name: str, why: str | None = None) -> ApiError:
    why = why or (
        "the object has been modified; please apply your changes to the latest version and "
        "try again"
    )
    return ConflictError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": {why}',
        _details(name, group, resource),
    )


def invalid(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> ApiError:
    """errors.NewInvalid: 422 with one cause per field error."""
    qualified_kind = f"{kind}.{group}" if group else kind
    causes = [
        {
            "reason": _CAUSE_TYPES.get(e.type, "FieldValueInvalid"),
            "message": e.body(),
            "field": e.path,
        }
        for e in errors
    ]
    details = _details(name, group, kind)
    details["causes"] = causes
    message = f'{qualified_kind} "{name}" is invalid: ' + aggregate([e.render() for e in errors])
    return ApiError(422, "Invalid", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str) -> ApiError:
    return ApiError(403, "Forbidden", message)


def forbidden_on(resource: str, group: str, name: str, why: str) -> ApiError:
    """errors.NewForbidden: `pods is forbidden: ...`, `pods "x" is forbidden: ...`; for a
    request that names no resource (a path), `forbidden: ...`."""
    what = qualified(resource, group)
    subject = f'{what} "{name}"' if name else what
    message = f"{subject} is forbidden: {why}" if subject else f"forbidden: {why}"
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if resource:
        details["kind"] = resource
    return ApiError(403, "Forbidden", message, details)


def method_not_allowed(method: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method})",
    )


def unsupported_media_type(content_type: str) -> ApiError:
    accepted = ", ".join(
        (
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/apply-patch+yaml",
            "application/strategic-merge-patch+json",
        )
    )
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format - accepted media types include: "
        f'{accepted} (got "{content_type}")',
    )


def expired(message: str) -> ApiError:
    return ExpiredError(410, "Expired", message)


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error occurred: {message}")

"""CRUD, PATCH and watch over the Store, for every served resource (kubectl-api.md §5, §6, §8, §9).

`ResourceApi.handle` takes a parsed target (resource, namespace, name, subresource) and a Starlette
request, and answers JSON: the object, a List, a Table (when Accept asks `as=Table`), a watch
stream, or raises ApiError for the app to render as a Status.

Reads answer from the Store's shared objects and their stored JSON text: an object, a list item
or a watch event is written out as stored, never decoded and encoded again. Lists page as
kube-apiserver pages them (`limit`, `continue`, `resourceVersion`, `resourceVersionMatch`;
listoptions.py); watches send BOOKMARKs when asked (`allowWatchBookmarks`) and the
`sendInitialEvents` stream. Writes await the Store's acknowledgement without blocking the event
loop; the garbage collection that follows a delete runs in the thread pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from podwall.apiserver import (
    admission,
    deletion,
    ephemeral,
    errors,
    jsontext,
    listoptions,
    podvalidation,
    protobuf,
    tables,
    typecheck,
)
from podwall.apiserver.errors import ApiError
from podwall.apiserver.listoptions import ListOptions
from podwall.apiserver.patch import apply_patch, supported_patch_types
from podwall.apiserver.patch.errors import (
    unsupported_media_type as patch_unsupported_media_type,
)
from podwall.apiserver.resources import Resource, lookup
from podwall.apiserver.selectors import (
    combine,
    field_selector_predicate,
    label_selector_predicate,
    selector_string,
)
from podwall.apiserver.store import Object, Store, Stored, Watch, WatchEvent
from podwall.apiserver.watch import BOOKMARK
from podwall.model.fielderrors import FieldError, invalid

log = logging.getLogger(__name__)

PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
DEFAULT_WATCH_SECONDS = 1800.0
BOOKMARK_SECONDS = 60.0  # upstream sends a bookmark about every minute
BOOKMARK_BEFORE_END = 2.0  # and one about 2 s before the watch times out
# A write commits on the event loop only when no other connection sent a request for this
# long: while one does, its requests would wait behind the fsync (a reader polling beside a
# lone writer saw its GETs' p50 go from 0.48 to 0.81 ms, p99 from 1.2 to 3.6 ms).
ALONE_AFTER = 0.01
_COMPACT = (",", ":")


def json_response(body: Any, status: int = 200, warnings: list[str] | None = None) -> Response:
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return _JsonResponse(text.encode(), status, warnings)


def text_response(text: str, status: int = 200, warnings: list[str] | None = None) -> Response:
    """A JSON body that is already text (a stored object, a list built from stored texts)."""
    return _JsonResponse(text.encode(), status, warnings)


_JSON_TYPE = (b"content-type", b"application/json")


class _JsonResponse(Response):
    """`Response(body, status, media_type="application/json")` with a `Warning` header per
    warning: the same attributes and head, set directly instead of through Starlette's
    render, init_headers and MutableHeaders (every answer is one of these)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status: int, warnings: list[str] | None) -> None:
        self.status_code = status
        self.background = None
        self.body = body
        headers = [_JSON_TYPE]
        if status >= 200 and status not in (204, 304):  # as Starlette: no length on those
            headers.insert(0, (b"content-length", str(len(body)).encode()))
        for warning in warnings or ():
            headers.append((b"warning", f"299 - {json.dumps(warning)}".encode("latin-1")))
        self.raw_headers = headers


def status_response(error: ApiError) -> Response:
    return json_response(error.status(), error.code)


@dataclass(frozen=True, slots=True)
class Target:
    """What a resource URL names."""

    resource: Resource
    namespace: str | None  # None: every namespace (or a cluster-scoped kind)
    name: str | None
    subresource: str | None


def parse_target(group: str, version: str, parts: list[str]) -> Target:
    """`[ns-prefix] resource [name [sub]]` after `/api/v1` or `/apis/<group>/<version>`."""
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        candidate = lookup(group, version, parts[2])
        if candidate is not None and candidate.namespaced:
            namespace, parts = parts[1], parts[2:]
    if not parts or len(parts) > 3 or not all(parts):
        raise errors.not_found_path()
    resource = lookup(group, version, parts[0])
    if resource is None:
        raise errors.not_found_path()
    name = parts[1] if len(parts) >= 2 else None
    sub = parts[2] if len(parts) == 3 else None
    if resource.namespaced and name is not None and namespace is None:
        raise errors.not_found_path()
    if sub is not None and resource.subresource(sub) is None:
        raise errors.not_found_path()
    return Target(resource, namespace, name, sub)


def _verb(request: Request, target: Target) -> str:
    """The API verb of a request on a resource (not a subresource), as RBAC and discovery
    name it."""
    method = request.method
    if target.name is None:
        if method == "GET":
            return "watch" if listoptions.parse(request.query_params).watch else "list"
        return {"POST": "create", "DELETE": "deletecollection"}.get(method, method.lower())
    return {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
        method, method.lower()
    )


def _decode_body(raw: bytes) -> Any:
    return _decode(raw)[0]


def _decode(raw: bytes) -> tuple[Any, bool]:
    """The body's value, and whether it may hold a null. JSON writes null only as the literal
    `null`: a JSON text without one decodes to a tree with no None in it."""
    if not raw.strip():
        return None, False
    try:
        return jsontext.loads(raw), b"null" in raw
    except ValueError:
        pass
    try:
        return yaml.safe_load(raw), True
    except yaml.YAMLError as exc:
        raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc


def _body_of(raw: bytes, content_type: str) -> Any:
    if content_type == protobuf.CONTENT_TYPE and raw.strip():
        return protobuf.decode(raw)
    return _decode_body(raw)


class ResourceApi:
    """Request handling for every resource in the table, over one Store."""

    def __init__(self, store: Store, *, bookmark_seconds: float = BOOKMARK_SECONDS) -> None:
        self.store = store
        self.bookmark_seconds = bookmark_seconds
        self._handling = 0  # requests in `handle` (a watch only until its stream starts)
        self._last_client: Any = None  # the connection of the last request handled
        self._others_at = -math.inf  # when a request last came from another connection

    async def handle(self, request: Request, target: Target) -> Response:
        client = request.scope.get("client")
        if client != self._last_client:
            if self._last_client is not None:
                self._others_at = time.monotonic()
            self._last_client = client
        self._handling += 1
        try:
            return await self._handle(request, target)
        finally:
            self._handling -= 1

    def _alone(self) -> bool:
        """Is this request the only one, and have requests come from its connection alone for
        a while? Then its write may commit on the event loop (`Store.acreate(alone=True)`):
        no other writer could have shared that commit, and no other client is likely to wait
        behind its fsync."""
        return self._handling == 1 and time.monotonic() - self._others_at > ALONE_AFTER

    async def _handle(self, request: Request, target: Target) -> Response:
        method = request.method
        if target.subresource is None and _verb(request, target) not in target.resource.verbs:
            raise errors.method_not_allowed(method)
        if target.subresource in ("attach", "portforward"):
            raise ApiError(
                405, "MethodNotAllowed", f"pods/{target.subresource} is not implemented yet"
            )
        if target.name is None:
            if method == "GET":
                options = listoptions.parse(request.query_params)
                if options.watch:
                    return await self.watch(request, target, options)
                return await self.list(request, target, options)
            if method == "POST":
                return await self.create(request, target)
            if method == "DELETE":
                return await self.delete_collection(request, target)
            raise errors.method_not_allowed(method)
        if target.subresource == "scale":
            return await self.scale(request, target)
        if target.subresource == "ephemeralcontainers":
            return await self.ephemeral_containers(request, target)
        if method == "GET":
            return self.get(request, target)
        if method == "PUT":
            return await self.update(request, target)
        if method == "PATCH":
            return await self.patch(request, target)
        if method == "DELETE" and target.subresource is None:
            return await self.delete(request, target)
        raise errors.method_not_allowed(method)

    # Helpers.

    def _ns(self, target: Target) -> str:
        return target.namespace or ""

    def _present(self, request: Request, target: Target, stored: Stored) -> Response:
        """One object, as itself or as a one-row Table."""
        accept = request.headers.get("accept", "")
        if tables.wants_table(accept):
            include = request.query_params.get("includeObject", "Metadata")
            obj = stored.obj
            rv = str((obj.get("metadata") or {}).get("resourceVersion", ""))
            return json_response(
                tables.table(target.resource.key, [obj], rv, include_object=include)
            )
        return text_response(stored.text)

    async def _reach(self, resource_version: int) -> None:
        """Wait (up to 3 s, as upstream) until the store has reached a resourceVersion; 504."""
        if resource_version and not await self.store.reached(
            resource_version, listoptions.BLOCK_SECONDS
        ):
            raise listoptions.too_large(resource_version, self.store.resource_version)

    def _predicate(
        self, request: Request, target: Target
    ) -> Callable[[Mapping[str, Any]], bool] | None:
        params = request.query_params
        return combine(
            label_selector_predicate(params.get("labelSelector")),
            field_selector_predicate(target.resource.key, params.get("fieldSelector")),
        )

    async def _body(self, request: Request) -> Any:
        return (await self._read_body(request))[0]

    async def _read_body(self, request: Request) -> tuple[Any, bool]:
        """The decoded body (this request's own: nothing else refers to it), and whether it
        may hold a null."""
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type == protobuf.CONTENT_TYPE and raw.strip():
            return protobuf.decode(raw), True
        return _decode(raw)

    def _admit(
        self,
        request: Request,
        target: Target,
        body: Any,
        name: str | None = None,
        *,
        creating: bool = False,
        current: Object | None = None,
        owned: bool = False,
    ) -> tuple[Object, list[str]]:
        """Decode, place, default and validate a request body; nothing is stored here.
        `current` is the stored object an update replaces (read for the rules of a Pod).

        The object returned is new (no part of `body` in it): the Store may keep it as is.
        `owned`: `body` is the caller's own, holds no null, and is never read again; it is then
        the object returned, changed in place (the copy `drop_nulls` makes would be equal)."""
        resource = target.resource
        if not isinstance(body, dict):
            raise errors.bad_request(
                f'{resource.kind} in version "{resource.version}" cannot be handled as a '
                f"{resource.kind}: the body must be a JSON object"
            )
        typecheck.check(resource, body)
        field_validation = request.query_params.get("fieldValidation", "")
        obj, warnings = admission.decode(resource, body, field_validation)
        if not owned:
            obj = typecheck.drop_nulls(obj)
        api_version = str(obj.get("apiVersion") or resource.group_version)
        if api_version != resource.group_version:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({resource.group_version})"
            )
        kind = str(obj.get("kind") or resource.kind)
        if kind != resource.kind:
            raise errors.bad_request(
                f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
            )
        obj["apiVersion"], obj["kind"] = resource.group_version, resource.kind
        meta = obj.get("metadata")
        if meta is None:
            meta = obj["metadata"] = {}
        if not isinstance(meta, dict):
            raise errors.bad_request("metadata must be an object")
        if resource.namespaced:
            given = meta.get("namespace")
            if given and given != target.namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = target.namespace
        else:
            meta.pop("namespace", None)
        if name is not None and meta.get("name") != name:
            if meta.get("name"):
                raise errors.bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name on "
                    f"the URL ({name})"
                )
            meta["name"] = name
        if creating:
            admission.prepare_for_create(resource, obj)
        admission.default(resource, obj)
        admission.validate(resource, obj, _pod_errors(target, obj, current, creating))
        return obj, warnings + admission.warn(resource, obj)

    def _preserve(self, target: Target) -> tuple[str, ...]:
        has_status = target.resource.subresource("status") is not None
        if target.subresource == "status":
            return tuple(k for k in ("spec",) if has_status)
        return ("status",) if has_status else ()

    # Verbs.

    def get(self, request: Request, target: Target) -> Response:
        assert target.name is not None
        stored = self.store.read(target.resource.key, self._ns(target), target.name)
        return self._present(request, target, stored)

    async def list(self, request: Request, target: Target, options: ListOptions) -> Response:
        """One page of a list (everything without `limit`), at the resourceVersion asked for."""
        resource = target.resource
        token: listoptions.Continue | None = None
        if options.continue_token:
            if options.resource_version not in ("", "0"):
                raise errors.bad_request(
                    "specifying resource version is not allowed when using continue"
                )
            token = listoptions.decode_continue(options.continue_token, target.namespace)
            at, after = token.resource_version, token.after
        else:
            where = listoptions.read_at(options)
            await self._reach(where.minimum)
            at, after = where.exact, None
        try:
            page = self.store.page(
                resource.key, target.namespace, self._predicate(request, target),
                limit=options.limit, after=after, at=at,
            )  # fmt: skip
        except errors.ExpiredError:
            if token is not None:
                raise listoptions.continue_expired(token.after, target.namespace) from None
            raise listoptions.list_expired() from None
        metadata = {"resourceVersion": str(page.resource_version)}
        if page.last is not None:
            metadata["continue"] = listoptions.encode_continue(
                page.last, page.resource_version, target.namespace
            )
        if tables.wants_table(request.headers.get("accept", "")):
            include = request.query_params.get("includeObject", "Metadata")
            objects = [s.obj for s in page.items]
            body = tables.table(resource.key, objects, None, include_object=include)
            body["metadata"] = metadata
            return json_response(body)
        head = {"kind": f"{resource.kind}List", "apiVersion": resource.group_version}
        prefix = json.dumps({**head, "metadata": metadata}, separators=_COMPACT)[:-1]
        return text_response(f'{prefix},"items":[{",".join(s.text for s in page.items)}]}}')

    async def create(self, request: Request, target: Target) -> Response:
        if target.resource.namespaced and target.namespace is None:
            raise errors.method_not_allowed("POST")
        body, nulls = await self._read_body(request)
        obj, warnings = self._admit(request, target, body, creating=True, owned=not nulls)
        dry_run = "All" in request.query_params.getlist("dryRun")
        created = await self.store.acreate(
            target.resource.key, obj, dry_run=dry_run, handed_over=True,
            alone=not dry_run and self._alone(),
        )  # fmt: skip
        return text_response(created.text, 201, warnings)

    async def update(self, request: Request, target: Target) -> Response:
        assert target.name is not None
        if _checks_pod(target):
            return await self._update_pod(request, target)
        body, nulls = await self._read_body(request)
        obj, warnings = self._admit(request, target, body, target.name, owned=not nulls)
        dry_run = "All" in request.query_params.getlist("dryRun")
        updated = await self.store.aupdate(
            target.resource.key, obj, preserve=self._preserve(target), dry_run=dry_run,
            handed_over=True,
        )  # fmt: skip
        if not dry_run:
            await run_in_threadpool(deletion.finish, self.store, target.resource.key, updated.obj)
        return text_response(updated.text, 200, warnings)

    async def _update_pod(self, request: Request, target: Target) -> Response:
        """PUT of a Pod: ValidatePodUpdate reads the stored Pod, so the body is admitted
        under the Store's write lock, against it (the same conflict check as `update`)."""
        assert target.name is not None
        resource, namespace, name = target.resource, self._ns(target), target.name
        body = await self._body(request)
        dry_run = "All" in request.query_params.getlist("dryRun")
        warnings: list[str] = []

        def change(current: Object) -> Object:
            obj, found = self._admit(request, target, body, name, current=current)
            expected = obj["metadata"].get("resourceVersion")
            if expected and str(expected) != current["metadata"].get("resourceVersion"):
                raise errors.conflict(resource.name, resource.group, name)
            warnings.extend(found)
            return obj

        updated = await self.store.amutate(
            resource.key, namespace, name, change, preserve=self._preserve(target),
            dry_run=dry_run,
        )  # fmt: skip
        if not dry_run:
            await run_in_threadpool(deletion.finish, self.store, resource.key, updated.obj)
        return text_response(updated.text, 200, warnings)

    async def patch(self, request: Request, target: Target) -> Response:
        assert target.name is not None
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in PATCH_TYPES:
            raise errors.unsupported_media_type(content_type)
        resource, namespace, name = target.resource, self._ns(target), target.name
        accepted = supported_patch_types(resource.kind)
        if resource.custom and content_type not in accepted:
            # Before the object is read, as the CR handler's patch types are checked.
            raise patch_unsupported_media_type(accepted)
        raw = await request.body()
        dry_run = "All" in request.query_params.getlist("dryRun")
        if content_type == "application/apply-patch+yaml":
            try:
                self.store.read(resource.key, namespace, name)
            except errors.NotFoundError:
                applied = apply_patch(None, raw, content_type, resource.kind)
                obj, found = self._admit(request, target, applied, name, creating=True)
                created = await self.store.acreate(
                    resource.key, obj, dry_run=dry_run, handed_over=True
                )
                return text_response(created.text, 201, found)
        warnings: list[str] = []

        def change(current: Object) -> Object:
            patched = apply_patch(current, raw, content_type, resource.kind)
            patched_rv = (patched.get("metadata") or {}).get("resourceVersion")
            if patched_rv and patched_rv != current["metadata"].get("resourceVersion"):
                raise errors.conflict(resource.name, resource.group, name)
            obj, found = self._admit(request, target, patched, name, current=current)
            warnings.extend(found)
            return obj

        updated = await self.store.amutate(
            resource.key, namespace, name, change, preserve=self._preserve(target),
            dry_run=dry_run,
        )  # fmt: skip
        if not dry_run:
            await run_in_threadpool(deletion.finish, self.store, resource.key, updated.obj)
        return text_response(updated.text, 200, warnings)

    async def _delete_options(self, request: Request) -> tuple[dict[str, Any], str | None, bool]:
        """The DeleteOptions body, the propagation policy it asks for, and whether a dry run."""
        options = await self._body(request) or {}
        if not isinstance(options, dict):
            raise errors.bad_request("DeleteOptions must be a JSON object")
        policy = deletion.propagation_policy(options, request.query_params.get("propagationPolicy"))
        dry_run = "All" in request.query_params.getlist("dryRun") or "All" in (
            options.get("dryRun") or []
        )
        return options, policy, dry_run

    async def delete(self, request: Request, target: Target) -> Response:
        """DELETE: removed now, or marked (finalizers; Foreground, Orphan) and removed later;
        dependents are the garbage collector's (`deletion`, `collector`)."""
        assert target.name is not None
        options, policy, dry_run = await self._delete_options(request)
        preconditions = options.get("preconditions") or {}
        deleted = await run_in_threadpool(
            deletion.delete,
            self.store,
            target.resource.key,
            self._ns(target),
            target.name,
            policy=policy,
            uid=preconditions.get("uid"),
            resource_version=preconditions.get("resourceVersion"),
            dry_run=dry_run,
        )
        return json_response(deleted)

    async def delete_collection(self, request: Request, target: Target) -> Response:
        _, policy, dry_run = await self._delete_options(request)
        # Many synchronous writes: in the thread pool, never on the event loop.
        return await run_in_threadpool(self._delete_collection, request, target, policy, dry_run)

    def _delete_collection(
        self, request: Request, target: Target, policy: str | None, dry_run: bool
    ) -> Response:
        resource = target.resource
        items, _ = self.store.list(resource.key, target.namespace, self._predicate(request, target))
        deleted = []
        for item in items:
            meta = item["metadata"]
            with contextlib.suppress(errors.NotFoundError):
                gone = deletion.delete(
                    self.store, resource.key, meta.get("namespace", ""), meta["name"],
                    policy=policy, uid=meta.get("uid"), dry_run=dry_run,
                )  # fmt: skip
                deleted.append(gone)
        _, rv = self.store.list(resource.key, target.namespace)
        return json_response(
            {
                "kind": f"{resource.kind}List",
                "apiVersion": resource.group_version,
                "metadata": {"resourceVersion": str(rv)},
                "items": deleted,
            }
        )

    async def scale(self, request: Request, target: Target) -> Response:
        """deployments/scale, replicasets/scale, statefulsets/scale and
        replicationcontrollers/scale as autoscaling/v1 Scale."""
        assert target.name is not None
        resource, namespace, name = target.resource, self._ns(target), target.name
        if request.method == "GET":
            return json_response(_scale_of(self.store.read(resource.key, namespace, name).obj))
        if request.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed(request.method)
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "PATCH" and content_type not in PATCH_TYPES:
            raise errors.unsupported_media_type(content_type)

        def change(current: Object) -> Object:
            scale = _scale_of(current)
            if request.method == "PATCH":
                scale = apply_patch(scale, raw, content_type, "Scale")
            else:
                body = _decode_body(raw)
                if not isinstance(body, dict):
                    raise errors.bad_request("a Scale body is required")
                scale = body
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid(
                    "Scale", "autoscaling", name,
                    [invalid("spec.replicas", replicas, "must be greater than or equal to 0")],
                )  # fmt: skip
            current.setdefault("spec", {})["replicas"] = replicas
            return current

        updated = await self.store.amutate(
            resource.key, namespace, name, change, preserve=("status",)
        )
        return json_response(_scale_of(updated.obj))

    async def ephemeral_containers(self, request: Request, target: Target) -> Response:
        """pods/ephemeralcontainers: the Pod; PUT and PATCH change its ephemeral containers
        and nothing else (`ephemeral`)."""
        assert target.name is not None
        resource, namespace, name = target.resource, self._ns(target), target.name
        if request.method == "GET":
            return self.get(request, target)
        if request.method not in ("PUT", "PATCH"):
            raise errors.method_not_allowed(request.method)
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "PATCH" and content_type not in PATCH_TYPES:
            raise errors.unsupported_media_type(content_type)
        body = _body_of(raw, content_type) if request.method == "PUT" else None
        dry_run = "All" in request.query_params.getlist("dryRun")

        def change(current: Object) -> Object:
            given = body
            if given is None:
                given = apply_patch(current, raw, content_type, resource.kind)
            if not isinstance(given, dict):
                raise errors.bad_request("a Pod body is required")
            given_rv = (given.get("metadata") or {}).get("resourceVersion")
            if given_rv and given_rv != current["metadata"].get("resourceVersion"):
                raise errors.conflict(resource.name, resource.group, name)
            updated = ephemeral.with_ephemeral(current, given)
            found = ephemeral.validate_update(updated, current)
            if found:
                raise errors.invalid(resource.kind, resource.group, name, found)
            return updated

        updated = await self.store.amutate(
            resource.key, namespace, name, change, preserve=("status",), dry_run=dry_run
        )
        return text_response(updated.text)

    async def watch(self, request: Request, target: Target, options: ListOptions) -> Response:
        resource = target.resource
        if options.resource_version not in ("", "0"):
            await self._reach(int(options.resource_version))
        try:
            watch = self.store.watch(
                resource.key,
                target.namespace,
                options.resource_version or None,
                self._predicate(request, target),
                send_initial_events=options.send_initial_events,
            )
        except errors.ExpiredError as exc:
            event = {"type": "ERROR", "object": exc.status()}

            async def expired() -> AsyncIterator[bytes]:
                yield (json.dumps(event) + "\n").encode()

            return StreamingResponse(expired(), media_type="application/json")
        stream = _WatchStream(
            watch,
            target.resource,
            table=tables.wants_table(request.headers.get("accept", "")),
            include=request.query_params.get("includeObject", "Metadata"),
            bookmarks=options.allow_bookmarks,
            bookmark_seconds=self.bookmark_seconds,
            timeout=options.timeout_seconds or DEFAULT_WATCH_SECONDS,
        )
        return StreamingResponse(stream.lines(), media_type="application/json")


@dataclass
class _WatchStream:
    """One watch response: events as lines, BOOKMARKs when asked, until the timeout."""

    watch: Watch
    resource: Resource
    table: bool
    include: str
    bookmarks: bool
    bookmark_seconds: float
    timeout: float

    async def lines(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = start + self.timeout
        next_bookmark = self._next_bookmark(start, deadline)
        first, seen = True, 0
        try:
            while True:
                now = loop.time()
                if now >= deadline:
                    return
                wait = deadline - now
                if self.bookmarks:
                    wait = min(wait, max(0.0, next_bookmark - now))
                event = await self.watch.next(wait)
                if event is None:
                    if self.watch.closed:
                        return
                    if self.bookmarks and loop.time() >= next_bookmark:
                        rv = self.watch.progress()
                        if rv is not None and rv > seen:  # as upstream: only when it moved on
                            seen = rv
                            yield self._bookmark(rv)
                        next_bookmark = self._next_bookmark(loop.time(), deadline)
                    continue
                if event.type == BOOKMARK:
                    if self.bookmarks:
                        seen = max(seen, event.resource_version)
                        yield self._line(event, first)
                    continue
                seen = max(seen, event.resource_version)
                yield self._line(event, first)
                first = False
        finally:
            self.watch.close()

    def _next_bookmark(self, now: float, deadline: float) -> float:
        due = now + self.bookmark_seconds
        before_end = deadline - BOOKMARK_BEFORE_END
        return min(due, before_end) if before_end > now else due

    def _bookmark(self, resource_version: int) -> bytes:
        event = WatchEvent(BOOKMARK, {"metadata": {"resourceVersion": str(resource_version)}}, 0)
        return self._line(event, False)

    def _line(self, event: WatchEvent, first: bool) -> bytes:
        if event.type == BOOKMARK:  # metadata only, of the watched kind (upstream's newFunc())
            obj = {
                "kind": self.resource.kind,
                "apiVersion": self.resource.group_version,
                "metadata": event.object["metadata"],
            }
            line = json.dumps({"type": BOOKMARK, "object": obj}, separators=_COMPACT)
        elif self.table:
            body = tables.table(
                self.resource.key, [event.object], str(event.resource_version),
                include_object=self.include, with_columns=first,
            )  # fmt: skip
            line = json.dumps({"type": event.type, "object": body}, separators=_COMPACT)
        else:
            line = f'{{"type":"{event.type}","object":{event.text}}}'
        return (line + "\n").encode()


def _checks_pod(target: Target) -> bool:
    """Whether a write goes through ValidatePodCreate or ValidatePodUpdate: the pods resource
    itself (its status and ephemeral containers subresources have rules of their own)."""
    return target.resource.key == "pods" and target.subresource is None


def _pod_errors(
    target: Target, obj: Object, current: Object | None, creating: bool
) -> list[FieldError]:
    """A Pod's spec rules, and those of its create or of the update of `current`."""
    if not _checks_pod(target):
        return []
    errs = podvalidation.validate_pod(obj)
    if creating:
        return errs + podvalidation.validate_pod_create(obj)
    if current is not None:
        errs += podvalidation.validate_pod_update(obj, current)
    return errs


def _scale_of(obj: Object) -> Object:
    meta = obj.get("metadata") or {}
    selector = (obj.get("spec") or {}).get("selector") or {}
    if obj.get("kind") == "ReplicationController":
        selector = {"matchLabels": selector}  # a plain map: labels.SelectorFromSet
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            k: meta[k]
            for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if k in meta
        },
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas") or 0)},
        "status": {
            "replicas": int((obj.get("status") or {}).get("replicas") or 0),
            "selector": selector_string(selector),
        },
    }

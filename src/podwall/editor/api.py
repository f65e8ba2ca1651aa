"""The JSON API: each endpoint reads the request, calls the engine, and returns its answer.

No policy semantics here: parsing and validation are `drafts`, verdicts are `podwall.engine`
(through `analysis` and `picture`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from podwall.editor import analysis, cnpform, picture, tutorial, views
from podwall.editor.attached import Attached, AttachedError
from podwall.editor.drafts import Draft, parse_yaml, render_form
from podwall.editor.errors import EditorError
from podwall.editor.form import JSON, FormError, empty_form, from_body
from podwall.editor.grid import Grid, Window
from podwall.editor.grouping import Filter
from podwall.editor.workspace import Workspace, with_draft
from podwall.manifests.reader import LoadError
from podwall.model.cluster import Cluster
from podwall.model.clusterpolicy import KIND as CLUSTER_KIND

Handler = Callable[[Request], Awaitable[JSONResponse]]


class BadRequest(EditorError, ValueError):
    """The request itself is wrong; 400 with the message."""


async def _body(request: Request) -> Mapping[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise BadRequest("the request body must be JSON") from None
    if not isinstance(data, Mapping):
        raise BadRequest("the request body must be a JSON object")
    return data


def _answered(view: Callable[..., JSON], *args: Any) -> JSON:
    """What `view` answers; a question it cannot answer (ViewError) is a 400 saying why."""
    try:
        return view(*args)
    except views.ViewError as exc:
        raise BadRequest(str(exc)) from None


def _text(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string")
    return value


class Api:
    """The endpoints over one workspace; with `attached`, also those of the live cluster."""

    def __init__(self, workspace: Workspace, attached: Attached | None = None) -> None:
        self.workspace = workspace
        self.attached = attached
        self.views = views.Views()

    def routes(self) -> list[Route]:
        endpoints: dict[str, tuple[Callable[..., Any], list[str]]] = {
            "/api/state": (self.state, ["GET"]),
            "/api/reload": (self.reload, ["POST"]),
            "/api/manifests": (self.add_manifests, ["POST"]),
            "/api/manifests/remove": (self.remove_manifests, ["POST"]),
            "/api/new": (self.new, ["POST"]),
            "/api/parse": (self.parse, ["POST"]),
            "/api/render": (self.render, ["POST"]),
            "/api/policy": (self.policy, ["POST"]),
            "/api/pod": (self.pod, ["POST"]),
            "/api/try": (self.try_connection, ["POST"]),
            "/api/matrix": (self.matrix, ["POST"]),
            "/api/grid": (self.grid, ["POST"]),
            "/api/grid/cell": (self.grid_cell, ["POST"]),
            "/api/diff": (self.diff, ["POST"]),
            "/api/tutorial": (self.tutorial, ["GET"]),
        }
        if self.attached is not None:
            for path, endpoint in self.attached.endpoints(_body).items():
                endpoints[path] = (endpoint, ["POST"])
        return [
            Route(path, _guard(handler), methods=methods)
            for path, (handler, methods) in endpoints.items()
        ]

    # The loaded cluster.

    def _state(self) -> JSON:
        snap = self.workspace.snapshot()
        return {
            "files": self.workspace.files(),
            "imported": self.workspace.imported.describe(),
            "errors": snap.errors,
            "ignored": snap.ignored,
            "cluster": analysis.cluster_json(snap.cluster),
            "attached": self.attached.describe() if self.attached is not None else None,
        }

    async def state(self, request: Request) -> JSON:
        return self._state()

    async def reload(self, request: Request) -> JSON:
        self.workspace.reload()
        return self._state()

    async def add_manifests(self, request: Request) -> JSON:
        data = await _body(request)
        try:
            self.workspace.add(_text(data, "name", "pasted.yaml"), _text(data, "text"))
        except LoadError as exc:
            raise BadRequest(str(exc)) from None
        return self._state()

    async def remove_manifests(self, request: Request) -> JSON:
        data = await _body(request)
        self.workspace.remove(_text(data, "name"))
        return self._state()

    async def policy(self, request: Request) -> JSON:
        """A loaded policy as a draft, to edit it."""
        key = _text(await _body(request), "key")
        raw = self.workspace.snapshot().raw_policies.get(key)
        if raw is None:
            raise BadRequest(f"no policy {key} in the loaded manifests")
        if raw.kind == "ClusterNetworkPolicy":
            return self._answer(render_form(cnpform.from_body(raw.body)))
        return self._answer(render_form(from_body(raw.body)))

    # Drafts.

    def _answer(self, draft: Draft) -> JSON:
        out = draft.to_json()
        if draft.kind == CLUSTER_KIND:
            return self._cluster_answer(draft, out)
        policy = draft.policy
        out["picture"] = picture.flows(policy) if policy is not None else None
        out["cluster"] = None
        if policy is not None:
            cluster = with_draft(self.workspace.snapshot().cluster, policy)
            out["cluster"] = {
                **analysis.matches(cluster, policy),
                "flows": analysis.flows(cluster, policy),
            }
        return out

    def _cluster_answer(self, draft: Draft, out: JSON) -> JSON:
        """A ClusterNetworkPolicy draft: its rules in order (`picture`), the pods its subject
        and peers select, and the flows of those pods with the draft applied."""
        policy = draft.cluster_policy
        out["picture"] = None
        out["cluster"] = None
        if policy is not None:
            out["picture"] = {"clusterPolicy": analysis.cluster_rules(policy)}
            cluster = with_draft(self.workspace.snapshot().cluster, policy)
            out["cluster"] = {
                **analysis.cluster_matches(cluster, policy),
                "flows": analysis.flows(cluster, policy),
            }
        return out

    async def new(self, request: Request) -> JSON:
        data = await _body(request)
        if data.get("kind") == CLUSTER_KIND:
            tier = _text(data, "tier", "Admin")
            return self._answer(render_form(cnpform.empty_form(tier=tier)))
        return self._answer(render_form(empty_form(namespace=_text(data, "namespace", ""))))

    async def parse(self, request: Request) -> JSON:
        return self._answer(parse_yaml(_text(await _body(request), "yaml")))

    async def render(self, request: Request) -> JSON:
        return self._answer(_draft_of(await _body(request)))

    async def pod(self, request: Request) -> JSON:
        """The policies that select a pod, with the draft applied when it is valid."""
        data = await _body(request)
        cluster = self._cluster(data)
        pod = cluster.pods_by_key.get(_text(data, "pod"))
        if pod is None:
            raise BadRequest(f"no pod {data.get('pod')} in the loaded manifests")
        return {"pod": analysis.pod_json(pod), "policies": analysis.policies_for(cluster, pod)}

    def _cluster(self, data: Mapping[str, Any]) -> Cluster:
        base = self.workspace.snapshot().cluster
        if data.get("form") is None:
            return base
        return with_draft(base, _draft_of(data).valid)

    async def try_connection(self, request: Request) -> JSON:
        data = await _body(request)
        cluster = self._cluster(data)
        try:
            decisions = analysis.try_connection(
                cluster,
                _text(data, "from"),
                _text(data, "to"),
                _text(data, "port"),
                _text(data, "protocol", "TCP"),
            )
        except analysis.AskError as exc:
            raise BadRequest(str(exc)) from None
        return {
            "allowed": all(d.allowed for d in decisions),
            "draft": self._draft_note(data),
            "decisions": [analysis.decision_json(d) for d in decisions],
        }

    def _draft_note(self, data: Mapping[str, Any]) -> str | None:
        if data.get("form") is None:
            return None
        draft = _draft_of(data)
        if draft.valid is None:
            return "the draft has errors, so it was left out"
        return f"with the draft {draft.valid.key} applied"

    async def matrix(self, request: Request) -> JSON:
        data = await _body(request)
        question = _question(data)
        return analysis.matrix(self.workspace.snapshot().cluster, question)

    def _grid(self, data: Mapping[str, Any]) -> tuple[Grid, str | None]:
        """The grid of the snapshot with the draft (when `form` is sent and valid)."""
        snap = self.workspace.snapshot()
        if data.get("form") is None:
            return self.views.grid(snap, None, ""), None
        draft = _draft_of(data)
        key = draft.valid.key if draft.valid is not None else None
        return self.views.grid(snap, draft.valid, draft.yaml), key

    async def grid(self, request: Request) -> JSON:
        """A window of the group-by-group matrix, filtered; cells carry the draft's change."""
        data = await _body(request)
        grid, draft = self._grid(data)
        question = views.Question(
            by=_text(data, "by", "workload"),
            keep=Filter(
                namespace=_text(data, "namespace", ""),
                workload=_text(data, "workload", ""),
                text=_text(data, "text", "").strip(),
            ),
            changed=data.get("changed") is True,
            rows=_window(data, "rows"),
            cols=_window(data, "cols"),
        )
        return {**_answered(views.matrix, grid, question), "draft": draft}

    async def grid_cell(self, request: Request) -> JSON:
        """The pod pairs of one cell, with the ports each is allowed, to explain one."""
        data = await _body(request)
        grid, draft = self._grid(data)
        where = (_text(data, "by", "workload"), _int(data, "row"), _int(data, "col"))
        return {**_answered(views.cell, grid, *where), "draft": draft}

    async def diff(self, request: Request) -> JSON:
        """The connections the draft newly allows and denies, as `podwall diff` words them."""
        data = await _body(request)
        grid, draft = self._grid(data)
        out = views.changes(grid, _window(data, "window"))
        return {**out, "draft": draft}

    async def tutorial(self, request: Request) -> JSON:
        return {"steps": tutorial.steps()}


def _draft_of(data: Mapping[str, Any]) -> Draft:
    form = data.get("form")
    if not isinstance(form, Mapping):
        raise BadRequest("'form' must be the structured form of a policy")
    try:
        return render_form(form)
    except FormError as exc:
        raise BadRequest(f"malformed form: {exc}") from None


def _int(data: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadRequest(f"{key!r} must be an integer")
    return value


def _window(data: Mapping[str, Any], key: str) -> Window:
    part = data.get(key, {})
    if not isinstance(part, Mapping):
        raise BadRequest(f"{key!r} must be an object with offset and limit")
    offset, limit = _int(part, "offset", 0), _int(part, "limit", Window().limit)
    if offset < 0 or not 0 <= limit <= views.MAX_WINDOW:
        raise BadRequest(f"{key}: offset >= 0 and limit 0..{views.MAX_WINDOW}")
    return Window(offset=offset, limit=limit)


def _question(data: Mapping[str, Any]) -> analysis.PortQuestion:
    try:
        return analysis.PortQuestion.parse(
            str(data.get("port", "")), str(data.get("protocol") or "TCP")
        )
    except analysis.AskError as exc:
        raise BadRequest(str(exc)) from None


def _guard(handler: Callable[[Request], Awaitable[JSON]]) -> Handler:
    """JSON out; a BadRequest becomes 400 with its message."""

    async def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await handler(request))
        except (BadRequest, AttachedError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    return endpoint

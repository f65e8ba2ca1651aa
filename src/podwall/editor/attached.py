"""The endpoints of the editor attached to a live cluster: apply the draft, run checks, flows.

`POST /api/cluster/apply {form}` applies the draft (even one the editor finds invalid: the
API server's answer is the last word, and its field causes come back as errors for the page).
`POST /api/cluster/checks` runs connection checks in the pods, the lab's (`{"tutorial": true}`)
or `{"from", "to", "port"}`, each with its command, output, exit status and the engine's
prediction on the cluster as it is now. `POST /api/cluster/flows {"pods": [ns/name...],
"last": N}` answers the real connections of those pods the cluster's nodes reported
(`flows.RecentFlows`), or `{"flows": null, "note": why}` when the cluster's flows are not on
this machine. Blocking client calls run in threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request

from podwall.editor import checks, live
from podwall.editor.cluster import ClusterSource
from podwall.editor.drafts import render_form
from podwall.editor.errors import EditorError
from podwall.editor.flows import RecentFlows, for_kubeconfig
from podwall.editor.form import JSON, FormError
from podwall.editor.workspace import Workspace

Endpoint = Callable[[Request], Awaitable[JSON]]
BodyReader = Callable[[Request], Awaitable[Mapping[str, Any]]]
MAX_FLOWS = 200  # flows one answer holds at most


class AttachedError(EditorError, ValueError):
    """A request the attached endpoints cannot serve; 400 with the message."""


class Attached:
    """The live cluster behind the editor: its source, and what the page may do to it."""

    def __init__(
        self,
        source: ClusterSource,
        workspace: Workspace,
        flows: RecentFlows | None = None,
    ) -> None:
        self.source = source
        self.workspace = workspace
        self.flows = flows if flows is not None else for_kubeconfig(source.kubeconfig)

    def describe(self) -> JSON:
        return {"server": self.source.server, "kubeconfig": str(self.source.kubeconfig)}

    def endpoints(self, body: BodyReader) -> dict[str, Endpoint]:
        async def apply(request: Request) -> JSON:
            return await self.apply(await body(request))

        async def run_checks(request: Request) -> JSON:
            return await self.run_checks(await body(request))

        async def recent_flows(request: Request) -> JSON:
            return await self.recent_flows(await body(request))

        return {
            "/api/cluster/apply": apply,
            "/api/cluster/checks": run_checks,
            "/api/cluster/flows": recent_flows,
        }

    async def recent_flows(self, data: Mapping[str, Any]) -> JSON:
        pods = data.get("pods")
        if not isinstance(pods, list) or not all(isinstance(p, str) for p in pods):
            raise AttachedError("'pods' must be a list of namespace/name")
        last = data.get("last", MAX_FLOWS)
        if not isinstance(last, int) or isinstance(last, bool) or not 0 <= last <= MAX_FLOWS:
            raise AttachedError(f"'last' must be a whole number from 0 to {MAX_FLOWS}")
        if self.flows is None:
            note = "this cluster's flows are not on this machine (podwall up keeps them here)"
            return {"flows": None, "note": note}
        found = await asyncio.to_thread(self.flows.of, pods, last)
        return {"flows": found, "note": None}

    async def apply(self, data: Mapping[str, Any]) -> JSON:
        form = data.get("form")
        if not isinstance(form, Mapping):
            raise AttachedError("'form' must be the structured form of a policy")
        try:
            draft = render_form(form)
        except FormError as exc:
            raise AttachedError(f"malformed form: {exc}") from None
        assert draft.body is not None
        try:
            applied = await asyncio.to_thread(live.apply_policy, self.source, draft.body)
        except live.Refused as exc:
            return {"applied": None, "status": exc.status, "errors": exc.errors()}
        finally:
            self.workspace.reload()
        return {"applied": applied.to_json(), "status": None, "errors": []}

    async def run_checks(self, data: Mapping[str, Any]) -> JSON:
        cluster = self.workspace.reload().cluster
        try:
            if data.get("tutorial"):
                planned = checks.tutorial(cluster)
            else:
                planned = checks.plan(
                    cluster, _text(data, "from"), _text(data, "to"), _text(data, "port")
                )
        except checks.CheckError as exc:
            raise AttachedError(str(exc)) from None
        results = await asyncio.gather(*(asyncio.to_thread(self._run, c) for c in planned))
        return {"results": list(results)}

    def _run(self, check: checks.Check) -> JSON:
        ran = live.run(self.source, check.pod.namespace, check.pod.name, check.argv)
        return checks.outcome(check, ran.exit_code, ran.output, ran.error)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise AttachedError(f"{key!r} must be a non-empty string")
    return value

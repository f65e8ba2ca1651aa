"""DELETE over HTTP: DeleteOptions, the propagation policy, and marked objects; where a
create commits."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from podwall.apiserver import handlers
from podwall.apiserver.app import create_app
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.store import Store
from tests.unit.apiserver.asgi import Client

TOKEN = "test-token"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    s = Store(tmp_path / "state.db")
    bootstrap(s)
    yield Client(create_app(s, TOKEN), {"Authorization": f"Bearer {TOKEN}"})
    s.close()


def configmap(name: str, **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **metadata}}


@pytest.mark.parametrize(
    ("how", "finalizers"),
    [
        ({"json": {"propagationPolicy": "Foreground"}}, ["foregroundDeletion"]),
        ({"json": {"propagationPolicy": "Orphan"}}, ["orphan"]),
        ({"json": {"orphanDependents": True}}, ["orphan"]),
        ({"params": {"propagationPolicy": "Orphan"}}, ["orphan"]),
    ],
    ids=["Foreground", "Orphan", "orphanDependents", "the policy as a query parameter"],
)
def test_a_delete_that_leaves_finalizers_answers_the_marked_object(
    client: Client, how: dict[str, Any], finalizers: list[str]
) -> None:
    client.post(CONFIGMAPS, json=configmap("a"))
    answer = client.request("DELETE", f"{CONFIGMAPS}/a", **how)
    assert answer.status_code == 200
    assert answer.json()["metadata"]["finalizers"] == finalizers
    assert answer.json()["metadata"]["deletionTimestamp"]
    assert client.get(f"{CONFIGMAPS}/a").json() == answer.json()


def test_an_unknown_policy_is_422_and_deletes_nothing(client: Client) -> None:
    client.post(CONFIGMAPS, json=configmap("a"))
    answer = client.request("DELETE", f"{CONFIGMAPS}/a", json={"propagationPolicy": "Later"})
    assert answer.status_code == 422
    assert answer.json()["reason"] == "Invalid"
    assert client.get(f"{CONFIGMAPS}/a").status_code == 200


def test_patching_away_the_last_finalizer_of_a_marked_object_removes_it(client: Client) -> None:
    client.post(CONFIGMAPS, json=configmap("a", finalizers=["example.com/hold"]))
    assert client.delete(f"{CONFIGMAPS}/a").json()["metadata"]["deletionTimestamp"]
    patched = client.patch(
        f"{CONFIGMAPS}/a",
        json={"metadata": {"finalizers": None}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200
    assert client.get(f"{CONFIGMAPS}/a").status_code == 404


def test_delete_collection_applies_the_policy_to_each_object(client: Client) -> None:
    for name in ("a", "b"):
        client.post(CONFIGMAPS, json=configmap(name, labels={"set": "x"}))
    answer = client.request(
        "DELETE",
        CONFIGMAPS,
        params={"labelSelector": "set=x"},
        json={"propagationPolicy": "Orphan"},
    )
    assert [i["metadata"]["finalizers"] for i in answer.json()["items"]] == [["orphan"]] * 2


PODS = "/api/v1/namespaces/default/pods"
STRATEGIC = {"Content-Type": "application/strategic-merge-patch+json"}


def _pod(client: Client) -> dict[str, Any]:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "app", "image": "busybox"}]},
    }
    created = client.post(PODS, json=body)
    assert created.status_code == 201, created.text
    found = created.json()
    assert isinstance(found, dict)
    return found


def test_ephemeralcontainers_patch_adds_one_and_changes_nothing_else(client: Client) -> None:
    before = _pod(client)
    patch = {
        "metadata": {"labels": {"sneaky": "yes"}},
        "spec": {"ephemeralContainers": [{"name": "debugger", "image": "busybox", "stdin": True}]},
    }
    answer = client.patch(f"{PODS}/p/ephemeralcontainers", json=patch, headers=STRATEGIC)
    assert answer.status_code == 200, answer.text
    pod = client.get(f"{PODS}/p").json()
    assert pod["spec"]["ephemeralContainers"][0]["name"] == "debugger"
    assert pod["spec"]["ephemeralContainers"][0]["stdin"] is True
    assert "labels" not in pod["metadata"]
    assert pod["spec"]["containers"] == before["spec"]["containers"]
    assert client.get(f"{PODS}/p/ephemeralcontainers").json() == pod


def test_ephemeralcontainers_put_answers_422_in_upstreams_words(client: Client) -> None:
    pod = _pod(client)
    pod["spec"]["ephemeralContainers"] = [
        {"name": "app", "image": "busybox", "targetContainerName": "nope"}
    ]
    answer = client.put(f"{PODS}/p/ephemeralcontainers", json=pod)
    assert answer.status_code == 422
    assert answer.json()["message"] == (
        'Pod "p" is invalid: [spec.ephemeralContainers[0].name: Duplicate value: "app", '
        'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"]'
    )
    assert "ephemeralContainers" not in client.get(f"{PODS}/p").json()["spec"]


def test_ephemeralcontainers_put_with_an_old_resource_version_conflicts(client: Client) -> None:
    pod = _pod(client)
    client.patch(
        f"{PODS}/p/ephemeralcontainers",
        json={"spec": {"ephemeralContainers": [{"name": "a", "image": "busybox"}]}},
        headers=STRATEGIC,
    )
    pod["spec"]["ephemeralContainers"] = [{"name": "b", "image": "busybox"}]
    assert client.put(f"{PODS}/p/ephemeralcontainers", json=pod).status_code == 409


POD_FORBIDDEN = (
    'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than '
    "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)
NEW_PORT = {"spec": {"containers": [{"name": "app", "ports": [{"containerPort": 8080}]}]}}


@pytest.mark.parametrize(
    ("method", "headers"),
    [("PATCH", STRATEGIC), ("PUT", {})],
    ids=["a strategic merge patch", "a PUT of the whole pod"],
)
def test_a_pod_update_beyond_images_is_refused_and_changes_nothing(
    client: Client, method: str, headers: dict[str, str]
) -> None:
    before = _pod(client)
    body: dict[str, Any] = NEW_PORT
    if method == "PUT":
        body = {**before, "spec": {**before["spec"], "containers": [
            {**before["spec"]["containers"][0], "ports": [{"containerPort": 8080}]}]}}  # fmt: skip
    answer = client.request(method, f"{PODS}/p", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"] == POD_FORBIDDEN
    assert client.get(f"{PODS}/p").json() == before


def test_a_pod_image_and_its_labels_may_change(client: Client) -> None:
    _pod(client)
    patch = {"metadata": {"labels": {"v": "2"}},
             "spec": {"containers": [{"name": "app", "image": "busybox:1.37"}]}}  # fmt: skip
    answer = client.patch(f"{PODS}/p", json=patch, headers=STRATEGIC)
    assert answer.status_code == 200, answer.text
    assert answer.json()["spec"]["containers"][0]["image"] == "busybox:1.37"
    assert answer.json()["metadata"]["labels"] == {"v": "2"}


def test_a_pod_status_put_is_not_held_to_the_update_rules(client: Client) -> None:
    """pods/status keeps the stored spec: what its body says of the spec does not matter."""
    pod = _pod(client)
    pod["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    pod["status"] = {"phase": "Running"}
    answer = client.put(f"{PODS}/p/status", json=pod)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"]["phase"] == "Running"
    assert "ports" not in answer.json()["spec"]["containers"][0]


def test_a_pod_is_checked_on_create_with_ephemeral_containers_refused(client: Client) -> None:
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "app"}],
                     "ephemeralContainers": [{"name": "d", "image": "busybox"}]}}  # fmt: skip
    answer = client.post(PODS, json=body)
    assert answer.status_code == 422
    assert answer.json()["message"] == (
        'Pod "p" is invalid: [spec.containers[0].image: Required value, '
        "spec.ephemeralContainers: Forbidden: cannot be set on create]"
    )


# Where a create commits: on the event loop when its client is alone, else in the committer.


def _committing_threads(store: Store) -> list[str]:
    threads: list[str] = []
    write = store._committer._write

    def spy(batch: Any) -> None:
        threads.append(threading.current_thread().name)
        write(batch)

    store._committer._write = spy  # type: ignore[method-assign]
    return threads


def test_a_lone_clients_create_commits_on_the_event_loop_and_anothers_in_the_committer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handlers, "ALONE_AFTER", 3600.0)  # however slow the machine
    store = Store(tmp_path / "state.db")
    bootstrap(store)
    app = create_app(store, TOKEN)
    threads = _committing_threads(store)
    loop_threads: list[str] = []

    async def post(client: tuple[str, int], name: str) -> int:
        transport = httpx.ASGITransport(app=app, client=client)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=headers
        ) as http:
            loop_threads.append(threading.current_thread().name)
            answer = await http.post(CONFIGMAPS, json=configmap(name))
            return answer.status_code

    try:
        assert asyncio.run(post(("127.0.0.1", 1001), "alone")) == 201
        assert asyncio.run(post(("127.0.0.1", 1002), "another")) == 201
        assert asyncio.run(post(("127.0.0.1", 1001), "back")) == 201
        # Alone: committed by the event loop's thread. Right after a request from another
        # connection (within ALONE_AFTER): by the committer thread.
        assert threads[0] == loop_threads[0]
        assert threads[1] != loop_threads[1]
        assert threads[2] != loop_threads[2]
        assert [s.name for s in store.select("configmaps", "default")[0]] == [
            "alone", "another", "back",
        ]  # fmt: skip
    finally:
        store.close()


# Answers built without Starlette's Response constructor: the same head and body.


@pytest.mark.parametrize("status", [200, 201, 204, 304, 404, 422])
@pytest.mark.parametrize("warnings", [None, [], ["one"], ['a "quoted" one', "non-ASCII: é"]])
def test_json_answers_are_what_starlettes_response_makes(
    status: int, warnings: list[str] | None
) -> None:
    from starlette.responses import Response

    text = '{"kind":"ConfigMap","data":{"k":"é"}}'
    expected = Response(text, status_code=status, media_type="application/json")
    for warning in warnings or []:
        expected.headers.append("Warning", f"299 - {json.dumps(warning)}")
    body = json.loads(text)
    for made in (
        handlers.text_response(text, status, warnings),
        handlers.json_response(body, status, warnings),
    ):
        assert (made.status_code, made.raw_headers, bytes(made.body)) == (
            expected.status_code, expected.raw_headers, bytes(expected.body),
        )  # fmt: skip
        assert made.headers.getlist("warning") == expected.headers.getlist("warning")
        assert made.background is None


# A create's body is the stored object's start: nulls are dropped whatever the body's form.


@pytest.mark.parametrize(
    "raw",
    [
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":null},'
        b'"data":{"k":"null"}}',
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"null"},'
        b'"binaryData":null}',
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: ~}\ndata: {k: 'null'}\n",
    ],
    ids=["json-null", "json-null-last", "yaml-null"],
)
def test_a_created_object_keeps_no_null_the_body_sent(client: Client, raw: bytes) -> None:
    answer = client.post(CONFIGMAPS, content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 201, answer.text
    stored = client.get(f"{CONFIGMAPS}/a").json()
    assert stored == answer.json()
    assert "labels" not in stored["metadata"]
    assert "binaryData" not in stored
    assert stored["data"] == {"k": "null"}


def test_a_body_without_null_is_stored_as_sent(client: Client) -> None:
    sent = configmap("a", labels={"app": "x"}) | {"data": {"k": "v", "n": "nul"}}
    answer = client.post(CONFIGMAPS, json=sent)
    assert answer.status_code == 201
    stored = answer.json()
    assert stored["metadata"]["labels"] == {"app": "x"}
    assert stored["data"] == {"k": "v", "n": "nul"}
    assert {k: v for k, v in stored.items() if k != "metadata"} == {
        k: v for k, v in sent.items() if k != "metadata"
    }


def test_query_parameters_of_an_empty_query_are_none_as_starlettes() -> None:
    from starlette.datastructures import QueryParams

    from podwall.apiserver.app import _NO_QUERY

    empty = QueryParams("")
    for key in ("dryRun", "fieldValidation", ""):
        assert _NO_QUERY.get(key) == empty.get(key) is None
        assert _NO_QUERY.get(key, "x") == empty.get(key, "x") == "x"
        assert _NO_QUERY.getlist(key) == empty.getlist(key) == []
    assert (len(_NO_QUERY), list(_NO_QUERY), str(_NO_QUERY)) == (0, [], "")

"""A diff of a cluster and files applied on it: a workload's running pods are its template.

The cluster side is what `podwall up` serves after `kubectl apply` (pods with
ownerReferences and the controllers' labels); the files side is that cluster with the files
layered on, as `diff --cluster` reads it.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from podwall.live.layer import layer
from podwall.manifests.reader import Loaded
from podwall.model.convert import cluster
from podwall.model.rawobject import RawObject
from podwall.model.record import replace
from podwall.review import diffreport
from podwall.review.diff import Diff, diff
from podwall.review.matching import differences, match


def deployment(name: str, replicas: int = 1, labels: str = "") -> str:
    extra = f", {labels}" if labels else ""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}{extra}}}}}
    spec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 8080}}]}}]}}
---
"""


def running(name: str, replicas: int = 1, labels: str = "", relabel: str = "") -> str:
    """What the controllers made of `deployment(name, replicas, labels)`: a ReplicaSet and
    its pods, each with the pod-template-hash label; `relabel` is added to the last pod."""
    extra = f", {labels}" if labels else ""
    out = f"""
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}-d9b85874d
  namespace: default
  ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: {name}, uid: u1,
                      controller: true}}]
spec:
  selector: {{matchLabels: {{app: {name}, pod-template-hash: d9b85874d}}}}
  template:
    metadata: {{labels: {{app: {name}, pod-template-hash: d9b85874d{extra}}}}}
    spec: {{containers: [{{name: c}}]}}
---
"""
    for i in range(replicas):
        more = f", {relabel}" if relabel and i == replicas - 1 else ""
        out += f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}-d9b85874d-p{i}
  namespace: default
  labels: {{app: {name}, pod-template-hash: d9b85874d{extra}{more}}}
  ownerReferences: [{{apiVersion: apps/v1, kind: ReplicaSet, name: {name}-d9b85874d,
                      uid: u2, controller: true}}]
spec: {{containers: [{{name: c, ports: [{{name: http, containerPort: 8080}}]}}]}}
status: {{podIP: 198.18.0.{10 + 10 * len(name) + i}}}
---
"""
    return out


STANDALONE = """
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: default, labels: {app: debug}}
spec: {containers: [{name: c}]}
status: {podIP: 198.18.0.2}
---
"""
DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
"""
ALLOW = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: default}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: http}]}]
---
"""
DEBUG_ALLOW = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-debug, namespace: default}
spec:
  podSelector: {matchLabels: {app: backend}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {debug: "on"}}}]}]
---
"""
CLOSED = ALLOW.replace(
    "ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: http}]}]",
    "ingress: []",
)
FROM_POD_NETWORK = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-pods, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress: [{from: [{ipBlock: {cidr: 198.18.0.0/16}}]}]
---
"""
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n---\n"


def loaded(text: str) -> Loaded:
    docs: list[dict[str, Any]] = [d for d in yaml.safe_load_all(text) if d]
    return Loaded(objects=[RawObject(body=d) for d in docs])


def applied(live: str, files: str) -> Diff:
    """`diff --cluster`: the cluster as it runs, and with `files` applied on it. A policy of
    the cluster the files leave out is taken as deleted (`kubectl apply --prune`)."""
    state = loaded(NAMESPACE + live)
    before = cluster(state.objects).cluster
    declared = {o.name for o in loaded(files).objects if o.kind == "NetworkPolicy"}
    pruned = Loaded(
        objects=[o for o in state.objects if o.kind != "NetworkPolicy" or o.name in declared]
    )
    after = cluster(layer(pruned, loaded(files)).loaded.objects).cluster
    return diff(before, after)


def rows(d: Diff, which: str) -> set[tuple[str, str]]:
    return {(r["src"], r["dst"]) for r in d.to_json()[which]}


APP = deployment("frontend") + deployment("backend")
LIVE = running("frontend") + running("backend") + STANDALONE

CASES = [
    ("the same manifests: no change", LIVE + DENY + ALLOW, APP + DENY + ALLOW, set(), set()),
    (
        "an ipBlock holding the pod network holds the re-created pods: the same, no change",
        LIVE + FROM_POD_NETWORK,
        APP + STANDALONE + FROM_POD_NETWORK,
        set(),
        set(),
    ),
    (
        "an ipBlock narrowed to one address: the workloads' pairs are newly denied",
        LIVE + FROM_POD_NETWORK,
        APP + FROM_POD_NETWORK.replace("0.0/16", "0.2/32"),
        set(),
        {
            ("default/frontend", "default/backend"),
            ("default/backend", "default/frontend"),
            ("default/frontend", "default/debug"),
            ("default/backend", "default/debug"),
        },
    ),
    (
        "a policy removed: the workload pairs it opened are newly denied, named by workload",
        LIVE + DENY + ALLOW,
        APP + DENY,
        set(),
        {("default/frontend", "default/backend")},
    ),
    (
        "a policy emptied by the files: the workload pairs it opened are newly denied",
        LIVE + DENY + ALLOW,
        APP + DENY + CLOSED,
        set(),
        {("default/frontend", "default/backend")},
    ),
    (
        "a policy added: the workload pair is newly allowed, named by workload",
        LIVE + DENY,
        APP + DENY + ALLOW,
        {("default/frontend", "default/backend")},
        set(),
    ),
    (
        "replicas differ (3 running, 1 in the files): one endpoint per workload",
        running("frontend", 3) + running("backend", 2) + DENY + ALLOW,
        deployment("frontend", 1) + deployment("backend", 5) + DENY,
        set(),
        {("default/frontend", "default/backend")},
    ),
    (
        "a standalone pod matches by name, a policy opening it is newly allowed",
        LIVE + DENY,
        APP
        + STANDALONE
        + DENY
        + ALLOW.replace("app: frontend", "app: debug").replace("name: allow", "name: dbg"),
        {("default/debug", "default/backend")},
        set(),
    ),
    (
        "a workload only in the files is new; the running ones are unchanged",
        LIVE + DENY + ALLOW,
        APP + deployment("cache") + DENY + ALLOW,
        set(),
        set(),
    ),
    (
        "a workload only in the cluster stays as it runs, by its pods' names",
        LIVE + running("cache") + DENY + ALLOW,
        deployment("backend") + DENY,
        set(),
        {("default/frontend-d9b85874d-p0", "default/backend")},
    ),
]


@pytest.mark.parametrize(
    ("live", "files", "allowed", "denied"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_cluster_and_files_line_up_by_workload(
    live: str, files: str, allowed: set[tuple[str, str]], denied: set[tuple[str, str]]
) -> None:
    d = applied(live, files)
    assert rows(d, "newly_allowed") == allowed
    assert rows(d, "newly_denied") == denied
    assert d.changed == bool(allowed or denied)
    assert d.notes == ()
    assert "notes" not in d.to_json()


def test_same_manifests_print_no_change() -> None:
    d = applied(LIVE + DENY + ALLOW, APP + DENY + ALLOW)
    assert diffreport.text(d) == [diffreport.summary(d)]
    assert diffreport.summary(d).startswith("no change")


def test_a_relabelled_running_pod_is_named_and_said_to_differ() -> None:
    """`kubectl label pod backend-...-p1 debug=on`: the files would re-create it without."""
    live = running("frontend") + running("backend", 2, relabel='debug: "on"') + DENY
    d = applied(live + DEBUG_ALLOW, APP + DENY + DEBUG_ALLOW)
    assert d.notes == (
        "default/backend-d9b85874d-p1 differs from the template of deployment default/backend "
        "(label debug=on not in the template): it is compared as the files would re-create it",
    )
    # Before, the relabelled pod reached the backends; as re-created it does not.
    assert rows(d, "newly_denied") == {("default/backend-d9b85874d-p1", "default/backend")}
    assert rows(d, "newly_allowed") == set()
    assert d.to_json()["notes"] == list(d.notes)
    text = diffreport.text(d)
    assert text[1] == f"note: {d.notes[0]}"
    # Explained as re-created: the template's labels, under the running pod's name.
    assert "      now ingress denied (isolated by default/allow-debug, default/deny; " in "\n".join(
        text
    )
    assert any(line.startswith("> note: ") for line in diffreport.markdown(d))


def test_a_relabelled_single_replica_is_still_its_workload_with_a_note() -> None:
    live = running("frontend", 1, relabel="tier: web") + running("backend") + DENY + ALLOW
    d = applied(live, APP + DENY + ALLOW)
    assert not d.changed
    assert d.notes == (
        "the 1 running pod(s) of deployment default/frontend differ from its template in the "
        "files (label tier=web not in the template): compared as the files would re-create them",
    )


DIFFERENCES = [
    ("the controller's labels are no difference", {"pod-template-hash": "x"}, []),
    ("an added label", {"extra": "y"}, ["label extra=y not in the template"]),
    ("a changed label", {"app": "other"}, ["label app=other, the template has frontend"]),
]


@pytest.mark.parametrize(
    ("labels", "expected"), [c[1:] for c in DIFFERENCES], ids=[c[0] for c in DIFFERENCES]
)
def test_differences(labels: dict[str, str], expected: list[str]) -> None:
    live = cluster(loaded(NAMESPACE + running("frontend")).objects).cluster
    template = cluster(loaded(deployment("frontend")).objects).cluster
    pod = live.pods_by_key["default/frontend-d9b85874d-p0"]

    from podwall.model.labels import Labels

    pod = replace(pod, labels=Labels({**pod.labels, **labels}))
    assert differences(pod, template.pods_by_key["default/frontend"]) == expected


def test_a_pod_named_like_a_workload_but_not_selected_is_not_its() -> None:
    stray = STANDALONE.replace("name: debug", "name: frontend-stray")
    state = loaded(NAMESPACE + LIVE + stray)
    before = cluster(state.objects).cluster
    after = cluster(layer(state, loaded(APP)).loaded.objects).cluster
    found = match(before, after)
    assert "default/frontend-stray" not in {**found.alias, **found.counterpart}
    assert found.alias["default/frontend-d9b85874d-p0"] == "default/frontend"


def test_the_longer_workload_name_owns_a_pod_both_select() -> None:
    """`web` selecting every pod of the namespace, and `web-api`: web-api-... is web-api's."""
    broad = deployment("web").replace(
        "selector: {matchLabels: {app: web}}",
        "selector: {matchExpressions: [{key: app, operator: Exists}]}",
    )
    state = loaded(NAMESPACE + running("web") + running("web-api"))
    before = cluster(state.objects).cluster
    after = cluster(layer(state, loaded(deployment("web-api") + broad)).loaded.objects).cluster
    found = match(before, after)
    assert found.alias == {
        "default/web-api-d9b85874d-p0": "default/web-api",
        "default/web-d9b85874d-p0": "default/web",
    }


def test_a_template_changed_by_the_files_rolls_the_workload_out_as_one_endpoint() -> None:
    """Every running pod differs alike from the files' template: a rollout, not a relabel."""
    live = running("frontend") + running("backend", 3) + DENY + ALLOW
    d = applied(live, deployment("frontend") + deployment("backend", 3, "role: db") + DENY)
    assert d.notes == (
        "the 3 running pod(s) of deployment default/backend differ from its template in the "
        "files (label role=db missing): compared as the files would re-create them",
    )
    assert rows(d, "newly_denied") == {("default/frontend", "default/backend")}
    assert rows(d, "newly_allowed") == set()

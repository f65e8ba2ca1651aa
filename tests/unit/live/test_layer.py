"""Files layered on a cluster's objects: replaced objects, and pods of redeclared workloads."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.live.layer import layer
from podwall.manifests.reader import Loaded
from podwall.model.rawobject import RawObject


def obj(
    kind: str, name: str, owner: tuple[str, str] | None = None, ns: str = "default"
) -> RawObject:
    meta: dict[str, Any] = (
        {"name": name} if kind == "Namespace" else {"name": name, "namespace": ns}
    )
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": "u",
                "controller": True,
            }
        ]
    return RawObject(body={"kind": kind, "metadata": meta})


CLUSTER = [
    obj("Namespace", "default"),
    obj("Deployment", "web"),
    obj("ReplicaSet", "web-1", ("Deployment", "web")),
    obj("Pod", "web-1-a", ("ReplicaSet", "web-1")),
    obj("Pod", "db-0", ("StatefulSet", "db")),
    obj("StatefulSet", "db"),
    obj("CronJob", "report"),
    obj("Job", "report-1", ("CronJob", "report")),
    obj("Pod", "report-1-x", ("Job", "report-1")),
    obj("NetworkPolicy", "deny"),
]

CASES = [
    ("nothing given: the cluster as it is", [], [o.describe() for o in CLUSTER], []),
    ("a policy of the same name replaces the cluster's", [obj("NetworkPolicy", "deny")],
     [o.describe() for o in CLUSTER if o.kind != "NetworkPolicy"] + ["NetworkPolicy default/deny"],
     ["NetworkPolicy default/deny"]),
    ("a redeclared Deployment drops its ReplicaSets and their pods", [obj("Deployment", "web")],
     ["Namespace default", "Pod default/db-0", "StatefulSet default/db", "CronJob default/report",
      "Job default/report-1", "Pod default/report-1-x", "NetworkPolicy default/deny",
      "Deployment default/web"],
     ["Deployment default/web"]),
    ("a redeclared CronJob drops its Jobs' pods", [obj("CronJob", "report")],
     ["Namespace default", "Deployment default/web", "ReplicaSet default/web-1",
      "Pod default/web-1-a", "Pod default/db-0", "StatefulSet default/db",
      "NetworkPolicy default/deny", "CronJob default/report"],
     ["CronJob default/report"]),
    ("the same name in another namespace is another object", [obj("Deployment", "web", ns="other")],
     [o.describe() for o in CLUSTER] + ["Deployment other/web"], []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("files", "kept", "replaced"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_layer(files: list[RawObject], kept: list[str], replaced: list[str]) -> None:
    result = layer(Loaded(objects=list(CLUSTER)), Loaded(objects=files))
    assert [o.describe() for o in result.loaded.objects] == kept
    assert result.replaced == replaced

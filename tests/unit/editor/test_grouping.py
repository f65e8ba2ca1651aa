"""Groups for the matrix: by namespace and workload, and the filters that pick them."""

from __future__ import annotations

import pytest

from podwall.editor.grouping import Filter, group_pods, workload_of
from podwall.model.cluster import Pod
from podwall.model.labels import Labels


def pod(name: str, ns: str = "shop", workload: tuple[str, str] | None = None, **labels: str) -> Pod:
    return Pod(namespace=ns, name=name, labels=Labels(labels), workload=workload)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        pytest.param(pod("web", workload=("Deployment", "web")), "deployment web", id="owner"),
        pytest.param(pod("web-1", app="web"), "app web", id="app-label"),
        pytest.param(
            pod("web-1", app="x", **{"app.kubernetes.io/name": "web"}), "app web", id="k8s-name"
        ),
        pytest.param(pod("lonely"), "pod lonely", id="bare"),
    ],
)
def test_workload_of(p: Pod, expected: str) -> None:
    assert workload_of(p) == expected


PODS = (
    pod("db-0", app="db", tier="data"),
    pod("db-1", app="db", tier="data"),
    pod("web-0", app="web"),
    pod("web-0", ns="blog", app="web"),
)


def test_groups_by_workload_and_by_namespace() -> None:
    by_workload = group_pods(PODS, "workload")
    assert [(g.label, g.pods) for g in by_workload] == [
        ("blog/app web", (3,)),
        ("shop/app db", (0, 1)),
        ("shop/app web", (2,)),
    ]
    assert [g.index for g in by_workload] == [0, 1, 2]
    assert [(g.label, g.pods) for g in group_pods(PODS, "namespace")] == [
        ("blog", (3,)),
        ("shop", (0, 1, 2)),
    ]


@pytest.mark.parametrize(
    ("keep", "labels"),
    [
        pytest.param(Filter(), ["blog/app web", "shop/app db", "shop/app web"], id="all"),
        pytest.param(Filter(namespace="shop"), ["shop/app db", "shop/app web"], id="namespace"),
        pytest.param(Filter(namespace="sho"), [], id="namespace-is-exact"),
        pytest.param(Filter(workload="WEB"), ["blog/app web", "shop/app web"], id="workload"),
        pytest.param(Filter(text="tier=data"), ["shop/app db"], id="text-label"),
        pytest.param(Filter(text="shop/db-1"), ["shop/app db"], id="text-pod"),
        pytest.param(Filter(namespace="blog", text="db"), [], id="both"),
    ],
)
def test_filters(keep: Filter, labels: list[str]) -> None:
    assert [g.label for g in group_pods(PODS, "workload") if keep.keeps(g)] == labels

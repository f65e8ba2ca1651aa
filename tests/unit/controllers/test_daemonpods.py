"""DaemonSet pods: which nodes should run one, the pod for a node, template generations."""

from __future__ import annotations

from typing import Any

import pytest

from podwall.controllers import daemonpods as dp
from podwall.controllers.meta import meta

from .daemons import daemonset, node, prepared, taint

SHOULD_RUN: list[tuple[str, dict[str, Any], dict[str, Any], tuple[bool, bool]]] = [
    ("a plain node", {}, node("n1"), (True, True)),
    ("nodeSelector met", {"nodeSelector": {"role": "infra"}},
     node("n1", labels={"role": "infra"}), (True, True)),
    ("nodeSelector missed", {"nodeSelector": {"role": "infra"}}, node("n1"), (False, False)),
    ("affinity on a label",
     {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
         "nodeSelectorTerms": [{"matchExpressions": [
             {"key": "role", "operator": "NotIn", "values": ["edge"]}]}]}}}},
     node("n1", labels={"role": "edge"}), (False, False)),
    ("affinity on the node's name",
     {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
         "nodeSelectorTerms": [{"matchFields": [
             {"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}}},
     node("n1"), (True, True)),
    ("the template names another node", {"nodeName": "n2"}, node("n1"), (False, False)),
    ("NoSchedule not tolerated: no new pod, a running one stays", {},
     node("n1", taints=[taint("dedicated", "NoSchedule")]), (False, True)),
    ("NoExecute not tolerated: none at all", {},
     node("n1", taints=[taint("dedicated", "NoExecute")]), (False, False)),
    ("PreferNoSchedule is no obstacle", {},
     node("n1", taints=[taint("dedicated", "PreferNoSchedule")]), (True, True)),
    ("the template tolerates the taint",
     {"tolerations": [{"key": "dedicated", "operator": "Exists"}]},
     node("n1", taints=[taint("dedicated", "NoExecute")]), (True, True)),
    ("not ready: tolerated by every daemon pod", {},
     node("n1", taints=[taint("node.kubernetes.io/not-ready", "NoExecute")]), (True, True)),
    ("unreachable: tolerated", {},
     node("n1", taints=[taint("node.kubernetes.io/unreachable", "NoExecute")]), (True, True)),
    ("cordoned: tolerated", {},
     node("n1", unschedulable=True,
          taints=[taint("node.kubernetes.io/unschedulable", "NoSchedule")]), (True, True)),
    ("memory pressure: tolerated", {},
     node("n1", taints=[taint("node.kubernetes.io/memory-pressure", "NoSchedule")]),
     (True, True)),
    ("no network: not tolerated by a pod network daemon", {},
     node("n1", taints=[taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
     (False, True)),
    ("no network: tolerated by a hostNetwork daemon", {"hostNetwork": True},
     node("n1", taints=[taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
     (True, True)),
]  # fmt: skip


@pytest.mark.parametrize(("pod_spec", "the_node", "expected"), [c[1:] for c in SHOULD_RUN],
                         ids=[c[0] for c in SHOULD_RUN])  # fmt: skip
def test_node_should_run_a_daemon_pod(
    pod_spec: dict[str, Any], the_node: dict[str, Any], expected: tuple[bool, bool]
) -> None:
    ds = daemonset()
    ds["spec"]["template"]["spec"].update(pod_spec)
    assert dp.node_should_run(ds, the_node) == expected


# -- the pods it makes ---------------------------------------------------------------------------


def test_a_daemon_pod_is_bound_to_its_node_labelled_and_owned() -> None:
    ds = prepared()
    pod = dp.new_pod(ds, "n2", "hash1", "agent-x7k2p")
    assert pod["metadata"]["name"] == "agent-x7k2p"
    assert pod["metadata"]["generateName"] == "agent-"
    assert pod["metadata"]["labels"] == {
        "app": "agent",
        "controller-revision-hash": "hash1",
        "pod-template-generation": "1",
    }
    (owner,) = pod["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("DaemonSet", "ds-uid", True)
    assert pod["spec"]["nodeName"] == "n2"
    assert pod["spec"]["affinity"] == {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}
                ]
            }
        }
    }
    assert {t["key"] for t in pod["spec"]["tolerations"]} >= {
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unschedulable",
    }
    assert dp.target_node({"spec": {**pod["spec"], "nodeName": ""}}) == "n2"


NAME_TERM = {
    "nodeSelectorTerms": [
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    ]
}
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
PREFERRED = "preferredDuringSchedulingIgnoredDuringExecution"
AFFINITIES: list[tuple[str, dict[str, Any] | None, dict[str, Any]]] = [
    ("none: the name term alone", None, {"nodeAffinity": {REQUIRED: NAME_TERM}}),
    ("pod affinity and preferred terms are kept",
     {"podAntiAffinity": {"x": 1}, "nodeAffinity": {PREFERRED: [{"weight": 1}]}},
     {"podAntiAffinity": {"x": 1},
      "nodeAffinity": {PREFERRED: [{"weight": 1}], REQUIRED: NAME_TERM}}),
    ("required label terms are replaced",
     {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": [
         {"matchExpressions": [{"key": "a", "operator": "Exists"}]}]}}},
     {"nodeAffinity": {REQUIRED: NAME_TERM}}),
]  # fmt: skip


@pytest.mark.parametrize(("affinity", "expected"), [c[1:] for c in AFFINITIES],
                         ids=[c[0] for c in AFFINITIES])  # fmt: skip
def test_the_node_name_affinity_replaces_the_required_terms(
    affinity: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    assert dp.node_name_affinity(affinity, "n1") == expected


def _with(template_change: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    new = daemonset(**spec)
    if template_change:
        new["spec"]["template"]["spec"]["containers"][0].update(template_change)
    return new


GENERATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("the template unchanged", _with(), "4"),
    ("the image changed", _with({"image": "agent:2"}), "5"),
    ("only minReadySeconds changed", _with(minReadySeconds=5), "4"),
    ("only a default spelled out", _with({"imagePullPolicy": "IfNotPresent"}), "4"),
]


@pytest.mark.parametrize(("new", "expected"), [c[1:] for c in GENERATIONS],
                         ids=[c[0] for c in GENERATIONS])  # fmt: skip
def test_the_template_generation_moves_with_the_template_alone(
    new: dict[str, Any], expected: str
) -> None:
    stored = dp.prepare_daemonset(daemonset(), None)
    assert meta(stored)["annotations"][dp.TEMPLATE_GENERATION] == "1"
    meta(stored)["annotations"][dp.TEMPLATE_GENERATION] = "4"
    out = dp.prepare_daemonset(new, stored)
    assert meta(out)["annotations"][dp.TEMPLATE_GENERATION] == expected


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("3", "3"), ("0", "1"), ("x", "1")])
def test_a_new_daemonset_keeps_a_template_generation_it_is_given(
    given: str | None, expected: str
) -> None:
    new = daemonset()
    if given is not None:
        new["metadata"]["annotations"] = {dp.TEMPLATE_GENERATION: given}
    out = dp.prepare_daemonset(new, None)
    assert out["metadata"]["annotations"][dp.TEMPLATE_GENERATION] == expected


UPDATED: list[tuple[str, dict[str, str], bool]] = [
    ("the current hash", {"controller-revision-hash": "h2", "pod-template-generation": "1"}, True),
    ("the current generation", {"controller-revision-hash": "h1", "pod-template-generation": "2"},
     True),
    ("neither", {"controller-revision-hash": "h1", "pod-template-generation": "1"}, False),
    ("no labels", {}, False),
]  # fmt: skip


@pytest.mark.parametrize(("labels", "expected"), [c[1:] for c in UPDATED],
                         ids=[c[0] for c in UPDATED])  # fmt: skip
def test_a_pod_is_updated_by_hash_or_template_generation(
    labels: dict[str, str], expected: bool
) -> None:
    assert dp.is_pod_updated({"metadata": {"labels": labels}}, "h2", 2) is expected

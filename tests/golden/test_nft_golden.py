"""Compiled rulesets as nft reads them, held in golden files (`make golden` rewrites them)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from podwall.manifests import load_paths
from podwall.model.addressing import with_addresses
from podwall.model.convert import cluster
from podwall.model.rawobject import RawObject
from podwall.nft.compile import compile_ruleset
from podwall.nft.flowlog import FlowLog
from podwall.nft.ruleset import full_transaction
from tests.conformance.scenario import load_all
from tests.golden.test_golden import ANP, STAGES, TIER_STAGES, TIERS, TUTORIAL

HERE = Path(__file__).parent
UPSTREAM = (
    "allow-egress-on-one-named-port",
    "except-clause-egress-cidr-block",
    "multiple-podselectors-and-namespaceselectors",
)


@pytest.mark.parametrize("stage", list(STAGES))
def test_tutorial_rulesets(stage: str, golden: Callable[[Path, str], None]) -> None:
    snapshot = cluster(load_paths([str(TUTORIAL / f) for f in STAGES[stage]]).objects).cluster
    text = full_transaction(compile_ruleset(with_addresses(snapshot))).render()
    golden(HERE / "nft" / f"tutorial-{stage}.nft", text)


@pytest.mark.parametrize("slug", UPSTREAM)
def test_upstream_rulesets(slug: str, golden: Callable[[Path, str], None]) -> None:
    [scenario] = [s for s in load_all() if s.slug == slug]
    snapshot = cluster(RawObject(body=m) for m in scenario.steps[-1].manifests).cluster
    text = full_transaction(compile_ruleset(snapshot)).render()
    golden(HERE / "nft" / f"upstream-{slug}.nft", text)


@pytest.mark.parametrize("stage", list(STAGES))
def test_tutorial_rulesets_with_flow_logging(
    stage: str, golden: Callable[[Path, str], None]
) -> None:
    """Every verdict rule as a logging pair, the lost counters' chains, Services reported."""
    snapshot = cluster(load_paths([str(TUTORIAL / f) for f in STAGES[stage]]).objects).cluster
    rs = compile_ruleset(with_addresses(snapshot), flow_log=FlowLog())
    golden(HERE / "nft" / f"tutorial-{stage}-flows.nft", full_transaction(rs).render())


def test_tutorial_deny_in_audit_mode(golden: Callable[[Path, str], None]) -> None:
    """The deny policy of the tutorial in audit mode: its class chain ends in a reported accept."""
    objects = load_paths([str(TUTORIAL / f) for f in STAGES["deny"]]).objects
    audited = [
        RawObject(body=_audited(o.body), source=o.source) if o.kind == "NetworkPolicy" else o
        for o in objects
    ]
    rs = compile_ruleset(with_addresses(cluster(audited).cluster), flow_log=FlowLog())
    golden(HERE / "nft" / "tutorial-deny-audit-flows.nft", full_transaction(rs).render())


def _audited(body: dict[str, Any]) -> dict[str, Any]:
    meta = {**body["metadata"], "annotations": {"podwall.dev/enforcement": "audit"}}
    return {**body, "metadata": meta}


@pytest.mark.parametrize("stage", list(TIER_STAGES))
def test_tier_rulesets(stage: str, golden: Callable[[Path, str], None]) -> None:
    """The second walkthrough: the lab with the Admin deny-not-frontend and the Baseline
    default deny, as tier chains around the class chains."""
    files = [str(TUTORIAL / "simple-app.yaml"), *(str(TIERS / f) for f in TIER_STAGES[stage])]
    snapshot = cluster(load_paths(files).objects).cluster
    text = full_transaction(compile_ruleset(with_addresses(snapshot))).render()
    golden(HERE / "nft" / f"tiers-{stage}.nft", text)


def test_tier_ruleset_with_flow_logging(golden: Callable[[Path, str], None]) -> None:
    """Admin and Baseline Deny rules as logging pairs whose tags name the ClusterNetworkPolicy
    rule; the lab's NetworkPolicy tags as before."""
    files = [
        str(TUTORIAL / "simple-app.yaml"),
        *(str(TIERS / f) for f in TIER_STAGES["admin-baseline-lab"]),
    ]
    snapshot = cluster(load_paths(files).objects).cluster
    rs = compile_ruleset(with_addresses(snapshot), flow_log=FlowLog())
    golden(HERE / "nft" / "tiers-admin-baseline-lab-flows.nft", full_transaction(rs).render())


NODE_PORT_APP = HERE / "manifests" / "nodeport.yaml"
ALLOW_CLIENT = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-client, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {app: client}}}]}]
"""


@pytest.mark.parametrize("node", ["node-1", "node-2"])
def test_node_port_rulesets(node: str, golden: Callable[[Path, str], None]) -> None:
    """A NodePort Service: the node ports base chains and map beside the ClusterIP's, every
    node's address in `nodeport-ips`; node-2 isolates the endpoint, node-1 only translates."""
    docs = [*yaml.safe_load_all(NODE_PORT_APP.read_text()), yaml.safe_load(ALLOW_CLIENT)]
    snapshot = cluster(RawObject(body=d) for d in docs if d).cluster
    text = full_transaction(compile_ruleset(snapshot, node)).render()
    golden(HERE / "nft" / f"nodeport-{node}.nft", text)


def test_admin_network_policies_compile_to_the_same_tier_chains(
    golden: Callable[[Path, str], None],
) -> None:
    """The v1alpha1 kinds (examples/anp) compile to the chains the ClusterNetworkPolicy tiers
    compile to, under their own names (`cnp-in_anp_...`, `cnp-in_banp_default`)."""
    files = [
        str(TUTORIAL / "simple-app.yaml"),
        str(ANP / "admin-deny-not-frontend.yaml"),
        str(ANP / "baseline-default-deny.yaml"),
    ]
    snapshot = cluster(load_paths(files).objects).cluster
    text = full_transaction(compile_ruleset(with_addresses(snapshot))).render()
    golden(HERE / "nft" / "anp-admin-baseline.nft", text)

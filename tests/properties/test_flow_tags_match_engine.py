"""Flow logging, traced: the tag each node logs names the rule `decide()` says decided, on
every pair, port and protocol; and logging never changes a verdict. Policies are put in audit
mode at random, so the audit chain ends are held to the engine too."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podwall.engine import Endpoint, Traffic, decide
from podwall.model.cluster import Cluster
from podwall.model.ports import ALL_PROTOCOLS
from podwall.nft import FakeNFT, Packet, trace
from podwall.nft.compile import compile_ruleset
from podwall.nft.flowlog import FlowLog
from podwall.nft.ruleset import full_transaction
from podwall.nft.statements import Log
from podwall.nft.trace import Trace, Verdict
from tests.flowchecks import expected_sides, expected_tag
from tests.paths import hook_of
from tests.strategies import PROBE_PORTS, objects, to_cluster
from tests.strategies_cnp import with_cluster_policies

AUDIT = {"podwall.dev/enforcement": "audit"}


def _loaded(c: Cluster, flow_log: FlowLog | None) -> FakeNFT:
    fake = FakeNFT()
    fake.run(full_transaction(compile_ruleset(c, flow_log=flow_log)))
    return fake


def _logged(traced: Trace) -> list[str]:
    return [
        s.prefix
        for step in traced.steps
        if step.rule is not None
        for s in step.rule.statements
        if isinstance(s, Log)
    ]


def _audited(objs: list[dict[str, Any]], marks: list[bool]) -> list[dict[str, Any]]:
    """The policies whose mark is True put in audit mode."""
    flags = iter(marks)
    out = []
    for obj in objs:
        if obj["kind"] == "NetworkPolicy" and next(flags, False):
            obj = {**obj, "metadata": {**obj["metadata"], "annotations": AUDIT}}
        out.append(obj)
    return out


def _mismatches(c: Cluster) -> list[str]:
    logging, plain = _loaded(c, FlowLog()), _loaded(c, None)
    out = []
    for src, dst in itertools.permutations(c.pods, 2):
        for port, proto in itertools.product(PROBE_PORTS, ALL_PROTOCOLS):
            t = Traffic(
                src=Endpoint.of_pod(src), dst=Endpoint.of_pod(dst), port=port, protocol=proto
            )
            packet = Packet(
                saddr=str(src.ips[0]),
                daddr=str(dst.ips[0]),
                l4proto=proto.value.lower(),
                dport=port,
            )
            traced = trace(logging, packet, hook_of(src, dst))
            decision = decide(c, t)
            wanted = [expected_tag(decision, d) for d in expected_sides(decision)]
            prefixes = [tag.prefix for tag in wanted if tag is not None]
            if _logged(traced) != prefixes:
                out.append(f"{t.render()}: logged {_logged(traced)}, the engine decides {wanted}")
            if traced.verdict != trace(plain, packet, hook_of(src, dst)).verdict:
                out.append(f"{t.render()}: logging changed the verdict")
            if (traced.verdict is Verdict.ACCEPT) != decision.allowed:
                out.append(f"{t.render()}: traced {traced.verdict}, engine {decision.allowed}")
    return out


@settings(max_examples=150)
@given(objects(), st.lists(st.booleans(), max_size=4))
def test_logged_tags_name_the_deciding_rule(objs: list[dict[str, Any]], marks: list[bool]) -> None:
    c = to_cluster(_audited(objs, marks))
    assert _mismatches(c) == []


@settings(max_examples=150)
@given(with_cluster_policies(), st.lists(st.booleans(), max_size=4))
def test_logged_tags_name_the_deciding_rule_with_tiers(
    objs: list[dict[str, Any]], marks: list[bool]
) -> None:
    """An Admin or Baseline Accept or Deny is reported by its ClusterNetworkPolicy rule; a
    Pass reports nothing, what decides next does; audited NetworkPolicies after Baseline."""
    c = to_cluster(_audited(objs, marks))
    assert _mismatches(c) == []

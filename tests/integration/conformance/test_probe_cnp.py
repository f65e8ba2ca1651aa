"""The third backend for ClusterNetworkPolicy: every PokeServer of the translated upstream
conformance suites (tests/conformance/cnp, and the TCP cases of tests/conformance/anp for the
v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy) with real packets between network
namespaces, through `podwall probe`'s session. One sandbox for the module, as upstream runs
every test on one set of pods (`sharedsession`): each case resets it to its first step and then
takes each step by an incremental nft update. On a kernel without SCTP the SCTP cases are
reported as skipped, with the reason; their TCP and UDP neighbours still run.

A host-network pod (the centaurs of the NodePeers tests) serves in its node's network
namespace at the node's address, the suite's Nodes standing for the sandbox's nodes
(`placement.stand_in`), so `nodes` peers and host-network servers are probed for real, on the
same node (the input hook) and across nodes. Upstream's rows never have one as the client.

The nodes report their verdicts as they decide: every flow a node reported names the verdict
and the tier, policy, rule and peer that `decide()` names for that connection, and every side
a policy decides was reported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from podwall.model.cluster import Cluster
from podwall.model.convert import cluster as convert_cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.nft.flowlog import FlowLog
from podwall.runtime.connect import Attempt, sctp_supported, try_all
from podwall.runtime.probe import Probe, Serve
from tests.conformance.anp import suite as anp_suite
from tests.conformance.cnp.suite import ConformanceTest, Row, Step, load_all
from tests.flowchecks import flow_completeness, flow_mismatch
from tests.integration.conformance.sharedsession import SharedSession
from tests.integration.conformance.slowanswers import confirmed

TESTS = load_all()
# The v1alpha1 suite becomes the same ClusterNetworkPolicy model before anything is compiled
# (its engine-level run and a rewrite property check that conversion), so its real packets
# exercise the same nft code as the suite above: its TCP half runs here, to bound CI's time.
V1ALPHA1_TESTS = anp_suite.load()
V1ALPHA1_PROTOCOLS = frozenset({Protocol.TCP})
NO_SCTP = "SCTP sockets are not available on this kernel"
# Rate limits no probe reaches, so every flow must be reported.
UNLIMITED = FlowLog(rate=1_000_000, burst=1_000_000)


def _cluster(step: Step) -> Cluster:
    return convert_cluster(RawObject(body=m) for m in step.manifests).cluster


def _protocols(test: ConformanceTest) -> list[Protocol]:
    wanted = {Protocol(r.protocol) for step in test.steps for r in step.rows}
    return sorted(wanted, key=list(Protocol).index)


def _plain_cases() -> Iterator[tuple[ConformanceTest, Protocol]]:
    for test in TESTS:
        for protocol in _protocols(test):
            yield test, protocol
    for test in V1ALPHA1_TESTS:
        for protocol in _protocols(test):
            if protocol in V1ALPHA1_PROTOCOLS:
                yield test, protocol


def _cases() -> Iterator[Any]:
    for test, protocol in _plain_cases():
        yield pytest.param(test, protocol, id=f"{test.name}[{protocol.value}]")


def _serve_all() -> Serve:
    """Every port and protocol a case probes: the shared session's pods serve them all."""
    wanted = {
        (r.port, protocol) for test, protocol in _plain_cases() for r in _rows(test, protocol)
    }
    return sorted(wanted, key=lambda t: (list(Protocol).index(t[1]), t[0]))


def _rows(test: ConformanceTest, protocol: Protocol) -> list[Row]:
    return [r for step in test.steps for r in step.rows if r.protocol == protocol.value]


@pytest.fixture(scope="module")
def shared() -> Iterator[SharedSession]:
    # Pods round-robin over 3 nodes: same-node and cross-node pairs alike.
    base = TESTS[0].steps[0].manifests
    holder = SharedSession(base, serve=_serve_all(), nodes=3, flow_log=UNLIMITED)
    try:
        yield holder
    finally:
        holder.discard()


@pytest.mark.netns
@pytest.mark.slow
@pytest.mark.parametrize(("test", "protocol"), _cases())
def test_real_packets_match_upstream(
    test: ConformanceTest, protocol: Protocol, shared: SharedSession
) -> None:
    if protocol is Protocol.SCTP and not sctp_supported():
        pytest.skip(NO_SCTP)
    first = _cluster(test.steps[0])
    rows = _rows(test, protocol)
    assert not any(p.host_network for p in first.pods if p.name in {r.client for r in rows})
    try:
        failures = _run(test, protocol, shared)
    except BaseException:
        shared.discard()  # the next case starts from a fresh sandbox
        raise
    assert not failures, f"{test.name} over {protocol.value}\n" + "\n".join(failures)


def _run(test: ConformanceTest, protocol: Protocol, shared: SharedSession) -> list[str]:
    """Each step of `test` on the shared session (the first resets it from the previous case),
    its rows over `protocol` probed: what disagreed with upstream or with the engine."""
    failures: list[str] = []
    for step in test.steps:
        s = shared.update(step.manifests)
        by_name = {p.name: p for p in s.cluster.pods}
        mine = [r for r in step.rows if r.protocol == protocol.value]
        attempts = [
            Attempt(
                netns=s.netns_of[by_name[r.client].key],
                address=str(by_name[r.server].ips[0]),
                port=r.port,
                protocol=protocol,
            )
            for r in mine
        ]
        probed = []
        # One short try each: a denial costs 1 s, and a row expected to answer that did not is
        # tried again with a bound a loaded machine keeps (`confirmed`), so a slow answer is
        # not a denial; a leak answers within the first second as an allowed row does.
        seen_all = try_all(attempts, timeout=1.0, tries=1)
        seen_all = confirmed(attempts, [r.allowed for r in mine], seen_all)
        for row, seen in zip(mine, seen_all, strict=True):
            if seen != row.allowed:
                failures.append(f"{step.label}: expected {row.render()}, observed {seen}")
            src, dst = by_name[row.client], by_name[row.server]
            probed.append(
                Probe(
                    src=src.key,
                    dst=dst.key,
                    port=row.port,
                    protocol=protocol,
                    predicted=row.allowed,
                    observed=seen,
                )
            )
        flows = shared.new_flows_until(
            lambda seen, c=s.cluster, p=probed: not flow_completeness(c, p, seen)
        )
        mismatches = [m for f in flows if (m := flow_mismatch(s.cluster, f)) is not None]
        mismatches += flow_completeness(s.cluster, probed, flows)
        failures += [f"{step.label} flows: {m}" for m in sorted(set(mismatches))]
    return failures

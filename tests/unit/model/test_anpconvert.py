"""AdminNetworkPolicy and BaselineAdminNetworkPolicy read into the ClusterNetworkPolicy model:
the same meaning as the ClusterNetworkPolicy written for it, and their kind kept."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from podwall.model.anpconvert import admin_network_policy, baseline_admin_network_policy
from podwall.model.clusterpolicy import (
    ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_NETWORK_POLICY,
    BASELINE_ADMIN_PRIORITY,
    KIND,
    Action,
    ClusterPort,
    Tier,
)
from podwall.model.cnpconvert import cluster_network_policy
from podwall.model.convert import cluster
from podwall.model.ports import Protocol
from podwall.model.rawobject import RawObject
from podwall.model.record import replace

ANP = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 7
  subject:
    pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: db}}}
  ingress:
  - name: allow-web
    action: Allow
    from:
    - namespaces: {matchLabels: {team: web}}
    - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: probe}}}
    ports:
    - portNumber: {protocol: TCP, port: 5432}
    - portRange: {protocol: UDP, start: 5000, end: 5010}
    - namedPort: metrics
  - {name: pass-monitoring, action: Pass, from: [{namespaces: {}}]}
  egress:
  - action: Deny
    to:
    - networks: [10.0.0.0/8]
    - nodes: {matchLabels: {kubernetes.io/os: linux}}
"""
# The same policy, written as a ClusterNetworkPolicy.
CNP = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 7
  subject:
    pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {matchLabels: {app: db}}}
  ingress:
  - name: allow-web
    action: Accept
    from:
    - namespaces: {matchLabels: {team: web}}
    - pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: probe}}}
    protocols:
    - tcp: {destinationPort: {number: 5432}}
    - udp: {destinationPort: {range: {start: 5000, end: 5010}}}
    - destinationNamedPort: metrics
  - {name: pass-monitoring, action: Pass, from: [{namespaces: {}}]}
  egress:
  - action: Deny
    to:
    - networks: [10.0.0.0/8]
    - nodes: {matchLabels: {kubernetes.io/os: linux}}
"""
BANP = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  egress:
  - {name: allow-dns, action: Allow, to: [{namespaces: {}}], ports: [{portNumber: {port: 53, protocol: UDP}}]}
  - {name: deny-all, action: Deny, to: [{networks: [0.0.0.0/0]}]}
"""  # noqa: E501


def _raw(text: str) -> RawObject:
    body: dict[str, Any] = yaml.safe_load(text)
    return RawObject(body=body)


def test_an_admin_network_policy_means_what_the_same_cluster_network_policy_means() -> None:
    anp = admin_network_policy(_raw(ANP))
    cnp = cluster_network_policy(_raw(CNP))
    assert anp.kind == ADMIN_NETWORK_POLICY
    assert replace(anp, kind=KIND) == cnp


def test_the_baseline_admin_network_policy_is_the_last_of_the_baseline_tier() -> None:
    banp = baseline_admin_network_policy(_raw(BANP))
    assert (banp.kind, banp.tier, banp.priority) == (
        BASELINE_ADMIN_NETWORK_POLICY,
        Tier.BASELINE,
        BASELINE_ADMIN_PRIORITY,
    )
    assert [r.action for r in banp.egress] == [Action.ACCEPT, Action.DENY]
    assert banp.egress[0].ports == (ClusterPort(protocol=Protocol.UDP, start=53),)


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        pytest.param({"portNumber": {"port": 80}}, ClusterPort(protocol=Protocol.TCP, start=80),
                     id="number-defaults-to-tcp"),
        pytest.param({"portNumber": {"port": 9003, "protocol": "SCTP"}},
                     ClusterPort(protocol=Protocol.SCTP, start=9003), id="sctp-number"),
        pytest.param({"portRange": {"start": 1, "end": 9}},
                     ClusterPort(protocol=Protocol.TCP, start=1, end=9), id="range-is-tcp"),
        pytest.param({"namedPort": "web"}, ClusterPort(name="web"), id="named"),
    ],
)  # fmt: skip
def test_ports(port: dict[str, Any], expected: ClusterPort) -> None:
    body: dict[str, Any] = yaml.safe_load(ANP)
    body["spec"]["ingress"][0]["ports"] = [port]
    assert admin_network_policy(RawObject(body=body)).ingress[0].ports == (expected,)


def test_a_snapshot_holds_every_kind_side_by_side() -> None:
    snapshot = cluster([_raw(ANP), _raw(CNP), _raw(BANP)]).cluster
    keys = sorted(p.key for p in snapshot.cluster_policies)
    assert keys == ["admin/guard", "anp/guard", "banp/default"]

"""The editor's workspace: ClusterNetworkPolicies are converted only when valid."""

from __future__ import annotations

from podwall.editor.workspace import Workspace

VALID = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
"""


def test_a_valid_cluster_network_policy_joins_the_snapshot() -> None:
    snapshot = Workspace().add("guard.yaml", VALID)
    assert [p.key for p in snapshot.cluster.cluster_policies] == ["admin/guard"]
    assert snapshot.errors == []


def test_an_invalid_one_is_left_out_with_its_error() -> None:
    snapshot = Workspace().add("guard.yaml", VALID.replace("tier: Admin", "tier: Top"))
    assert snapshot.cluster.cluster_policies == ()
    (error,) = [e for e in snapshot.errors if "spec.tier" in e]
    assert error.startswith("guard.yaml")
    assert 'spec.tier: Unsupported value: "Top"' in error
    assert error.endswith("(left out)")

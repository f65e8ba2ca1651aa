"""`podwall probe` arguments refused before any sandbox is built (no root needed)."""

from __future__ import annotations

import pytest

from podwall.cli.probe import EXIT_BAD_INPUT
from tests.clirunner import invoke


@pytest.mark.parametrize("nodes", ["0", "254", "two"])
def test_a_node_count_out_of_range_is_bad_input(nodes: str) -> None:
    result = invoke(["probe", "-f", "-", "--nodes", nodes], input="")
    assert result.exit_code == EXIT_BAD_INPUT
    assert "--nodes" in result.output


def test_an_invalid_cluster_network_policy_is_bad_input_naming_its_field() -> None:
    """ClusterNetworkPolicies are enforced (tests/integration/conformance/test_probe_cnp.py);
    one the API would refuse is refused before any sandbox is built."""
    manifest = """
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: guard}
spec:
  tier: Admin
  priority: 1001
  subject: {namespaces: {}}
  ingress: [{name: r, action: Deny, from: [{namespaces: {}}]}]
"""
    result = invoke(["probe", "-f", "-", "--port", "80"], input=manifest)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "spec.priority" in result.output

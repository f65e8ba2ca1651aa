"""The real kubectl and the v1alpha1 kinds, AdminNetworkPolicy and BaselineAdminNetworkPolicy,
served as a cluster with network-policy-api v0.1.7's CRDs serves them: apply, get with their
printer columns and short names, explain, the schema's defaults, validation, patch, delete."""

from __future__ import annotations

import pytest

from tests.e2e.kubectl.test_apiserver import Cluster, cluster, table

pytestmark = pytest.mark.kubectl
__all__ = ["cluster"]

ANP_QUALIFIED = "adminnetworkpolicy.policy.networking.k8s.io"
BANP_QUALIFIED = "baselineadminnetworkpolicy.policy.networking.k8s.io"
GUARD = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata:
  name: deny-metadata
spec:
  priority: 10
  subject:
    namespaces: {}
  egress:
  - name: no-metadata
    action: Deny
    to:
    - networks: ["169.254.169.254/32"]
  - name: dns
    action: Allow
    to:
    - namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
    ports:
    - portNumber: {port: 53, protocol: UDP}
    - portNumber: {port: 53}
"""
BASELINE = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata:
  name: default
spec:
  subject:
    namespaces: {}
  ingress:
  - action: Deny
    from:
    - namespaces: {}
"""


def test_apply_get_patch_and_delete(cluster: Cluster) -> None:
    path = cluster.write("anp.yaml", GUARD + "---\n" + BASELINE)
    assert cluster.ok("apply", "-f", str(path)) == (
        f"{ANP_QUALIFIED}/deny-metadata created\n{BANP_QUALIFIED}/default created\n"
    )
    # Applied again: the stored policy has its port's protocol defaulted, which the file leaves
    # out, so kubectl sends the rules again (a merge patch), as to any cluster with the CRD.
    assert cluster.ok("apply", "-f", str(path)) == (
        f"{ANP_QUALIFIED}/deny-metadata configured\n{BANP_QUALIFIED}/default unchanged\n"
    )
    rows = table(cluster.ok("get", "adminnetworkpolicies"))
    assert [r[:2] for r in rows] == [["NAME", "PRIORITY"], ["deny-metadata", "10"]]
    assert rows[0][2] == "AGE"
    rows = table(cluster.ok("get", "banp"))
    assert rows[0] == ["NAME", "AGE"]
    assert [r[0] for r in rows[1:]] == ["default"]
    # The CRD's default: a port's protocol is TCP when left out.
    protocol = "jsonpath={.spec.egress[1].ports[1].portNumber.protocol}"
    assert cluster.ok("get", "anp", "deny-metadata", "-o", protocol) == "TCP"
    patched = cluster.ok(
        "patch", "anp", "deny-metadata", "--type=merge", "-p", '{"spec":{"priority":20}}'
    )
    assert patched == f"{ANP_QUALIFIED}/deny-metadata patched\n"
    assert cluster.ok("get", "anp", "deny-metadata", "-o", "jsonpath={.spec.priority}") == "20"
    assert cluster.ok("delete", "-f", str(path)) == (
        f'{ANP_QUALIFIED} "deny-metadata" deleted\n{BANP_QUALIFIED} "default" deleted\n'
    )
    assert cluster.ok("get", "anp,banp", "-o", "name") == ""


def test_api_resources_and_explain(cluster: Cluster) -> None:
    rows = table(cluster.ok("api-resources", "--api-group=policy.networking.k8s.io"))
    assert sorted(rows[1:]) == [
        ["adminnetworkpolicies", "anp", "policy.networking.k8s.io/v1alpha1", "false",
         "AdminNetworkPolicy"],
        ["baselineadminnetworkpolicies", "banp", "policy.networking.k8s.io/v1alpha1", "false",
         "BaselineAdminNetworkPolicy"],
        ["clusternetworkpolicies", "cnp", "policy.networking.k8s.io/v1alpha2", "false",
         "ClusterNetworkPolicy"],
    ]  # fmt: skip
    out = cluster.ok("explain", "adminnetworkpolicy.spec")
    assert "KIND:       AdminNetworkPolicy" in out
    assert "VERSION:    v1alpha1" in out
    assert "priority\t<integer> -required-" in out
    out = cluster.ok("explain", "banp.spec.ingress.action")
    assert "KIND:       BaselineAdminNetworkPolicy" in out


@pytest.mark.parametrize(
    ("text", "kind", "name", "says"),
    [
        (GUARD.replace("priority: 10", "priority: 1001"), "AdminNetworkPolicy", "deny-metadata",
         "spec.priority: Invalid value: 1001: spec.priority in body should be less than or "
         "equal to 1000"),
        (GUARD.replace("action: Deny", "action: Accept"), "AdminNetworkPolicy", "deny-metadata",
         'spec.egress[0].action: Unsupported value: "Accept": supported values: "Allow", '
         '"Deny", "Pass"'),
        (BASELINE.replace("name: default", "name: other"), "BaselineAdminNetworkPolicy", "other",
         'Invalid value: "object": Only one baseline admin network policy with '
         'metadata.name="default" can be created in the cluster'),
        (BASELINE.replace("action: Deny", "action: Pass"), "BaselineAdminNetworkPolicy",
         "default", 'spec.ingress[0].action: Unsupported value: "Pass": supported values: '
         '"Allow", "Deny"'),
    ],
    ids=["priority", "Accept is v1alpha2's word", "the baseline's name (CEL)", "no baseline Pass"],
)  # fmt: skip
def test_an_invalid_policy_is_refused_with_the_field_path(
    cluster: Cluster, text: str, kind: str, name: str, says: str
) -> None:
    refused = cluster.kubectl("apply", "-f", str(cluster.write("bad.yaml", text)))
    assert refused.code == 1
    assert f'The {kind} "{name}" is invalid' in refused.err
    assert says in refused.err
    assert cluster.ok("get", "anp,banp", "-o", "name") == ""

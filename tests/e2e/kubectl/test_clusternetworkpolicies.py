"""The real kubectl and ClusterNetworkPolicy, served as a cluster with its CRD installed serves
it: apply, get with upstream's printer columns, explain, patch, validation, delete."""

from __future__ import annotations

import pytest

from tests.e2e.kubectl.test_apiserver import Cluster, cluster, kubectl_binary, table

pytestmark = pytest.mark.kubectl
__all__ = ["cluster"]

QUALIFIED = "clusternetworkpolicy.policy.networking.k8s.io"
DENY_METADATA = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: deny-metadata
spec:
  tier: Admin
  priority: 10
  subject:
    namespaces: {}
  egress:
  - name: no-metadata
    action: Deny
    to:
    - networks: ["169.254.169.254/32"]
"""
BASELINE = """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata:
  name: default-deny
spec:
  tier: Baseline
  priority: 0
  subject:
    pods:
      namespaceSelector: {}
      podSelector: {matchLabels: {app: backend}}
  ingress:
  - action: Deny
    from:
    - namespaces: {}
"""


def test_apply_get_patch_and_delete(cluster: Cluster) -> None:
    path = cluster.write("cnp.yaml", DENY_METADATA + "---\n" + BASELINE)
    assert cluster.ok("apply", "-f", str(path)) == (
        f"{QUALIFIED}/deny-metadata created\n{QUALIFIED}/default-deny created\n"
    )
    assert cluster.ok("apply", "-f", str(path)) == (
        f"{QUALIFIED}/deny-metadata unchanged\n{QUALIFIED}/default-deny unchanged\n"
    )
    rows = table(cluster.ok("get", "clusternetworkpolicies"))
    assert rows[0] == ["NAME", "TIER", "PRIORITY", "AGE"]
    assert [r[:3] for r in rows[1:]] == [
        ["default-deny", "Baseline", "0"],
        ["deny-metadata", "Admin", "10"],
    ]
    patched = cluster.ok(
        "patch", "cnp", "deny-metadata", "--type=merge", "-p", '{"spec":{"priority":20}}'
    )
    assert patched == f"{QUALIFIED}/deny-metadata patched\n"
    assert cluster.ok("get", "cnp", "deny-metadata", "-o", "jsonpath={.spec.priority}") == "20"
    assert cluster.ok("delete", "cnp", "deny-metadata") == (
        f'{QUALIFIED} "deny-metadata" deleted\n'
    )
    assert [r[0] for r in table(cluster.ok("get", "cnp"))[1:]] == ["default-deny"]


def test_api_resources_and_explain(cluster: Cluster) -> None:
    rows = table(cluster.ok("api-resources", "--api-group=policy.networking.k8s.io"))
    assert [r for r in rows if r[0] == "clusternetworkpolicies"] == [
        [
            "clusternetworkpolicies",
            "cnp",
            "policy.networking.k8s.io/v1alpha2",
            "false",
            "ClusterNetworkPolicy",
        ]
    ]
    out = cluster.ok("explain", "clusternetworkpolicy.spec")
    assert "KIND:       ClusterNetworkPolicy" in out
    assert "VERSION:    v1alpha2" in out
    assert "Spec defines the desired behavior of ClusterNetworkPolicy." in out
    assert "tier\t<string> -required-" in out
    assert "priority\t<integer> -required-" in out


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            ("priority: 10", "priority: 1001"),
            "spec.priority: Invalid value: 1001: spec.priority in body should be less than or "
            "equal to 1000",
        ),
        (
            ('["169.254.169.254/32"]', '["169.254.169.254/40"]'),
            'spec.egress[0].to[0].networks[0]: Invalid value: "string": Invalid CIDR format '
            "provided",
        ),
    ],
    ids=["priority", "CIDR (a CEL rule)"],
)
def test_an_invalid_policy_is_refused_with_the_field_path(
    cluster: Cluster, change: tuple[str, str], says: str
) -> None:
    path = cluster.write("bad.yaml", DENY_METADATA.replace(*change))
    refused = cluster.kubectl("apply", "-f", str(path))
    assert refused.code == 1
    assert 'The ClusterNetworkPolicy "deny-metadata" is invalid' in refused.err
    assert says in refused.err
    assert cluster.ok("get", "cnp", "-o", "name") == ""


def test_an_update_is_validated_and_strategic_merge_patch_is_refused(cluster: Cluster) -> None:
    cluster.ok("apply", "-f", str(cluster.write("cnp.yaml", DENY_METADATA)))
    bad_tier = '[{"op":"replace","path":"/spec/tier","value":"Nope"}]'
    refused = cluster.kubectl("patch", "cnp", "deny-metadata", "--type=json", "-p", bad_tier)
    assert refused.code == 1
    assert 'spec.tier: Unsupported value: "Nope": supported values: "Admin", "Baseline"' in (
        refused.err
    )
    strategic = cluster.kubectl("patch", "cnp", "deny-metadata", "-p", '{"spec":{"priority":1}}')
    assert strategic.code == 1
    assert "application/strategic-merge-patch+json is not supported" in strategic.err
    assert cluster.ok("get", "cnp", "deny-metadata", "-o", "jsonpath={.spec.tier}") == "Admin"


def test_server_side_apply(cluster: Cluster) -> None:
    path = cluster.write("cnp.yaml", DENY_METADATA)
    assert cluster.ok("apply", "--server-side", "-f", str(path)) == (
        f"{QUALIFIED}/deny-metadata serverside-applied\n"
    )
    changed = cluster.write("cnp2.yaml", DENY_METADATA.replace("priority: 10", "priority: 11"))
    cluster.ok("apply", "--server-side", "-f", str(changed))
    assert cluster.ok("get", "cnp", "deny-metadata", "-o", "jsonpath={.spec.priority}") == "11"


def test_a_changed_file_is_applied_again_as_a_merge_patch(cluster: Cluster) -> None:
    # kubectl picks the patch type from /openapi/v2's `consumes`: a custom resource takes no
    # strategic merge patch, so client-side apply must send a merge patch.
    cluster.ok("apply", "-f", str(cluster.write("cnp.yaml", DENY_METADATA)))
    changed = cluster.write("cnp2.yaml", DENY_METADATA.replace("priority: 10", "priority: 11"))
    assert cluster.ok("apply", "-f", str(changed)) == f"{QUALIFIED}/deny-metadata configured\n"
    assert cluster.ok("get", "cnp", "deny-metadata", "-o", "jsonpath={.spec.priority}") == "11"


def test_kubectl_edit_sends_a_merge_patch(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.ok("apply", "-f", str(cluster.write("cnp.yaml", DENY_METADATA)))
    monkeypatch.setenv("KUBE_EDITOR", "sed -i s/priority:.10/priority:\\ 42/")
    assert cluster.ok("edit", "cnp", "deny-metadata") == f"{QUALIFIED}/deny-metadata edited\n"
    assert cluster.ok("get", "cnp", "deny-metadata", "-o", "jsonpath={.spec.priority}") == "42"


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_other_kubectl_versions_apply_and_get(cluster: Cluster, version: str) -> None:
    binary = kubectl_binary(version)
    path = cluster.write("cnp.yaml", DENY_METADATA)
    assert cluster.ok("apply", "-f", str(path), binary=binary) == (
        f"{QUALIFIED}/deny-metadata created\n"
    )
    rows = table(cluster.ok("get", "cnp", binary=binary))
    assert [r[:3] for r in rows] == [["NAME", "TIER", "PRIORITY"], ["deny-metadata", "Admin", "10"]]


def test_the_crd_is_listed_and_established_and_cannot_be_changed(cluster: Cluster) -> None:
    crd = "clusternetworkpolicies.policy.networking.k8s.io"
    rows = table(cluster.ok("get", "crd"))
    assert crd in [r[0] for r in rows[1:]]  # with the v1alpha1 kinds' CRDs
    assert rows[0][1] == "CREATED AT"
    waited = cluster.ok("wait", "--for", "condition=established", f"crd/{crd}", "--timeout=60s")
    assert waited == f"customresourcedefinition.apiextensions.k8s.io/{crd} condition met\n"
    refused = cluster.kubectl("delete", "crd", crd)
    assert refused.code == 1
    assert "MethodNotAllowed" in refused.err

"""The real kubectl and the upstream schemas: explain (OpenAPI v3, and v2 for what reads it),
client-side validation, and the protobuf bodies of `create`."""

from __future__ import annotations

import pytest

from podwall.apiserver import schemas
from tests.e2e.kubectl.test_apiserver import Cluster, cluster, kubectl_binary

pytestmark = pytest.mark.kubectl
__all__ = ["cluster"]


@pytest.mark.parametrize("version", [None, "1.27", "1.28"], ids=["1.32", "1.27", "1.28"])
@pytest.mark.parametrize(
    ("field", "says"),
    [
        ("networkpolicy.spec.ingress", "FIELD: ingress <[]NetworkPolicyIngressRule>"),
        ("pods.spec.containers", "FIELD: containers <[]Container>"),
    ],
)
def test_explain_prints_the_upstream_description(
    cluster: Cluster, version: str | None, field: str, says: str
) -> None:
    binary = kubectl_binary(version) if version else None
    out = cluster.ok("explain", field, binary=binary)  # type: ignore[arg-type]
    assert says in out
    assert "DESCRIPTION:" in out
    assert "FIELDS:" in out


def _words(text: str) -> str:
    return " ".join(text.split())


# Neither kubectl 1.27 nor 1.33 reads KUBECTL_EXPLAIN_OPENAPIV3 (the variable is not in their
# binaries): both take the v2 path for `--output=plaintext-openapiv2`, as when a server has no v3.
@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_explain_over_openapi_v2_prints_upstreams_description(
    cluster: Cluster, version: str
) -> None:
    binary = kubectl_binary(version)
    out = cluster.ok(
        "explain", "networkpolicy.spec.ingress", "--output=plaintext-openapiv2", binary=binary
    )
    spec = schemas.definitions()["io.k8s.api.networking.v1.NetworkPolicySpec"]
    assert out.startswith("KIND:     NetworkPolicy\nVERSION:  networking.k8s.io/v1\n")
    assert "RESOURCE: ingress <[]Object>" in out
    assert _words(spec["properties"]["ingress"]["description"]) in _words(out)
    assert "   from\t<[]Object>" in out
    port = cluster.ok(
        "explain", "svc.spec.ports.targetPort", "--output=plaintext-openapiv2", binary=binary
    )
    assert "FIELD:    targetPort <string>" in port


LIST_WITH_A_TYPO = """\
apiVersion: v1
kind: List
items:
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: typo}
  spec:
    podSelector: {}
    policyTypos: [Ingress]
"""


@pytest.mark.parametrize("version", ["1.27", "1.33"])
def test_strict_validation_of_a_list_is_kubectls_own_against_openapi_v2(
    cluster: Cluster, version: str
) -> None:
    # kubectl asks the server to validate an object (fieldValidation), but a `kind: List` file
    # it validates itself, against /openapi/v2's definitions, as on a real cluster.
    manifest = cluster.write("list.yaml", LIST_WITH_A_TYPO)
    binary = kubectl_binary(version)
    result = cluster.kubectl("apply", "--validate=strict", "-f", str(manifest), binary=binary)
    assert result.code == 1
    assert result.err == (
        f'error: error validating "{manifest}": error validating data: '
        'ValidationError(NetworkPolicy.spec): unknown field "policyTypos" in '
        "io.k8s.api.networking.v1.NetworkPolicySpec; if you choose to ignore these errors, "
        "turn validation off with --validate=false\n"
    )
    assert cluster.kubectl("get", "netpol").err.startswith("No resources found")
    logged = cluster.kubectl(
        "apply", "--validate=strict", "-f", str(manifest), "-v=6", binary=binary, cache="v6"
    )
    assert "/openapi/v2" in logged.err
    assert "/openapi/v3" not in logged.err, "only v2 is read"
    fixed = cluster.write("fixed.yaml", LIST_WITH_A_TYPO.replace("Typos", "Types"))
    assert cluster.ok("apply", "--validate=strict", "-f", str(fixed), binary=binary) == (
        "networkpolicy.networking.k8s.io/typo created\n"
    )


def test_create_generators_send_protobuf_and_the_objects_land(cluster: Cluster) -> None:
    assert cluster.ok("create", "deployment", "nginx", "--image=nginx") == (
        "deployment.apps/nginx created\n"
    )
    assert cluster.ok("create", "service", "clusterip", "x", "--tcp=80:80") == (
        "service/x created\n"
    )
    assert cluster.ok("run", "x", "--image=nginx") == "pod/x created\n"
    image = cluster.ok(
        "get", "deploy", "nginx", "-o", "jsonpath={.spec.template.spec.containers[0].image}"
    )
    assert image == "nginx"
    port = cluster.ok("get", "svc", "x", "-o", "jsonpath={.spec.ports[0].targetPort}")
    assert port == "80"


def test_a_service_with_a_bool_for_ports_is_a_400_in_kube_apiservers_words(
    cluster: Cluster,
) -> None:
    manifest = cluster.write(
        "bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {ports: true}\n"
    )
    result = cluster.kubectl("create", "-f", str(manifest), "--validate=false")
    assert result.code != 0
    assert (
        "cannot unmarshal bool into Go struct field ServiceSpec.spec.ports of type "
        "[]v1.ServicePort" in result.err
    )

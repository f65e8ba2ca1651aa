"""The real kubectl and the upstream schemas: explain, and the protobuf bodies of `create`."""

from __future__ import annotations

import pytest

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

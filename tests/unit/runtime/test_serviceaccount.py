"""The variables a kubelet sets for the `kubernetes` Service, as client-go's InClusterConfig
and kubectl read them."""

from __future__ import annotations

from podwall.runtime import serviceaccount


def test_the_kubernetes_service_variables_name_its_cluster_ip_and_port() -> None:
    assert serviceaccount.environment() == {
        "KUBERNETES_SERVICE_HOST": "198.19.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://198.19.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://198.19.0.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "198.19.0.1",
    }

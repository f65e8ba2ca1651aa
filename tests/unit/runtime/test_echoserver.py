"""The echo servers: Kubernetes' echoserver (both page versions) and minikube's echo-server."""

from __future__ import annotations

import pytest

from podwall.runtime.standins.echoserver import is_old, k8s_page, minikube_page
from podwall.runtime.standins.webserving import Request

CURL = Request(
    "GET", "/path?q=1", "HTTP/1.1",
    (("Host", "hello:8080"), ("User-Agent", "curl/8.5.0"), ("Accept", "*/*")),
    ("198.18.0.7", 40000), ("198.18.0.5", 8080),
)  # fmt: skip


@pytest.mark.parametrize(
    ("tag", "old"),
    [("1.4", True), ("1.9", True), ("1.10", False), ("2.5", False), ("", False)],
    ids=["1.4", "1.9", "1.10", "2.5", "no tag"],
)
def test_which_page(tag: str, old: bool) -> None:
    assert is_old(tag) is old


def test_the_1_10_page() -> None:
    assert k8s_page(CURL, "hello-7d8f", "1.10").decode() == (
        "\n\nHostname: hello-7d8f\n\nPod Information:\n\t-no pod information available-\n\n"
        "Server values:\n\tserver_version=nginx: 1.13.3 - lua: 10008\n\n"
        "Request Information:\n\tclient_address=198.18.0.7\n\tmethod=GET\n\treal path=/path\n"
        "\tquery=q=1\n\trequest_version=1.1\n\trequest_scheme=http\n"
        "\trequest_uri=http://hello:8080/path?q=1\n\n"
        "Request Headers:\n\taccept=*/*\n\thost=hello:8080\n\tuser-agent=curl/8.5.0\n\n"
        "Request Body:\n\t-no body in request-\n\n"
    )


def test_the_1_4_page() -> None:
    text = k8s_page(CURL, "hello-7d8f", "1.4").decode()
    assert text.startswith("CLIENT VALUES:\nclient_address=198.18.0.7\ncommand=GET\n")
    assert "server_version=nginx: 1.10.0 - lua: 10001" in text
    assert "HEADERS RECEIVED:\naccept=*/*\nhost=hello:8080\nuser-agent=curl/8.5.0\n" in text
    assert text.endswith("BODY:\n-no body in request-")


def test_minikube_echo_server_page() -> None:
    assert minikube_page(CURL, "hello-minikube-5c9", True).decode() == (
        "Request served by hello-minikube-5c9\n\nHTTP/1.1 GET /path?q=1\n\n"
        "Host: hello:8080\nAccept: */*\nUser-Agent: curl/8.5.0\n"
    )


def test_minikube_echo_server_without_hostname_echoes_the_body() -> None:
    post = Request("POST", "/", "HTTP/1.1", (("Host", "h"),), ("a", 1), ("b", 2), b"data")
    assert minikube_page(post, "x", False) == b"HTTP/1.1 POST /\n\nHost: h\n\ndata"

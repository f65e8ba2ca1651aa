"""The one-page demo servers: Apache's It works!, nginxdemos/hello, hello-kubernetes, kuard,
RX-M's hostinfo."""

from __future__ import annotations

import socket

import pytest

from podwall.runtime.standins.demopages import (
    HTTPD_PAGE,
    answerer,
    hello_kubernetes,
    hostinfo,
    httpd,
    kuard,
    nginx_hello,
    port_of,
)
from podwall.runtime.standins.webserving import Request


def _request(path: str = "/", method: str = "GET") -> Request:
    return Request(method, path, "HTTP/1.1", (("Host", "web"),), ("198.18.0.7", 1),
                   ("198.18.0.5", 80))  # fmt: skip


def test_httpd_says_it_works() -> None:
    reply = httpd(_request())
    assert (reply.status, reply.body) == (200, b"<html><body><h1>It works!</h1></body></html>\n")
    assert reply.body == HTTPD_PAGE


def test_httpd_has_no_other_page() -> None:
    reply = httpd(_request("/missing"))
    assert reply.status == 404
    assert b"Not Found" in reply.body


def test_nginx_hello_plain_text_lines() -> None:
    lines = nginx_hello(_request("/x"), "hello-1", plain=True).body.decode().splitlines()
    assert lines[:2] == ["Server address: 198.18.0.5:80", "Server name: hello-1"]
    assert lines[3] == "URI: /x"
    assert lines[4].startswith("Request ID: ")


def test_nginx_hello_page_names_the_server() -> None:
    body = nginx_hello(_request(), "hello-1", plain=False).body.decode()
    assert "<title>Hello World</title>" in body
    assert "<span>hello-1</span>" in body
    assert "<span>198.18.0.5:80</span>" in body


def test_hello_kubernetes_shows_message_pod_and_node() -> None:
    environ = {"MESSAGE": "I just deployed this!", "KUBERNETES_NAMESPACE": "demo",
               "KUBERNETES_NODE_NAME": "node-1"}  # fmt: skip
    body = hello_kubernetes(_request(), "hello-kubernetes-1", environ).body.decode()
    assert "I just deployed this!" in body
    assert "<td>demo</td>" in body
    assert "<td>hello-kubernetes-1</td>" in body
    assert "node-1 (" in body


def test_hello_kubernetes_default_message() -> None:
    assert "Hello world!" in hello_kubernetes(_request(), "h", {}).body.decode()


@pytest.mark.parametrize("path", ["/healthy", "/ready"])
def test_kuard_probes_say_ok(path: str) -> None:
    assert kuard(_request(path), "kuard").body == b"ok"


@pytest.mark.parametrize(
    ("kind", "environ", "port"),
    [("httpd", {}, 80), ("nginx-hello", {}, 80), ("nginx-hello-unprivileged", {}, 8080),
     ("hello-kubernetes", {}, 8080), ("hello-kubernetes", {"PORT": "9000"}, 9000),
     ("kuard", {}, 8080), ("hostinfo", {}, 9898)],
    ids=["httpd", "nginx-hello", "nginx-hello unprivileged", "hello-kubernetes",
         "hello-kubernetes $PORT", "kuard", "hostinfo"],
)  # fmt: skip
def test_ports(kind: str, environ: dict[str, str], port: int) -> None:
    assert port_of(kind, environ) == port


def test_the_plain_text_tag_picks_the_text_page() -> None:
    reply = answerer("nginx-hello", "plain-text", {})(_request())
    assert reply.body.startswith(b"Server address: ")


@pytest.mark.parametrize("path", ["/", "/anything"])
def test_hostinfo_answers_the_hostname_and_the_address_reached(path: str) -> None:
    reply = hostinfo(_request(path), "hi")
    assert (reply.status, reply.body) == (200, b"hi 198.18.0.5\n")


def test_hostinfo_names_the_host_it_runs_on() -> None:
    body = answerer("hostinfo", "", {})(_request()).body
    assert body == f"{socket.gethostname()} 198.18.0.5\n".encode()

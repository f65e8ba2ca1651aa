"""wbitt/network-multitool's default command: the entrypoint's one line, served by nginx."""

from __future__ import annotations

import socket
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from podwall.runtime.standins.multitool import (
    NOT_FOUND,
    PortError,
    answer,
    entrypoint_lines,
    index_line,
    ports,
    tls_context,
)

LINE = (
    "WBITT Network MultiTool (with NGINX) - frontend - 198.18.0.7 - HTTP: 80 , HTTPS: 443 . "
    "(Formerly praqma/network-multitool)"
)


def test_the_index_line_is_the_entrypoints() -> None:
    assert index_line("frontend", "198.18.0.7", {}) == LINE


def test_the_index_line_says_the_ports_set() -> None:
    line = index_line("backend", "198.18.0.9", {"HTTPS_PORT": "3000", "HTTP_PORT": "80"})
    assert " - HTTP: 80 , HTTPS: 3000 . " in line


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, (80, 443)), ({"HTTP_PORT": "", "HTTPS_PORT": ""}, (80, 443)),
     ({"HTTPS_PORT": "3000"}, (80, 3000)), ({"HTTP_PORT": "8080", "HTTPS_PORT": "8443"},
                                            (8080, 8443))],
    ids=["unset", "empty", "https set", "both set"],
)  # fmt: skip
def test_the_ports_are_the_variables_else_80_and_443(
    environ: dict[str, str], expected: tuple[int, int]
) -> None:
    assert ports(environ) == expected


@pytest.mark.parametrize("value", ["http", "0", "65536", "-1"])
def test_a_port_that_is_no_port_is_refused(value: str) -> None:
    with pytest.raises(PortError, match=f"HTTP_PORT='{value}' is not a port number"):
        ports({"HTTP_PORT": value})


def test_the_entrypoint_says_what_it_does_then_the_line() -> None:
    assert entrypoint_lines(LINE, {}) == [
        "The directory /usr/share/nginx/html is not mounted.",
        "Therefore, over-writing the default index.html file with some useful information:",
        LINE,
    ]
    lines = entrypoint_lines(LINE, {"HTTPS_PORT": "3000"})
    assert lines[-1] == (
        "Replacing default HTTPS port (443) with the value specified by the user - "
        "(HTTPS_PORT: 3000)."
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/index.html", 200), ("/?x=1", 200), ("/metrics", 404), ("/index.htm", 404)],
)
def test_only_the_index_is_found(path: str, status: int) -> None:
    code, body = answer(path)
    assert code == status
    assert body == (b"" if status == 200 else NOT_FOUND)


def test_the_tls_context_serves_a_self_signed_certificate_for_localhost() -> None:
    server_side, client_side = socket.socketpair()
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    with server_side, client_side:
        handshake = threading.Thread(
            target=lambda: tls_context().wrap_socket(server_side, server_side=True).close()
        )
        handshake.start()
        with client.wrap_socket(client_side) as tls:
            der = tls.getpeercert(binary_form=True)
        handshake.join(timeout=10)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "localhost"

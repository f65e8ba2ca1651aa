"""The server over real HTTPS on loopback: certificates, token, kubeconfig, restart."""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from cryptography import x509

from podwall.apiserver.server import HOST, Server, listening_socket
from podwall.apiserver.tls import covers, ensure_certificates


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path / "state", port=0)
    s.start()
    try:
        yield s
    finally:
        s.stop()


def https_client(server: Server, token: str | None) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(server.state_dir / "ca.crt"))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, verify=context, headers=headers, timeout=10)


def test_the_server_cert_names_loopback_and_the_kubernetes_service(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path)
    cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("198.19.0.1"),
    ]
    assert names.get_values_for_type(x509.DNSName) == [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    for path in (files.server_key, tmp_path / "ca.key", files.server_cert, files.ca_cert):
        assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_certificates_are_created_once(tmp_path: Path) -> None:
    first = ensure_certificates(tmp_path).ca_pem()
    assert ensure_certificates(tmp_path).ca_pem() == first


def test_a_server_cert_missing_a_name_is_issued_again_by_the_same_ca(tmp_path: Path) -> None:
    files = ensure_certificates(tmp_path, ("127.0.0.1",))
    ca, old = files.ca_pem(), files.server_cert.read_bytes()
    assert not covers(old, ("198.18.255.254",))
    ensure_certificates(tmp_path, ("127.0.0.1", "198.18.255.254"))
    new = files.server_cert.read_bytes()
    assert new != old
    assert covers(new, ("127.0.0.1", "198.18.255.254"))
    assert files.ca_pem() == ca
    issuer = x509.load_pem_x509_certificate(ca)
    x509.load_pem_x509_certificate(new).verify_directly_issued_by(issuer)


def test_https_with_the_token_and_without(server: Server) -> None:
    assert server.url.startswith("https://127.0.0.1:")
    with https_client(server, server.token) as client:
        assert client.get("/version").json()["minor"] == "32"
    with https_client(server, None) as anonymous:
        response = anonymous.get("/api/v1/namespaces")
        assert response.status_code == 403
        assert response.json()["kind"] == "Status"
        assert anonymous.get("/version").json()["minor"] == "32"
        assert anonymous.get("/readyz").text == "ok"


def test_the_kubeconfig_trusts_the_ca_and_carries_the_token(server: Server) -> None:
    config = yaml.safe_load(server.kubeconfig_path.read_text())
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == server.url
    ca = base64.b64decode(cluster["certificate-authority-data"])
    assert ca == (server.state_dir / "ca.crt").read_bytes()
    assert config["users"][0]["user"] == {"token": server.token}
    assert config["contexts"][0]["context"]["namespace"] == "default"
    assert oct(server.kubeconfig_path.stat().st_mode & 0o777) == "0o600"


def test_objects_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    first = Server(state, port=0)
    first.start()
    try:
        with https_client(first, first.token) as client:
            created = client.post("/api/v1/namespaces", json={"metadata": {"name": "kept"}}).json()
    finally:
        first.stop()
    second = Server(state, port=0)
    second.start()
    try:
        with https_client(second, second.token) as client:
            again = client.get("/api/v1/namespaces/kept").json()
    finally:
        second.stop()
    assert again == created


def test_stopping_ends_every_watch_stream(server: Server) -> None:
    with https_client(server, server.token) as client:
        with client.stream("GET", "/api/v1/namespaces?watch=true") as response:
            lines = response.iter_lines()
            assert '"ADDED"' in next(lines)
            assert server.store is not None
            server.store.close_watches()  # what stop() does first
            remaining = list(lines)  # the stream ends instead of hanging
        assert all('"ADDED"' in line for line in remaining if line)


def _server_side(port: int, peer: tuple[str, int]) -> socket.socket:
    """This process's end of a connection to the server: the server runs in this process."""
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            sock = socket.fromfd(int(name), socket.AF_INET, socket.SOCK_STREAM)  # a dup
            try:
                if sock.getsockname() == (HOST, port) and sock.getpeername() == peer:
                    return sock
            except OSError:
                pass
            sock.close()
    raise AssertionError(f"no accepted socket for {peer}")


def test_accepted_connections_send_without_nagle(server: Server) -> None:
    # A response goes out as two writes (headers, body); with Nagle on, the second waits for
    # the client's delayed ACK: ~40 ms per request. asyncio turns TCP_NODELAY on for accepted
    # sockets only when the listening socket was made with proto IPPROTO_TCP.
    context = ssl.create_default_context(cafile=str(server.state_dir / "ca.crt"))
    raw = socket.create_connection((HOST, server.port))
    with context.wrap_socket(raw, server_hostname=HOST) as tls:
        tls.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert tls.recv(4096).startswith(b"HTTP/1.1 200")
        with _server_side(server.port, tls.getsockname()) as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_the_listening_socket_is_made_for_tcp() -> None:
    with listening_socket() as sock:
        assert sock.proto == socket.IPPROTO_TCP


def test_stopping_closes_connections_whose_client_never_says_goodbye(tmp_path: Path) -> None:
    # An agent's pooled connection never sends TLS close_notify: without the abort at
    # shutdown its socket would stay open in this process after the server stopped.
    server = Server(tmp_path / "state", port=0)
    server.start()
    port = server.port
    context = ssl.create_default_context(cafile=str(server.state_dir / "ca.crt"))
    raw = socket.create_connection((HOST, port))
    try:
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            tls.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert tls.recv(4096).startswith(b"HTTP/1.1 200")
            _server_side(port, tls.getsockname()).close()  # the server holds it open
            server.stop()
            with pytest.raises(AssertionError, match="no accepted socket"):
                _server_side(port, tls.getsockname())
    finally:
        server.stop()

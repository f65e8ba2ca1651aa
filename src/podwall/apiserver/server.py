"""Run the API server: uvicorn over HTTPS on 127.0.0.1, state in one directory.

`Server(state_dir, port)` owns the state directory's files: `state.db` (the store), `ca.crt`,
`server.crt`, `server.key`, `token`, `kubeconfig`, `sa.key` (signs ServiceAccount tokens); it
also accepts the tokens listed in `tokens.csv` when that exists (the nodes' own credentials,
written by `podwall up`).
`start()`/`stop()` run it in a background thread (tests, `podwall up`); `run_forever()` runs
it in the foreground until SIGINT or SIGTERM. Port 0 picks a free port; `port` tells which
one after `start()` or `bind()`.

With `advertise` (kube-apiserver's --advertise-address and --secure-port: where pods reach
it), the `default/kubernetes` Service targets that port, its Endpoints and EndpointSlice name
that address (`bootstrap`), the serving certificate names it, and the server also serves on
the sockets `advertise.listen()` opens there (`podwall up` binds one in the sandbox's fabric).
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from podwall.apiserver import kubeconfig, tls
from podwall.apiserver.app import create_app
from podwall.apiserver.authentication import static_user
from podwall.apiserver.bootstrap import bootstrap
from podwall.apiserver.coalesce import CoalescingProtocol, open_transports
from podwall.apiserver.podruntime import PodRuntime
from podwall.apiserver.serviceaccounttokens import signer_for
from podwall.apiserver.store import Store

HOST = "127.0.0.1"  # loopback only
CLOSE_SECONDS = 0.05
# httptools (or h11), plus `kubectl exec` over SPDY, one send per response (coalesce.py)
HTTP_PROTOCOL = CoalescingProtocol


def event_loop() -> str:
    """uvicorn's name for the event loop to serve on: uvloop (libuv, TLS in C; a pinned
    dependency) when installed, else asyncio's own (same behaviour, more CPU per request)."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


LOOP = event_loop()


def listening_socket() -> socket.socket:
    """A TCP socket whose accepted connections send without Nagle's delay.

    asyncio turns TCP_NODELAY on for an accepted connection only when the listening socket
    says `proto == IPPROTO_TCP`; a socket made with proto 0 leaves Nagle on, and a response
    written in two parts (headers, body) then waits for the client's delayed ACK: ~40 ms per
    request. Linux also copies TCP_NODELAY from the listening socket to accepted ones.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _Uvicorn(uvicorn.Server):
    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's, then close every connection still open (its clients, the node agents
        above all, may outlive this server)."""
        await super().shutdown(sockets)
        # TLS connections already closing wait for their client's close_notify (30 s), and an
        # agent's idle pooled connection never sends it: the loop would end under them and
        # leave their sockets open. coalesce keeps every connection's transport by loop.
        for transport in open_transports(asyncio.get_running_loop()):
            transport.abort()
        await asyncio.sleep(CLOSE_SECONDS)


@dataclass(frozen=True, slots=True)
class Advertise:
    """Where pods reach the API server, and how to open a listening socket there."""

    address: str
    port: int
    listen: Callable[[], socket.socket]


class Server:
    """The API server, its store and credentials."""

    def __init__(
        self,
        state_dir: Path,
        port: int = 6443,
        runtime: PodRuntime | None = None,
        *,
        advertise: Advertise | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.requested_port = port
        self.runtime = runtime  # runs pods/exec and serves pods/log; set before bind()
        self.advertise = advertise
        self.store: Store | None = None
        self._socket: socket.socket | None = None
        self._advertised: socket.socket | None = None
        self._uvicorn: _Uvicorn | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the server is not bound yet")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def token(self) -> str:
        return kubeconfig.ensure_token(self.state_dir / "token")

    def bind(self) -> None:
        """Prepare state, credentials and the listening socket; write the kubeconfig."""
        if self._socket is not None:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir.chmod(0o700)
        hosts: tuple[str, ...] = tls.DEFAULT_HOSTS
        if self.advertise is not None:
            hosts = (*hosts, self.advertise.address)
        files = tls.ensure_certificates(self.state_dir, hosts)
        token = self.token
        sock = listening_socket()
        try:
            sock.bind((HOST, self.requested_port))
        except OSError:
            sock.close()
            raise
        sock.listen(512)
        sock.set_inheritable(True)
        self._socket = sock
        if self.advertise is not None:
            try:
                self._advertised = self.advertise.listen()
            except OSError:
                self._close()
                raise
        self.store = Store(self.state_dir / "state.db")
        if self.advertise is None:
            bootstrap(self.store, self.port)
        else:
            bootstrap(self.store, self.advertise.port, self.advertise.address)
        kubeconfig.write(self.kubeconfig_path, self.url, files.ca_pem(), token)
        others = {
            known: static_user(user, uid, groups)
            for known, (user, uid, groups) in kubeconfig.read_token_users(
                self.state_dir / kubeconfig.TOKENS_FILE
            ).items()
        }
        app = create_app(
            self.store, token, f"{HOST}:{self.port}", self.runtime, others,
            signer=signer_for(self.state_dir),
        )  # fmt: skip
        config = uvicorn.Config(
            app,
            http=HTTP_PROTOCOL,
            loop=LOOP,
            ssl_certfile=str(files.server_cert),
            ssl_keyfile=str(files.server_key),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
            timeout_keep_alive=30,
            proxy_headers=False,  # loopback only, no proxy in front: no X-Forwarded-* to trust
        )
        self._uvicorn = _Uvicorn(config)

    def start(self, timeout: float = 10.0) -> None:
        """Serve in a background thread; returns once the server accepts connections."""
        self.bind()
        assert self._uvicorn is not None
        assert self._socket is not None
        server = self._uvicorn
        self._thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": self._sockets()},
            name="podwall-apiserver",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving, end every watch, close the store. Safe to call twice."""
        if self.store is not None:
            self.store.close_watches()
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._thread = None
        self._close()

    def run_forever(self) -> None:
        """Serve in this (main) thread until SIGINT or SIGTERM."""
        self.bind()
        assert self._uvicorn is not None
        assert self._socket is not None
        try:
            self._uvicorn.run(sockets=self._sockets())
        finally:
            self._close()

    def _sockets(self) -> list[socket.socket]:
        assert self._socket is not None
        return [self._socket] + ([self._advertised] if self._advertised is not None else [])

    def _close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
        for sock in (self._socket, self._advertised):
            if sock is not None:
                sock.close()
        self._socket = self._advertised = None
        self._uvicorn = None

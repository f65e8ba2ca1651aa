"""The kubelet's half of `kubectl port-forward`: a TCP connection inside a pod's network namespace.

As containerd does, the connection goes to 127.0.0.1:PORT in the pod's own namespace (a server
bound to the pod's address only is not reached; one bound to 0.0.0.0 or loopback is). The
socket is created by a thread that has entered the namespace, so it stays there after the
thread ends; the API server then copies bytes to and from it on its event loop.
"""

from __future__ import annotations

import socket

from podwall.apiserver.podruntime import PortForwardError
from podwall.runtime.netns import run_in_netns

CONNECT_SECONDS = 5.0


def connect_in_pod(netns: str, port: int, *, pod: str) -> socket.socket:
    """A connected, non-blocking socket to 127.0.0.1:`port` in `netns`; PortForwardError
    (with the kubelet's wording) when nothing answers there."""

    def work() -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_SECONDS)
        sock.setblocking(False)
        return sock

    try:
        return run_in_netns(netns, work)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PortForwardError(
            f"error forwarding port {port} to pod {pod}, uid : failed to connect to "
            f"localhost:{port} inside the pod's network namespace: dial tcp4 127.0.0.1:{port}: "
            f"connect: {reason.lower()}"
        ) from exc

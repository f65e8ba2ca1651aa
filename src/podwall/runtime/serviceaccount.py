"""A pod's service account volume: the files in-cluster clients read, and the variables that
name the API server.

As the kubelet's projected volume: `token`, `ca.crt` and `namespace`, which client libraries
(client-go's rest.InClusterConfig, kubectl in a pod, the Python client) read from
`MOUNT_PATH`, and KUBERNETES_SERVICE_HOST/PORT (`environment`), which they need besides.

The files are written on the host under `SECRETS_ROOT/<pod netns>/`, a directory only root can
traverse; the pod's PID 1 mounts that directory read-only at `MOUNT_PATH` in the pod's own view
(`podinit`), over a tmpfs of its own at `/var/run/secrets` (an empty directory made on the
host, its mount point). So the token is readable inside its pod only.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
MOUNT_POINT = Path("/var/run/secrets")  # the tmpfs under MOUNT_PATH, in the pod's view only
SECRETS_ROOT = Path("/run/podwall-secrets")
KUBERNETES_HOST = "198.19.0.1"
KUBERNETES_PORT = 443


@dataclass(frozen=True, slots=True)
class ServiceAccountFiles:
    token: str
    ca_pem: bytes
    namespace: str


def directory(netns: str) -> Path:
    """Where the pod in `netns` has its service account files on the host."""
    return SECRETS_ROOT / netns


def write(netns: str, files: ServiceAccountFiles) -> Path:
    """Write the pod's files (0644, as the kubelet's default mode) and return their directory."""
    SECRETS_ROOT.mkdir(mode=0o700, exist_ok=True)
    SECRETS_ROOT.chmod(0o700)
    MOUNT_POINT.mkdir(mode=0o755, parents=True, exist_ok=True)
    target = directory(netns)
    target.mkdir(mode=0o755, exist_ok=True)
    for name, data in (
        ("token", files.token.encode()),
        ("ca.crt", files.ca_pem),
        ("namespace", files.namespace.encode()),
    ):
        staging = target / f".{name}.new"
        staging.write_bytes(data)
        staging.chmod(0o644)
        staging.replace(target / name)
    return target


def remove(netns: str) -> None:
    shutil.rmtree(directory(netns), ignore_errors=True)


def environment(host: str = KUBERNETES_HOST, port: int = KUBERNETES_PORT) -> dict[str, str]:
    """The `kubernetes` Service's variables, as the kubelet sets them in every container."""
    url = f"tcp://{host}:{port}"
    prefix = f"KUBERNETES_PORT_{port}_TCP"
    return {
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": str(port),
        "KUBERNETES_SERVICE_PORT_HTTPS": str(port),
        "KUBERNETES_PORT": url,
        prefix: url,
        f"{prefix}_PROTO": "tcp",
        f"{prefix}_PORT": str(port),
        f"{prefix}_ADDR": host,
    }

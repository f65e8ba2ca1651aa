"""Where to connect to a Kubernetes API server, and with what credentials: one place for the
node agent, the review commands' `--kubeconfig`/`--cluster` and the editor's attached mode.

Through the official `kubernetes` client, which knows what real clusters ask of a client:
kubeconfig contexts, client certificates, exec and OIDC credential plugins, and in a pod the
service account whose token the kubelet rotates (`load_incluster_config` re-reads it).

Errors: `ConfigError` (no usable configuration; the message names the file or variable), and
`Unreachable` (no HTTP answer), whose message `reason` shortens to urllib3's innermost reason.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.config.config_exception import ConfigException

from podwall.errors import PodwallError

TOKEN_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


class ClientError(PodwallError):
    """podwall could not talk to an API server; the message says why."""


class ConfigError(ClientError):
    """No usable cluster configuration; the message says which file or variable."""


class Unreachable(ClientError):
    """The API server did not answer (refused, timed out, TLS failed)."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect: a kubeconfig (with a context) or, without one, the pod's account."""

    kubeconfig: Path | None = None
    context: str | None = None


def in_pod() -> bool:
    """Whether this process runs in a pod with a service account token."""
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and TOKEN_FILE.is_file()


def configure(target: Target) -> tuple[Any, str]:
    """A `kubernetes.client.Configuration` and a description of where it came from.

    Order: `--kubeconfig`; else the pod's service account (KUBERNETES_SERVICE_HOST/PORT and
    the token and CA at the standard paths); else $KUBECONFIG or ~/.kube/config.
    """
    configuration = client.Configuration()
    path = target.kubeconfig
    if path is None and target.context is None and in_pod():
        incluster: Any = config.load_incluster_config  # untyped
        try:
            incluster(client_configuration=configuration)
        except ConfigException as exc:
            raise ConfigError(f"in-cluster service account: {exc}") from exc
        return configuration, "the pod's service account"
    if path is None:
        path = Path(os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config")
        path = path.expanduser()
        if not path.is_file():
            raise ConfigError(
                "no cluster to connect to: not in a pod (KUBERNETES_SERVICE_HOST unset or no "
                f"service account token) and no kubeconfig ({path} does not exist; "
                "use --kubeconfig)"
            )
    if not path.is_file():
        raise ConfigError(f"{path}: no kubeconfig there")
    load: Any = config.load_kube_config  # untyped
    try:
        load(
            config_file=str(path),
            context=target.context,
            client_configuration=configuration,
            persist_config=False,
        )
    except Exception as exc:  # YAML errors, missing keys, unreadable files, bad plugins...
        detail = " ".join(str(exc).split())
        raise ConfigError(
            f"{path}: cannot use this kubeconfig: {type(exc).__name__}: {detail}"
        ) from exc
    where = f"kubeconfig {path}" + (f" (context {target.context})" if target.context else "")
    return configuration, where


def reason(exc: BaseException) -> str:
    """The innermost reason of a urllib3 error (`Connection refused`), not its whole repr."""
    inner: Any = getattr(exc, "reason", None)
    while inner is not None and getattr(inner, "reason", None) is not None:
        inner = inner.reason
    text = str(inner or exc)
    return text.rsplit(": ", 1)[-1] if "Errno" in text else text

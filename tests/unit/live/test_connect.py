"""`configure`: which configuration wins, and one line naming the file when none is usable."""

from __future__ import annotations

from pathlib import Path

import pytest
import urllib3

from podwall.live import connect
from podwall.live.connect import ConfigError, Target

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://198.18.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: abc}
contexts:
- name: ctx
  context: {cluster: c, user: u}
- name: other
  context: {cluster: c, user: u, namespace: x}
current-context: ctx
"""


@pytest.fixture
def no_pod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither in a pod nor with a default kubeconfig, whatever the machine has."""
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "default-kubeconfig"))


@pytest.mark.parametrize(
    ("content", "context", "message"),
    [
        (None, None, "{path}: no kubeconfig there"),
        ("clusters: [", None, "{path}: cannot use this kubeconfig: ParserError"),
        (KUBECONFIG, "gone", "{path}: cannot use this kubeconfig: ConfigException"),
        ("apiVersion: v1\nkind: Config\n", None, "{path}: cannot use this kubeconfig"),
    ],
    ids=["missing", "not yaml", "no such context", "no current context"],
)
@pytest.mark.usefixtures("no_pod")
def test_an_unusable_kubeconfig_is_one_line_naming_it(
    tmp_path: Path, content: str | None, context: str | None, message: str
) -> None:
    path = tmp_path / "kubeconfig"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as raised:
        connect.configure(Target(path, context))
    text = str(raised.value)
    assert text.startswith(message.format(path=path))
    assert "\n" not in text


@pytest.mark.usefixtures("no_pod")
@pytest.mark.parametrize(
    ("context", "where"),
    [(None, "kubeconfig {path}"), ("other", "kubeconfig {path} (context other)")],
)
def test_a_kubeconfig_names_its_server_and_where_it_came_from(
    tmp_path: Path, context: str | None, where: str
) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    configuration, described = connect.configure(Target(path, context))
    assert configuration.host == "https://198.18.0.1:6443"
    assert described == where.format(path=path)


@pytest.mark.usefixtures("no_pod")
def test_without_a_kubeconfig_or_a_pod_the_error_says_what_was_looked_for(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError, match=r"not in a pod .* no kubeconfig .*default-kubeconfig"):
        connect.configure(Target())


def test_the_default_kubeconfig_is_read_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert connect.configure(Target())[1] == f"kubeconfig {path}"


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (
            urllib3.exceptions.MaxRetryError(
                None,  # type: ignore[arg-type]
                "/api",
                urllib3.exceptions.NewConnectionError(
                    None,  # type: ignore[arg-type]
                    "Failed to establish a new connection: [Errno 111] Connection refused",
                ),
            ),
            "[Errno 111] Connection refused",
        ),
        (TimeoutError("timed out"), "timed out"),
    ],
    ids=["refused, wrapped twice", "plain"],
)
def test_reason_is_the_innermost_cause(error: BaseException, reason: str) -> None:
    assert connect.reason(error) == reason

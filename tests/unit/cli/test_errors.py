"""Bad input exits 2 with a message that names the file, line, object and field."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from podwall.cli import main as cli_main
from podwall.cli.command import Command
from podwall.cli.main import main
from podwall.runtime.errors import SandboxError
from tests.clirunner import Result, invoke

ROOT = Path(__file__).parents[3]
TUTORIAL = str(ROOT / "examples" / "tutorial")
INVALID = ROOT / "tests" / "fixtures" / "invalid"


def run(*args: str, stdin: str | None = None) -> Result:
    """Run podwall; an exception other than the exit is a bug, never a verdict."""
    return invoke(args, input=stdin)


def check(*files: str, src: str = "frontend", dst: str = "backend:8080") -> list[str]:
    return ["check", *[a for f in files for a in ("-f", f)], "--from", src, "--to", dst]


ERRORS = [
    ("no -f at all asks for manifests", ["check", "--from", "a", "--to", "b:80"],
     "error: no manifests given: use -f FILE (or -f DIR, or -f - for stdin)\n"),
    ("a missing file is named", check("no/such/file.yaml"),
     "error: no/such/file.yaml: no such file or directory\n"),
    ("an unknown source pod lists the pods there are", check(TUTORIAL, src="fronted"),
     "error: fronted: no pod default/fronted in the manifests; pods here: default/backend, "
     "default/frontend, default/not-frontend\n"),
    ("an unknown destination in another namespace", check(TUTORIAL, dst="prod/backend:8080"),
     "error: prod/backend: no pod prod/backend in the manifests; pods here: default/backend, "
     "default/frontend, default/not-frontend\n"),
    ("an unknown deployment is named as a deployment", check(TUTORIAL, src="deploy/api"),
     "error: deploy/api: no deployment default/api in the manifests; pods here: "
     "default/backend, default/frontend, default/not-frontend\n"),
    ("an unknown protocol is refused", check(TUTORIAL, dst="backend:8080/icmp"),
     "error: backend:8080/icmp: unknown protocol 'icmp'; use TCP, UDP or SCTP\n"),
    ("a port out of range is refused", check(TUTORIAL, dst="backend:80800"),
     "error: backend:80800: port 80800 is not between 1 and 65535\n"),
    ("a port the service does not have lists its ports", check(TUTORIAL, dst="svc/backend:80"),
     "error: svc/backend: service default/backend has no port 80/TCP; it has http 8080/TCP\n"),
    ("a destination without a port and without exactly one container port",
     check(TUTORIAL, dst="frontend"),
     "error: frontend: which port? write frontend:PORT (for example frontend:80/TCP)\n"),
    ("a named port no destination pod has", check(TUTORIAL, dst="backend:grpc"),
     "default/frontend -> default/backend has no port grpc: no connection possible\n"
     "error: backend:grpc: no destination pod has that port\n"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "stderr"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_bad_input_exits_2_with_a_clear_message(args: list[str], stderr: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr == stderr
    assert result.stdout == ""


def test_invalid_yaml_names_file_and_line() -> None:
    result = run(*check("-"), stdin="kind: Pod\nmetadata: {name: a\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: <stdin>:3: invalid YAML: ")
    assert result.stdout == ""


def test_a_scalar_document_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text("kind: Pod\nmetadata: {name: a}\n---\nremember to add policies\n")
    result = run(*check(str(path)))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:4: expected a Kubernetes object (a mapping), got str\n"
    )


def test_a_file_that_is_not_utf8_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"kind: Pod\nmetadata: {name: caf\xe9}\n")
    result = run(*check(str(path)))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}: cannot read: not UTF-8 text")


def test_an_invalid_policy_is_reported_like_the_api_server_and_nothing_is_evaluated() -> None:
    path = INVALID / "except-not-subset.yaml"
    result = run(*check(str(path), src="a", dst="b:80"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {path}:12: NetworkPolicy default/web: spec.ingress[0].from[0].ipBlock.except[0]: "
        'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`\n'
        "1 error(s); nothing was evaluated\n"
    )


def test_an_invalid_policy_stops_even_a_connection_that_would_be_decided() -> None:
    path = str(INVALID / "except-not-subset.yaml")
    result = run(*check(TUTORIAL, path))
    assert result.exit_code == 2
    assert "ALLOWED" not in result.output
    assert "DENIED" not in result.output


def test_every_error_of_every_policy_is_printed() -> None:
    path = INVALID / "several-errors.yaml"
    result = run(*check(str(path), src="a", dst="b:80"))
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == "5 error(s); nothing was evaluated"
    assert [line.split(": ")[:3] for line in lines[:-1]] == [
        ["error", f"{path}:19", "NetworkPolicy shop/db"],
        ["error", f"{path}:18", "NetworkPolicy shop/db"],
        ["error", f"{path}:16", "NetworkPolicy shop/db"],
        ["error", f"{path}:12", "NetworkPolicy shop/db"],
        ["error", f"{path}:31", "NetworkPolicy default/Web_Policy"],
    ]
    fields = [line.split(": ")[3] for line in lines[:-1]]
    assert fields == [
        "spec.ingress[0].ports[0].protocol",
        "spec.ingress[0].ports[0].port",
        "spec.ingress[0].from[0].ipBlock.cidr",
        "spec.policyTypes[1]",
        "metadata.name",
    ]
    assert 'Unsupported value: "Sideways": supported values: "Ingress", "Egress"' in lines[3]
    assert 'Invalid value: "10.0.0.0/33": must be a valid CIDR value' in lines[2]


def test_an_invalid_policy_in_a_json_list_points_at_its_field() -> None:
    path = INVALID / "in-a-list.json"
    result = run(*check(str(path), src="a", dst="b:80"))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        f"error: {path}:12: NetworkPolicy default/p: spec.egress[0].ports[0].port: "
        "Invalid value: 70000: must be between 1 and 65535, inclusive"
    )


def test_an_invalid_policy_after_empty_documents_points_at_its_field() -> None:
    stdin = "# policies\n---\n---\n" + (INVALID / "except-not-subset.yaml").read_text()
    result = run(*check("-", src="a", dst="b:80"), stdin=stdin)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: <stdin>:15: NetworkPolicy default/web: spec.ingress[0].from[0].ipBlock.except[0]"
    )


MATRIX_ERRORS = [
    ("matrix without -f asks for manifests", ["matrix"], "error: no manifests given"),
    ("matrix with a port out of range", ["matrix", "-f", TUTORIAL, "--port", "0"],
     "error: --port 0: port 0 is not between 1 and 65535"),
    ("matrix with a port that is not a name", ["matrix", "-f", TUTORIAL, "--port", "HTTP"],
     "error: --port HTTP: 'HTTP' is neither a port number nor a port name"),
    ("explain with a missing file", ["explain", "-f", "nope", "--from", "a", "--to", "b:1"],
     "error: nope: no such file or directory"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "stderr"), [c[1:] for c in MATRIX_ERRORS], ids=[c[0] for c in MATRIX_ERRORS]
)
def test_other_commands_exit_2_on_bad_input(args: list[str], stderr: str) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(stderr)
    assert result.stdout == ""


def test_a_missing_required_option_is_a_usage_error_exit_2() -> None:
    result = run("check", "-f", TUTORIAL, "--from", "frontend")
    assert result.exit_code == 2
    assert "podwall check: error: the following arguments are required: --to" in result.stderr


KINDS = [
    ("a Service whose ports is true",
     "kind: Service\nmetadata: {name: s}\nspec:\n  ports: true\n",
     "<stdin>:4: Service default/s: spec.ports: Invalid value: true: must be a list\n"),
    ("a Service whose ports is 3.5",
     "kind: Service\nmetadata: {name: s}\nspec:\n  ports: 3.5\n",
     "<stdin>:4: Service default/s: spec.ports: Invalid value: 3.5: must be a list\n"),
    ("a Deployment whose containers is -1",
     "kind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n"
     "  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: -1\n",
     "<stdin>:8: Deployment default/d: spec.template.spec.containers: Invalid value: -1: "
     "must be a list\n"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in KINDS], ids=[c[0] for c in KINDS])
def test_every_kind_podwall_reads_is_validated_with_file_line_and_field(
    text: str, message: str
) -> None:
    result = run("matrix", "-f", "-", stdin=text)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: " + message)


@pytest.mark.parametrize(
    ("version", "kind", "served"),
    [
        pytest.param("networking.k8s.io/v2", "NetworkPolicy", "networking.k8s.io/v1", id="np-v2"),
        pytest.param("extensions/v1beta1", "NetworkPolicy", "networking.k8s.io/v1",
                     id="np-removed-in-1.16"),
        pytest.param("apps/v1beta2", "Deployment", "apps/v1", id="deployment-beta"),
        pytest.param("v2", "Pod", "v1", id="pod-v2"),
        pytest.param("apps/v1", "ReplicationController", "v1", id="rc-is-core-v1"),
    ],
)  # fmt: skip
def test_a_kind_under_a_version_the_api_does_not_serve_is_refused(
    version: str, kind: str, served: str
) -> None:
    text = f"apiVersion: {version}\nkind: {kind}\nmetadata: {{name: x}}\nspec: {{}}\n"
    result = run("matrix", "-f", "-", stdin=text)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f'error: <stdin>:1: {kind} default/x: no matches for kind "{kind}" in version'
        f' "{version}" (served as "{served}")\n'
    )


def _fails(what: str) -> None:
    if what == "sandbox":
        raise SandboxError("netns pw-x exists: remove it with podwall down --force")
    raise KeyError(what)


def _add_what(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what")


# A command that fails as asked: `podwall fails sandbox` (a PodwallError) or `fails bug`.
FAILS = Command(
    "Fails.",
    _add_what,
    lambda args: _fails(args.what),
)


def test_any_podwall_error_is_bad_input_and_anything_else_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(cli_main.COMMANDS, "fails", (f"{__name__}:FAILS", None))
    result = run("fails", "sandbox")
    assert result.exit_code == 2
    assert result.stderr == "error: netns pw-x exists: remove it with podwall down --force\n"
    with pytest.raises(KeyError):
        run("fails", "bug")
    for what, status in (("sandbox", 2), ("bug", 70)):  # as the installed `podwall` exits
        monkeypatch.setattr(sys, "argv", ["podwall", "fails", what])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == status


def test_an_invalid_cluster_network_policy_is_reported_in_the_crds_words() -> None:
    path = INVALID / "cluster-network-policy.yaml"
    result = run(*check(str(path), src="a", dst="b:80"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:7: ClusterNetworkPolicy guard: spec.priority: Invalid value: 1001: "
        "spec.priority in body should be less than or equal to 1000\n"
        f"error: {path}:13: ClusterNetworkPolicy guard: spec.egress[0].to[0].domainNames: "
        "Forbidden: not supported by podwall: a domainNames peer needs DNS-aware enforcement, "
        "which podwall does not implement; write the addresses as a networks peer instead\n"
        "2 error(s); nothing was evaluated\n"
    )


@pytest.mark.parametrize("kind", ["Networkpolicy", "networkpolicy", "deployment"])
def test_a_kind_miscased_is_an_error_not_an_ignored_object(tmp_path: Path, kind: str) -> None:
    # Ignored as a kind podwall does not model, the policy would silently leave every verdict.
    api = "apps/v1" if kind == "deployment" else "networking.k8s.io/v1"
    meant = "Deployment" if kind == "deployment" else "NetworkPolicy"
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: web}}\nspec: {{}}\n")
    result = run(*check(TUTORIAL, str(bad)))
    assert result.exit_code == 2
    assert result.stderr == (
        f'error: {bad}:2: {kind} default/web: no matches for kind "{kind}" in version "{api}"'
        f' (kinds are case-sensitive: "{meant}"?)\n'
        "1 error(s); nothing was evaluated\n"
    )


def test_invalid_admin_network_policies_are_reported_in_the_crds_words() -> None:
    path = INVALID / "admin-network-policies.yaml"
    result = run(*check(str(path), src="a", dst="b:80"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}:5: AdminNetworkPolicy guard: spec.priority: Required value\n"
        f"error: {path}:9: AdminNetworkPolicy guard: spec.ingress[0].action: Unsupported value: "
        '"Accept": supported values: "Allow", "Deny", "Pass"\n'
        f'error: {path}:1: AdminNetworkPolicy guard: <nil>: Invalid value: "null": some '
        "validation rules were not checked because the object was invalid; correct the existing "
        "errors to complete validation\n"
        f"error: {path}:13: BaselineAdminNetworkPolicy baseline: <nil>: Invalid value: "
        '"object": Only one baseline admin network policy with metadata.name="default" can be '
        "created in the cluster\n"
        f"error: {path}:25: BaselineAdminNetworkPolicy baseline: "
        'spec.egress[0].ports[0].portNumber.protocol: Unsupported value: "ICMP": supported '
        'values: "SCTP", "TCP", "UDP"\n'
        "5 error(s); nothing was evaluated\n"
    )

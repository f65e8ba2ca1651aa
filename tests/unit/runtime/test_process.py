"""Pod process plumbing that needs no root: resolv.conf, hosts, the command line built, the
environment each side of the privilege drop sees."""

from __future__ import annotations

import pytest

from podwall.runtime import podsandbox
from podwall.runtime.images import KIND_AGNHOST, KIND_HOST, Launch
from podwall.runtime.process import (
    POD_NAMESPACES,
    _process_env,
    hosts_file,
    pod_argv,
    resolv_conf,
    setpriv_flags,
)
from podwall.runtime.standins.privileges import POD_UID_ENV

STANDIN = Launch(("/py", "-m", "podwall.runtime.standins.agnhost", "pause"), {}, KIND_AGNHOST)


def test_resolv_conf_is_kubelets_cluster_first_file() -> None:
    assert resolv_conf("default") == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 198.19.0.10\n"
        "options ndots:5\n"
    )


def test_resolv_conf_takes_another_dns_address() -> None:
    assert "nameserver 198.19.0.53\n" in resolv_conf("kube-system", "198.19.0.53")


def test_hosts_file_names_the_pod_after_localhost() -> None:
    text = hosts_file("backend-65f7c794cc-b9j66", "198.18.0.2")
    assert text.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert text.endswith("198.18.0.2\tbackend-65f7c794cc-b9j66\n")


def _argv(launch: Launch, *, tty: bool = False) -> list[str]:
    return pod_argv(init_pid=4242, uid=200007, launch=launch, hostname="web", tty=tty)


def test_a_host_command_joins_every_namespace_of_the_pods_init() -> None:
    argv = _argv(Launch(("sleep", "9"), {"PATH": "/bin"}, KIND_HOST))
    assert argv[0].endswith("nsenter")
    assert argv[1:7] == ["--target=4242", *POD_NAMESPACES]
    assert set(POD_NAMESPACES) == {"--net", "--mount", "--uts", "--ipc", "--pid"}
    assert argv[7] == "--"


def test_a_host_command_drops_to_the_pods_uid_before_its_environment_is_set() -> None:
    argv = _argv(Launch(("sleep", "9"), {"PATH": "/bin", "LD_PRELOAD": "/tmp/x.so"}, KIND_HOST))
    assert argv[8].endswith("setpriv")
    assert argv[9:16] == [*setpriv_flags(200007), "--"]
    assert argv[16].endswith("/env")
    assert argv[17:] == [
        "-i", "--", "PATH=/bin", "LD_PRELOAD=/tmp/x.so", "HOSTNAME=web", "sleep", "9",
    ]  # fmt: skip


def test_setpriv_leaves_the_uid_no_groups_no_capabilities_and_no_new_privileges() -> None:
    assert set(setpriv_flags(200007)) == {
        "--reuid=200007", "--regid=200007", "--clear-groups", "--inh-caps=-all",
        "--bounding-set=-all", "--no-new-privs",
    }  # fmt: skip


def test_a_terminal_becomes_the_commands_controlling_terminal_in_a_session_of_its_own() -> None:
    argv = _argv(Launch(("sh",), {}, KIND_HOST), tty=True)
    assert argv[8].endswith("setsid")
    assert argv[9] == "--ctty"
    assert argv[10].endswith("setpriv")


def test_stand_ins_skip_setpriv_and_ignore_python_variables() -> None:
    assert _argv(STANDIN)[8:11] == ["/py", "-I", "-c"]
    module = ["podwall.runtime.standins.agnhost", "pause"]
    assert _argv(STANDIN)[12:] == [podsandbox.SOURCE_ROOT, *module]


def test_the_root_side_of_a_host_command_sees_path_alone() -> None:
    launch = Launch(("sleep", "9"), {"PATH": "/x", "LD_PRELOAD": "/tmp/x.so"}, KIND_HOST)
    assert set(_process_env(launch, "web", 200007)) == {"PATH"}


@pytest.mark.parametrize(
    "name",
    ["LD_PRELOAD", "LD_LIBRARY_PATH", "GCONV_PATH", "PYTHONPATH", "PYTHONHOME", "MALLOC_CHECK_",
     "GLIBC_TUNABLES", "TMPDIR"],
)  # fmt: skip
def test_a_stand_in_started_as_root_never_gets_a_variable_the_loader_acts_on(name: str) -> None:
    launch = Launch(STANDIN.argv, {"PORT": "8080", name: "/tmp/x"}, KIND_AGNHOST)
    assert _process_env(launch, "web", 200007) == {
        "PORT": "8080", "HOSTNAME": "web", POD_UID_ENV: "200007",
    }  # fmt: skip


def test_a_container_cannot_choose_the_uid_its_stand_in_drops_to() -> None:
    launch = Launch(STANDIN.argv, {POD_UID_ENV: "0"}, KIND_AGNHOST)
    assert _process_env(launch, "web", 200007)[POD_UID_ENV] == "200007"


@pytest.mark.parametrize(
    "hostname",
    [
        pytest.param("-n", id="a hostname that reads as an option is refused"),
        pytest.param("Web_1", id="a hostname with capitals or underscores is refused"),
    ],
)
def test_bad_hostnames_are_refused(hostname: str) -> None:
    with pytest.raises(ValueError, match="must be"):
        pod_argv(init_pid=1, uid=200000, launch=STANDIN, hostname=hostname)

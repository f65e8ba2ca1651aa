"""Pod process plumbing that needs no root: resolv.conf, hosts, and the command line built."""

from __future__ import annotations

import pytest

from podwall.runtime.images import KIND_AGNHOST, KIND_HOST, Launch
from podwall.runtime.process import (
    SETPRIV_FLAGS,
    hosts_file,
    pod_argv,
    resolv_conf,
    set_hostname_and_exec,
)


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


def test_host_commands_run_through_setpriv() -> None:
    argv = pod_argv(netns="pw-a-p1", hostname="web", launch=Launch(("sleep", "9"), {}, KIND_HOST))
    assert argv[1:4] == ["netns", "exec", "pw-a-p1"]
    assert argv[5:7] == ["--uts", "--"]
    assert argv[7:11] == ["/bin/sh", "-c", set_hostname_and_exec(), "web"]
    assert set_hostname_and_exec().endswith('/hostname "$0" && exec "$@"')
    assert argv[11].endswith("setpriv")
    assert argv[12:] == [*SETPRIV_FLAGS, "--", "sleep", "9"]


def test_setpriv_leaves_uid_65534_and_no_capabilities() -> None:
    assert {"--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs"} == set(SETPRIV_FLAGS)  # fmt: skip


def test_stand_ins_skip_setpriv_and_drop_privileges_themselves() -> None:
    launch = Launch(("/py", "-m", "podwall.runtime.standins.agnhost", "pause"), {}, KIND_AGNHOST)
    argv = pod_argv(netns="pw-a-p1", hostname="web", launch=launch)
    assert argv[11:] == ["/py", "-m", "podwall.runtime.standins.agnhost", "pause"]


@pytest.mark.parametrize(
    ("netns", "hostname"),
    [
        pytest.param("../etc", "web", id="a namespace name with a slash is refused"),
        pytest.param("pw-a", "-n", id="a hostname that reads as an option is refused"),
        pytest.param("pw-a", "Web_1", id="a hostname with capitals or underscores is refused"),
    ],
)
def test_bad_names_are_refused(netns: str, hostname: str) -> None:
    with pytest.raises(ValueError, match=r"invalid|must be"):
        pod_argv(netns=netns, hostname=hostname, launch=Launch(("true",), {}, KIND_HOST))

"""The host files of the image table (busybox's applet links and wget script, nginx's config)
and the files a pod's own root gets (`/agnhost`)."""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from podwall.runtime import imagefiles
from podwall.runtime.imagefiles import (
    AGNHOST_SOURCES,
    NC_SCRIPT,
    NGINX_CONFIG,
    PING_SCRIPT,
    SYSTEM_PYTHON,
    WGET_SCRIPT,
    agnhost_program,
    install_applets,
    pod_files,
)

BUSYBOX = "/usr/bin/busybox"


def test_each_applet_is_a_link_to_busybox(tmp_path: Path) -> None:
    install_applets(tmp_path / "bin", BUSYBOX, ["sh", "ls", "wget"])
    links = {e.name: os.readlink(e) for e in (tmp_path / "bin").iterdir() if e.is_symlink()}
    assert links == {"sh": BUSYBOX, "ls": BUSYBOX, "busybox": BUSYBOX}


def test_nc_is_the_verbose_script_where_the_host_has_a_system_python(tmp_path: Path) -> None:
    install_applets(tmp_path / "bin", BUSYBOX, ["sh", "nc"])
    nc = tmp_path / "bin" / "nc"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        assert os.readlink(nc) == BUSYBOX
        return
    assert not nc.is_symlink()
    assert nc.read_text().splitlines()[0] == f"#!{SYSTEM_PYTHON} -I"
    assert os.access(nc, os.X_OK)


def test_ping_is_the_ping_socket_script_where_the_host_has_a_system_python(tmp_path: Path) -> None:
    install_applets(tmp_path / "bin", BUSYBOX, ["sh", "ping"])
    ping = tmp_path / "bin" / "ping"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        assert os.readlink(ping) == BUSYBOX
        return
    assert ping.read_text() == PING_SCRIPT.format(python=SYSTEM_PYTHON, busybox=BUSYBOX)
    assert os.access(ping, os.X_OK)


def test_wget_is_the_timeout_script_run_by_busybox_sh(tmp_path: Path) -> None:
    directory = tmp_path / "bin"
    install_applets(directory, BUSYBOX, ["sh", "wget"])
    script = (directory / "wget").read_text()
    assert script.splitlines()[0] == f"#!{directory}/sh"
    assert f'{BUSYBOX} timeout -s INT "$t" {BUSYBOX} wget "$@"' in script
    assert os.access(directory / "wget", os.X_OK)


def test_a_changed_applet_list_replaces_the_directory(tmp_path: Path) -> None:
    directory = tmp_path / "bin"
    install_applets(directory, BUSYBOX, ["sh", "ls"])
    install_applets(directory, BUSYBOX, ["sh"])
    assert sorted(e.name for e in directory.iterdir()) == ["busybox", "sh"]
    assert sorted(e.name for e in tmp_path.iterdir()) == ["bin"]


def test_the_wget_script_keeps_braces_of_shell_expansions() -> None:
    script = WGET_SCRIPT.format(applets="/a", busybox="/b", python="/p")
    assert "t=${a#--timeout=}" in script


@pytest.mark.parametrize(
    ("args", "host"),
    [
        (["-q", "--timeout=5", "nginx", "-O", "-"], "nginx"),
        (["-T", "2", "-O", "out", "http://web:8080/x"], "web:8080"),
        (["--timeout", "1", "-qO-", "svc.ns"], "svc.ns"),
    ],
    ids=["the URL before -O -", "a URL after -O FILE", "-qO- is no value's option"],
)
def test_the_wget_script_looks_up_the_urls_host_not_an_options_value(
    tmp_path: Path, args: list[str], host: str
) -> None:
    refuse = tmp_path / "python"  # every lookup fails: the message names what was looked up
    refuse.write_text("#!/bin/sh\nexit 1\n")
    refuse.chmod(0o755)
    script = tmp_path / "wget"
    script.write_text(WGET_SCRIPT.format(applets="/bin", busybox=BUSYBOX, python=refuse))
    script.chmod(0o755)
    done = subprocess.run([str(script), *args], capture_output=True, text=True, timeout=10)
    assert (done.returncode, done.stderr) == (1, f"wget: bad address '{host}'\n")


def test_nginx_runs_unprivileged_with_its_files_in_tmp() -> None:
    lines = [line.strip() for line in NGINX_CONFIG.splitlines()]
    assert "daemon off;" in lines
    assert "pid /tmp/nginx.pid;" in lines
    assert "listen 80;" in lines
    assert not any(line.startswith("user ") for line in lines)
    temp_paths = [line for line in lines if line.split(" ")[0].endswith("_temp_path")]
    assert temp_paths
    assert all(" /tmp/" in line for line in temp_paths)


def _nc(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "nc"
    script.write_text(NC_SCRIPT.format(python=sys.executable, busybox="/nonexistent"))
    script.chmod(0o755)
    return subprocess.run(
        [str(script), *args],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_nc_says_open_as_alpines_busybox_does(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        done = _nc(tmp_path, "-vz", "-w", "2", "127.0.0.1", str(port))
    assert (done.returncode, done.stderr) == (0, f"127.0.0.1 (127.0.0.1:{port}) open\n")


def test_nc_names_the_address_it_could_not_reach(tmp_path: Path) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # bound, not listening: refused
        done = _nc(tmp_path, "-v", "-w", "2", "127.0.0.1", str(port))
    assert done.returncode == 1
    assert done.stderr == f"nc: 127.0.0.1 (127.0.0.1:{port}): Connection refused\n"


@pytest.mark.parametrize(
    ("images", "paths"),
    [
        (["registry.k8s.io/e2e-test-images/agnhost:2.33"], ["/agnhost"]),
        (["k8s.gcr.io/e2e-test-images/agnhost:2.21", "alpine"], ["/agnhost"]),
        (["alpine", "nginx"], []),
        ([], []),
    ],
    ids=["agnhost", "agnhost beside alpine", "no agnhost", "no image"],
)
def test_pod_files_puts_agnhost_in_agnhost_pods(
    tmp_path: Path, images: list[str], paths: list[str]
) -> None:
    files = pod_files(images, tmp_path)
    assert sorted(files) == paths
    for source in files.values():
        assert source.is_relative_to(tmp_path)
        assert source.stat().st_mode & 0o777 == 0o755


def test_pod_files_rewrites_a_changed_program_only(tmp_path: Path) -> None:
    program = pod_files(["agnhost"], tmp_path)["/agnhost"]
    inode = program.stat().st_ino
    assert pod_files(["agnhost"], tmp_path)["/agnhost"].stat().st_ino == inode
    program.write_bytes(b"stale")
    assert pod_files(["agnhost"], tmp_path)["/agnhost"].read_bytes().startswith(b"#!")


def test_the_agnhost_program_is_a_zip_application_run_isolated(tmp_path: Path) -> None:
    program = agnhost_program(sys.executable)
    first_line, _, _ = program.partition(b"\n")
    assert first_line == f"#!{sys.executable} -I".encode()
    path = tmp_path / "agnhost"
    path.write_bytes(program)
    path.chmod(0o755)
    with zipfile.ZipFile(path) as zipped:
        assert sorted(zipped.namelist()) == sorted([*AGNHOST_SOURCES, "__main__.py"])
    # --help is answered before the stand-in drops privileges: this run stays as it is.
    done = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: agnhost")


def test_the_agnhost_program_holds_every_podwall_module_the_stand_in_imports() -> None:
    root = Path(imagefiles.__file__).resolve().parents[2]
    held = {
        name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in AGNHOST_SOURCES
    }
    for name in AGNHOST_SOURCES:
        tree = ast.parse((root / name).read_text())
        imported = {
            node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("podwall")
        }
        assert imported <= held, (name, imported - held)


# The ping script in a network namespace of its own, as a pod's unprivileged user: the range of
# groups that may open ping sockets is the pod's (`netns`), or none (the kernel's default).
NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")


def _ping(setup: str, *args: str, ping_sockets: bool = True) -> tuple[int, str]:
    """The script, read from stdin by the host's system Python (which the user may run)."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.skip(f"no {SYSTEM_PYTHON} on this host")
    groups = "0 2147483647" if ping_sockets else "1 0"
    line = (
        f"ip link set lo up && sysctl -qw net.ipv4.ping_group_range='{groups}' && {setup}"
        f"exec {' '.join(NOBODY)} {SYSTEM_PYTHON} -I - {' '.join(args)}"
    )
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", line],
        input=PING_SCRIPT.format(python=SYSTEM_PYTHON, busybox=BUSYBOX),
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def _times(output: str) -> str:
    """`output` with its round-trip times as `T` (they differ run to run)."""
    return re.sub(r"\d+\.\d{3}", "T", output)


@pytest.mark.netns
def test_ping_says_what_busyboxs_ping_says_for_replies() -> None:
    code, out = _ping("", "-c3", "127.0.0.1")
    assert code == 0, out
    assert _times(out) == (
        "PING 127.0.0.1 (127.0.0.1): 56 data bytes\n"
        "64 bytes from 127.0.0.1: seq=0 ttl=64 time=T ms\n"
        "64 bytes from 127.0.0.1: seq=1 ttl=64 time=T ms\n"
        "64 bytes from 127.0.0.1: seq=2 ttl=64 time=T ms\n"
        "\n--- 127.0.0.1 ping statistics ---\n"
        "3 packets transmitted, 3 packets received, 0% packet loss\n"
        "round-trip min/avg/max = T/T/T ms\n"
    )


@pytest.mark.netns
def test_ping_quiet_names_the_host_as_typed() -> None:
    code, out = _ping("", "-q", "-c", "1", "-s", "8", "localhost")
    assert code == 0, out
    assert _times(out) == (
        "PING localhost (127.0.0.1): 8 data bytes\n"
        "\n--- localhost ping statistics ---\n"
        "1 packets transmitted, 1 packets received, 0% packet loss\n"
        "round-trip min/avg/max = T/T/T ms\n"
    )


@pytest.mark.netns
def test_ping_without_replies_waits_w_seconds_and_fails() -> None:
    # Echo requests dropped on the way in: nothing comes back (as under a NetworkPolicy).
    drop = (
        "nft add table ip t && nft add chain ip t c '{ type filter hook input priority 0; }' && "
        "nft add rule ip t c icmp type echo-request drop && "
    )
    code, out = _ping(drop, "-c", "2", "-W", "1", "127.0.0.1")
    assert (code, out) == (
        1,
        "PING 127.0.0.1 (127.0.0.1): 56 data bytes\n"
        "\n--- 127.0.0.1 ping statistics ---\n"
        "2 packets transmitted, 0 packets received, 100% packet loss\n",
    )


@pytest.mark.netns
def test_ping_without_ping_sockets_is_busyboxs_own() -> None:
    code, out = _ping("", "-c", "1", "127.0.0.1", ping_sockets=False)
    assert code == 1
    assert out.endswith("ping: permission denied (are you root?)\n"), out


@pytest.mark.netns
def test_ping_says_bad_address_for_a_name_that_does_not_resolve() -> None:
    code, out = _ping("", "-c", "1", "no-such-host.invalid")
    assert (code, out) == (1, "ping: bad address 'no-such-host.invalid'\n")

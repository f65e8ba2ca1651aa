"""The host files of the image table: busybox's applet links and wget script, nginx's config."""

from __future__ import annotations

import os
from pathlib import Path

from podwall.runtime.imagefiles import NGINX_CONFIG, WGET_SCRIPT, install_applets

BUSYBOX = "/usr/bin/busybox"


def test_each_applet_is_a_link_to_busybox(tmp_path: Path) -> None:
    install_applets(tmp_path / "bin", BUSYBOX, ["sh", "nc", "wget"])
    links = {e.name: os.readlink(e) for e in (tmp_path / "bin").iterdir() if e.is_symlink()}
    assert links == {"sh": BUSYBOX, "nc": BUSYBOX, "busybox": BUSYBOX}


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
    script = WGET_SCRIPT.format(applets="/a", busybox="/b")
    assert "t=${a#--timeout=}" in script


def test_nginx_runs_unprivileged_with_its_files_in_tmp() -> None:
    lines = [line.strip() for line in NGINX_CONFIG.splitlines()]
    assert "daemon off;" in lines
    assert "pid /tmp/nginx.pid;" in lines
    assert "listen 80;" in lines
    assert not any(line.startswith("user ") for line in lines)
    temp_paths = [line for line in lines if line.split(" ")[0].endswith("_temp_path")]
    assert temp_paths
    assert all(" /tmp/" in line for line in temp_paths)

"""Browser tests of `podwall editor`: Playwright driving Debian's Chromium, headless, by path.

Tests carry the `browser` marker. Without /usr/bin/chromium or the playwright package they
skip with the reason, except in CI (CI=true or PODWALL_REQUIRE_ALL=1), where they fail. The
editor runs as a subprocess on 127.0.0.1 and is always stopped; Chromium's flags keep it
from making any outside connection. Screenshots go to artifacts/editor/ (git-ignored).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
ARTIFACTS = ROOT / "artifacts" / "editor"
REQUIRE_ALL = os.environ.get("PODWALL_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"
MARKER = "browser: drives the editor in Chromium with Playwright (needs /usr/bin/chromium)"
URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/\?token=\S+)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def missing_browser_needs() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if find_spec("playwright") is None:
        missing.append("the playwright package")
    return missing


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is None:
        return
    missing = missing_browser_needs()
    if not missing:
        return
    reason = "needs " + ", ".join(missing)
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


class Editor:
    """A running `podwall editor` subprocess and the URL it printed."""

    def __init__(self, paths: list[Path]) -> None:
        args = [sys.executable, "-m", "podwall.cli.editor", "--port", "0"]
        for path in paths:
            args += ["-f", str(path)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        self.url = self._read_url()

    def _read_url(self) -> str:
        found: list[str] = []
        seen: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                seen.append(line)
                match = URL_LINE.search(line)
                if match:
                    found.append(match.group(1))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=60)
        if not found:
            self.stop()
            pytest.fail("podwall editor printed no URL:\n" + "".join(seen), pytrace=False)
        return found[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def editor_server() -> Iterator[Editor]:
    """The editor on the lab's app and its default-deny policy, as after task 10.1.3."""
    server = Editor([TUTORIAL / "simple-app.yaml", TUTORIAL / "backend-ingress-deny.yaml"])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    if missing_browser_needs():
        pytest.skip("needs Chromium and playwright")  # pytest_runtest_setup already decided
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, editor_server: Editor) -> Iterator[Any]:
    """The editor open and ready; console errors fail the test."""
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.goto(editor_server.url)
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    try:
        yield page
    finally:
        context.close()
    assert not errors, "\n".join(errors)


@pytest.fixture
def shot() -> Any:
    """Save a full-page screenshot under artifacts/editor/NAME.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

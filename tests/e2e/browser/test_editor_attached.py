"""The editor attached to a running local cluster, in the browser: the lab by clicks.

The tutorial's steps applied to the cluster with "Apply it to the cluster", then "Run the
tutorial's checks": curl from each client pod through the API server's exec, its output and
exit status next to the engine's prediction, and the connections the nodes reported on the
picture, coloured by verdict with the deciding policy; the API server's 422 shown for an
invalid draft.
Screenshots: artifacts/editor/attached-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.attached import attached_editor, lab_cluster, wait_until_enforced

pytestmark = [pytest.mark.browser, pytest.mark.kubectl, pytest.mark.netns]

CHECKS_TIMEOUT = 90_000  # ms: two curls of 5 s each, in parallel, plus exec round trips, loaded
FLOWS_TIMEOUT = 60_000  # ms: the page polls the flows every 2 s; the node writes them a moment late


@pytest.fixture
def live_page(chromium: Any, tmp_path: Path) -> Iterator[tuple[Any, Any, Any, Any]]:
    with (
        lab_cluster(tmp_path) as (local, kubectl),
        attached_editor(local.server.kubeconfig_path) as editor,
    ):
        context = chromium.new_context(viewport={"width": 1500, "height": 1100})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        page.on(
            "console",
            lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None,
        )
        page.goto(editor.url)
        page.wait_for_selector("body[data-ready=true]", timeout=60_000)
        try:
            yield page, local, kubectl, editor
        finally:
            context.close()
        assert not errors, "\n".join(errors)


def run_checks(page: Any) -> dict[str, Any]:
    page.get_by_test_id("live-tutorial").click()
    page.get_by_test_id("live-running").wait_for()
    page.get_by_test_id("live-running").wait_for(state="detached", timeout=CHECKS_TIMEOUT)
    page.get_by_test_id("live-results").wait_for()
    rows = page.get_by_test_id("live-result")
    assert rows.count() == 2
    out = {}
    for n in range(rows.count()):
        row = rows.nth(n)
        app = row.get_attribute("data-from").split("/")[1].rsplit("-", 2)[0]
        out[app] = row
    return out


def test_the_lab_by_clicks_on_a_live_cluster(live_page: Any, shot: Any) -> None:
    from playwright.sync_api import expect

    page, local, kubectl, _ = live_page
    assert page.get_by_test_id("tab-live").get_attribute("aria-selected") == "true"
    expect(page.get_by_test_id("apply")).to_be_visible()

    page.get_by_role("button", name="Tutorial", exact=True).click()
    page.get_by_test_id("tutorial-step").wait_for()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Apply it to the cluster").click()
    expect(page.get_by_test_id("live-applied")).to_contain_text("backend-ingress-deny created")
    assert "backend-ingress-deny" in kubectl("get", "netpol").stdout
    wait_until_enforced(local, kubectl, frontend_reaches=False)
    rows = run_checks(page)
    for row in rows.values():
        assert row.get_attribute("data-exit") == "28"
        assert row.get_attribute("data-predicted") == "false"
        assert row.get_attribute("data-agrees") == "true"
        expect(row.get_by_test_id("live-output")).to_contain_text("curl: (28)")
    expect(rows["frontend"]).to_contain_text("kubectl exec frontend-")
    expect(rows["frontend"]).to_contain_text("-- curl -I --connect-timeout 5 backend:8080")
    denied = page.locator("[data-testid=real-flow][data-verdict=DENIED]")
    expect(denied.first).to_contain_text(
        "denied by the default deny of default/backend-ingress-deny", timeout=FLOWS_TIMEOUT
    )
    expect(denied.first).to_have_class(re.compile(r"\bdenied\b"))
    shot(page, "attached-deny")

    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Apply it to the cluster").click()
    expect(page.get_by_test_id("live-applied")).to_contain_text(
        "backend-allow-ingress-frontend created"
    )
    wait_until_enforced(local, kubectl, frontend_reaches=True)
    rows = run_checks(page)
    assert rows["frontend"].get_attribute("data-exit") == "0"
    assert rows["frontend"].get_attribute("data-predicted") == "true"
    expect(rows["frontend"].get_by_test_id("live-output")).to_contain_text("HTTP/1.1 200 OK")
    assert rows["not-frontend"].get_attribute("data-exit") == "28"
    assert rows["not-frontend"].get_attribute("data-predicted") == "false"
    for row in rows.values():
        assert row.get_attribute("data-agrees") == "true"
    allowed = page.locator("[data-testid=real-flow][data-verdict=ALLOWED]")
    expect(allowed.first).to_contain_text(
        "allowed by default/backend-allow-ingress-frontend ingress[0] from[0]",
        timeout=FLOWS_TIMEOUT,
    )
    expect(allowed.first).to_contain_text("(service default/backend)")
    page.get_by_role("button", name="Close the tutorial").click()
    shot(page, "attached-allow")


def test_the_api_servers_refusal_and_a_check_of_my_own(live_page: Any, shot: Any) -> None:
    from playwright.sync_api import expect

    page, _, kubectl, _ = live_page
    page.get_by_test_id("policy-name").fill("bad-cidr")
    page.get_by_test_id("policy-name").press("Enter")
    page.get_by_test_id("add-ingress-cidr").click()
    field = page.get_by_test_id("cidr-0")
    field.fill("10.0.0.0/33")
    field.press("Enter")
    page.get_by_test_id("yaml-error").first.wait_for()
    page.get_by_test_id("apply").click()
    refused = page.get_by_test_id("live-refused")
    expect(refused).to_contain_text("Error from server (Invalid)")
    expect(refused).to_contain_text("spec.ingress[0].from[0].ipBlock.cidr")
    assert "bad-cidr" not in kubectl("get", "netpol").stdout
    shot(page, "attached-refused")

    page.get_by_test_id("live-from").fill("deploy/not-frontend")
    page.get_by_test_id("live-to").fill("svc/backend")
    page.get_by_test_id("live-port").fill("8080")
    page.get_by_test_id("live-check-go").click()
    page.get_by_test_id("live-results").wait_for(timeout=CHECKS_TIMEOUT)
    row = page.get_by_test_id("live-result")
    assert row.count() == 1
    assert row.get_attribute("data-exit") == "0"
    assert row.get_attribute("data-agrees") == "true"

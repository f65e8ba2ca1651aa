"""The editor in a real browser: the lab's policy by clicks, real verdicts, errors, keyboard."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

try:
    from playwright.sync_api import expect
except ImportError:  # conftest skips every test here (and fails them in CI)
    expect = None


pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
TUTORIAL = ROOT / "examples" / "tutorial"
ALLOW = TUTORIAL / "backend-allow-ingress-frontend.yaml"
DOCS_SHOT = ROOT / "docs" / "editor.png"


def yaml_text(page: Any) -> str:
    return str(page.get_by_test_id("yaml").input_value())


def wait_yaml(page: Any, fragment: str) -> None:
    page.wait_for_function(
        "(f) => document.querySelector('[data-testid=yaml]').value.includes(f)", arg=fragment
    )


def commit(locator: Any, text: str) -> None:
    """Type into a field and commit it, as Enter does."""
    locator.fill(text)
    locator.press("Enter")


def build_tutorial_policy(page: Any) -> None:
    """Task 10.1.5 in the editor: name, pod selector, ingress default deny, allow frontend."""
    commit(page.get_by_test_id("policy-name"), "backend-allow-ingress-frontend")
    wait_yaml(page, '"backend-allow-ingress-frontend"')
    page.get_by_role("button", name="Add a label to pod selector").click()
    commit(page.get_by_label("pod selector label 1 key", exact=True), "app")
    commit(page.get_by_label("pod selector label 1 value", exact=True), "backend")
    wait_yaml(page, "app: backend")
    switch = page.get_by_role("switch", name="Default deny ingress")
    if switch.get_attribute("aria-checked") != "true":
        switch.click()
    page.get_by_test_id("add-ingress-namespace").click()
    commit(page.get_by_label("peer 1 pod selector label 1 key", exact=True), "app")
    commit(page.get_by_label("peer 1 pod selector label 1 value", exact=True), "frontend")
    wait_yaml(page, "app: frontend")


def test_tutorial_policy_by_clicks_renders_the_tutorial_yaml(page: Any, shot: Any) -> None:
    build_tutorial_policy(page)
    assert page.get_by_role("switch", name="Default deny ingress").get_attribute(
        "aria-checked"
    ) == ("true")
    assert yaml.safe_load(yaml_text(page)) == yaml.safe_load(ALLOW.read_text())
    # The flows, as the engine decided them: app=frontend admitted, everything else denied.
    chip = page.get_by_test_id("peer-ingress-0-0")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=peer-ingress-0-0]').dataset.state !== 'unknown'"
    )
    assert chip.get_attribute("data-state") == "allowed"
    others = page.get_by_test_id("others-ingress-namespace")
    assert others.get_attribute("data-state") == "denied"
    assert page.get_by_test_id("others-egress-namespace").get_attribute("data-state") == "allowed"
    assert page.get_by_test_id("yaml-valid").is_visible()
    page.evaluate("() => document.activeElement.blur()")
    page.mouse.move(0, 0)
    path = shot(page, "tutorial-policy")
    DOCS_SHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, DOCS_SHOT)


def flow(page: Any, src: str, dst: str, port: int) -> Any:
    return page.locator(
        f'[data-testid=flow-row][data-from="{src}"][data-to="{dst}"][data-port="{port}"]'
    )


def test_tutorial_manifests_frontend_green_not_frontend_red(page: Any, shot: Any) -> None:
    page.get_by_role("button", name="Import…").click()
    page.get_by_test_id("import-text").fill(ALLOW.read_text())
    page.get_by_test_id("import-draft").click()
    wait_yaml(page, "app: frontend")
    page.get_by_test_id("tab-flows").click()
    good = flow(page, "default/frontend", "default/backend", 8080)
    bad = flow(page, "default/not-frontend", "default/backend", 8080)
    good.wait_for()
    assert good.get_attribute("data-allowed") == "true"
    assert bad.get_attribute("data-allowed") == "false"
    assert page.get_by_test_id("selected-pod").count() == 1
    shot(page, "cluster-flows")

    page.get_by_test_id("tab-try").click()
    page.get_by_test_id("try-from").fill("not-frontend")
    page.get_by_test_id("try-to").fill("backend")
    page.get_by_test_id("try-port").fill("8080")
    page.get_by_test_id("try-go").click()
    explanation = page.get_by_test_id("try-explanation")
    explanation.wait_for()
    text = explanation.inner_text()
    assert text.startswith("DENIED")
    assert "backend-ingress-deny: selects it by podSelector {app: backend}" in text
    assert "default deny" in text
    shot(page, "try-connection")

    page.get_by_test_id("tab-matrix").click()
    cell = page.locator(
        "[data-testid=grid-cell]"
        '[data-from="default/deployment frontend"][data-to="default/deployment backend"]'
    )
    cell.wait_for()
    assert cell.inner_text() == "all+"  # newly allowed by the draft, on every port
    not_frontend = page.locator(
        "[data-testid=grid-cell]"
        '[data-from="default/deployment not-frontend"][data-to="default/deployment backend"]'
    )
    assert not_frontend.inner_text() == "none"
    page.get_by_test_id("diff").locator("[data-testid=diff-allowed] li").first.wait_for()
    assert (
        "default/frontend → default/backend: all ports"
        in page.get_by_test_id("diff-allowed").inner_text()
    )
    shot(page, "matrix-diff")


def test_invalid_cidr_error_at_the_field(page: Any, shot: Any) -> None:
    page.get_by_test_id("add-ingress-cidr").click()
    field = page.get_by_test_id("cidr-0")
    commit(field, "10.0.0.0/33")
    error = page.locator('.field-error[data-error-for="spec.ingress[0].from[0].ipBlock.cidr"]')
    expect(error).to_have_text(
        'spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": '
        "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    assert page.get_by_test_id("yaml-error").first.inner_text().startswith("line ")
    shot(page, "invalid-cidr")
    commit(field, "10.0.0.0/16")
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("yaml-valid")).to_be_visible()


def test_yaml_pane_edits_reach_the_picture(page: Any) -> None:
    page.get_by_test_id("yaml").fill(
        ALLOW.read_text().replace("frontend\n", "frontend\n      ports:\n        - port: 8080\n")
    )
    page.get_by_test_id("peer-ingress-0-0").wait_for()
    assert "TCP 8080" in page.get_by_test_id("peer-ingress-0-0").inner_text()
    assert page.get_by_test_id("policy-name").input_value() == "backend-allow-ingress-frontend"
    page.get_by_test_id("yaml").fill(
        "kind: NetworkPolicy\nmetadata: {name: x}\n"
        "spec:\n  podSelector: {}\n  ingress: [{form: []}]\n"
    )
    page.get_by_test_id("yaml-error").first.wait_for()
    assert (
        'unknown field "spec.ingress[0].form"'
        in page.get_by_test_id("yaml-error").first.inner_text()
    )


def focused(page: Any) -> str:
    return str(
        page.evaluate("() => document.activeElement.dataset.key || document.activeElement.id")
    )


def test_keyboard_navigation(page: Any, shot: Any) -> None:
    page.get_by_test_id("policy-name").focus()
    page.keyboard.press("Tab")
    assert focused(page) == "meta-namespace"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    # Tab through the actions to the ingress switch, then toggle egress with Space.
    for _ in range(30):
        page.keyboard.press("Tab")
        if focused(page) == "switch-egress":
            break
    assert focused(page) == "switch-egress"
    switch = page.get_by_role("switch", name="Default deny egress")
    assert switch.get_attribute("aria-checked") == "false"
    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "true")
    wait_yaml(page, "- Egress")
    assert focused(page) == "switch-egress"  # focus survives the re-render
    # Enter on + Add opens the rule editor with focus in its first field; type a label.
    page.get_by_test_id("add-egress-namespace").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("peer 1 pod selector label 1 key", exact=True)).to_be_focused()
    page.keyboard.type("app")
    page.keyboard.press("Tab")
    page.keyboard.type("db")
    page.keyboard.press("Enter")
    wait_yaml(page, "app: db")
    # The view tabs move with the arrow keys.
    page.get_by_test_id("tab-flows").focus()
    page.keyboard.press("ArrowRight")
    assert focused(page) == "tab-try"
    assert page.get_by_test_id("tab-try").get_attribute("aria-selected") == "true"
    # The import dialog opens from the keyboard and Escape closes it.
    page.locator("#btn-import").focus()
    page.keyboard.press("Enter")
    assert page.locator("#import-dialog").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#import-dialog").is_visible()
    shot(page, "keyboard")


def test_tutorial_panel(page: Any, shot: Any) -> None:
    page.get_by_role("button", name="Tutorial").click()
    step = page.get_by_test_id("tutorial-step")
    step.wait_for()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Show me").click()
    wait_yaml(page, "backend-ingress-deny")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Next").click()
    assert "additive" in page.get_by_test_id("tutorial-step").inner_text()
    shot(page, "tutorial")


def test_import_by_file_and_by_drop_then_export(page: Any, tmp_path: Path) -> None:
    page.get_by_role("button", name="Import…").click()
    page.locator("#import-file").set_input_files(str(ALLOW))
    expect(page.locator("#import-name")).to_have_value("backend-allow-ingress-frontend.yaml")
    page.get_by_test_id("import-cluster").click()
    page.get_by_test_id("tab-manifests").click()
    expect(page.locator("#tabpanel")).to_contain_text("default/backend-allow-ingress-frontend")
    page.get_by_role("button", name="Policies that select default/backend").click()
    expect(page.get_by_test_id("pod-policies-default/backend")).to_contain_text(
        "ingress: default/backend-allow-ingress-frontend, default/backend-ingress-deny"
    )
    # Drop a file on the page: the import dialog opens with its text.
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "dropped-policy.yaml", {type: "application/yaml"}));
            document.body.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        ALLOW.read_text().replace("backend-allow-ingress-frontend", "dropped"),
    )
    expect(page.locator("#import-name")).to_have_value("dropped-policy.yaml")
    page.get_by_test_id("import-draft").click()
    wait_yaml(page, 'name: "dropped"')
    # Export: download and clipboard hold the canonical YAML.
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    target = tmp_path / "out.yaml"
    info.value.save_as(target)
    assert info.value.suggested_filename == "dropped.yaml"
    assert yaml.safe_load(target.read_text())["metadata"]["name"] == "dropped"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_test_id("copy").click()
    expect(page.locator("#toast")).to_have_text("YAML copied")
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == yaml_text(page)


def test_ports_ranges_named_ports_and_expressions_by_clicks(page: Any) -> None:
    page.get_by_test_id("add-egress-namespaces").click()
    expect(page.get_by_role("switch", name="Default deny egress")).to_have_attribute(
        "aria-checked", "true"
    )
    caption = "peer 1 namespace selector"
    commit(page.get_by_label(f"{caption} label 1 key", exact=True), "team")
    commit(page.get_by_label(f"{caption} label 1 value", exact=True), "db")
    page.get_by_role("button", name=f"Add an expression to {caption}").click()
    commit(page.get_by_label(f"{caption} expression 1 key", exact=True), "env")
    page.get_by_label(f"{caption} expression 1 operator", exact=True).select_option("NotIn")
    commit(page.get_by_label(f"{caption} expression 1 values, comma separated"), "dev, test")
    page.get_by_role("button", name="+ port").click()
    commit(page.get_by_label("Port 1: number or name (empty: all)"), "5432")
    commit(page.get_by_label("Port 1: end of range (optional)"), "5440")
    page.get_by_role("button", name="+ port").click()
    page.get_by_label("Port 2 protocol").select_option("UDP")
    commit(page.get_by_label("Port 2: number or name (empty: all)"), "metrics")
    wait_yaml(page, "metrics")
    spec = yaml.safe_load(yaml_text(page))["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"] == [
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"team": "db"},
                        "matchExpressions": [
                            {"key": "env", "operator": "NotIn", "values": ["dev", "test"]}
                        ],
                    }
                }
            ],
            "ports": [
                {"protocol": "TCP", "port": 5432, "endPort": 5440},
                {"protocol": "UDP", "port": "metrics"},
            ],
        }
    ]
    chip = page.get_by_test_id("peer-egress-0-0")
    expect(chip).to_contain_text("TCP 5432-5440, UDP metrics")
    expect(chip).to_have_attribute("data-state", "allowed")
    # Removing the rule from the keyboard leaves focus on the side's switch.
    page.get_by_test_id("remove-rule").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("switch", name="Default deny egress")).to_be_focused()
    assert "metrics" not in yaml_text(page)

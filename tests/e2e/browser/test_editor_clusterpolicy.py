"""A ClusterNetworkPolicy in the editor, in a real browser: built by clicks, its YAML, its
errors at the field, and its tier in "try a connection"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser.test_editor import commit, wait_yaml

pytestmark = pytest.mark.browser


def test_an_admin_policy_by_clicks_and_its_tier_in_try(page: Any, shot: Any) -> None:
    page.get_by_test_id("new-cluster-policy").click()
    wait_yaml(page, "kind: ClusterNetworkPolicy")
    assert page.get_by_test_id("policy-namespace").is_hidden()  # cluster-scoped
    commit(page.get_by_test_id("policy-name"), "deny-not-frontend")
    wait_yaml(page, '"deny-not-frontend"')
    commit(page.get_by_test_id("cnp-priority"), "10")
    wait_yaml(page, "priority: 10")
    page.get_by_test_id("cnp-subject-type").select_option("pods")
    wait_yaml(page, "pods:")
    page.get_by_role("button", name="Add a label to subject pods").click()
    commit(page.get_by_label("subject pods label 1 key", exact=True), "app")
    commit(page.get_by_label("subject pods label 1 value", exact=True), "backend")
    wait_yaml(page, "app: backend")

    page.get_by_test_id("cnp-add-ingress").click()
    commit(page.get_by_test_id("cnp-rule-name"), "no-not-frontend")
    page.get_by_label("Peer 1 kind").select_option("pods")
    wait_yaml(page, "from:")
    page.get_by_role("button", name="Add a label to peer 1 pods").click()
    commit(page.get_by_label("peer 1 pods label 1 key", exact=True), "app")
    commit(page.get_by_label("peer 1 pods label 1 value", exact=True), "not-frontend")
    wait_yaml(page, "app: not-frontend")
    rule = page.get_by_test_id("cnp-rule-ingress-0")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=cnp-rule-ingress-0]')"
        ".innerText.includes('{app: not-frontend}')"
    )
    assert rule.inner_text().startswith("Deny 'no-not-frontend' from pods {app: not-frontend}")
    assert "selects default/backend" in page.get_by_test_id("cnp-subject").inner_text()
    assert page.get_by_test_id("yaml-valid").is_visible()
    shot(page, "cluster-policy")

    page.get_by_test_id("tab-try").click()
    page.get_by_test_id("try-from").fill("not-frontend")
    page.get_by_test_id("try-to").fill("backend")
    page.get_by_test_id("try-port").fill("8080")
    page.get_by_test_id("try-go").click()
    tier = page.get_by_test_id("try-tier").first
    tier.wait_for()
    assert tier.inner_text() == "ingress: Admin tier → Deny · deny-not-frontend (priority 10)"
    explanation = page.get_by_test_id("try-explanation").inner_text()
    assert explanation.startswith("DENIED")
    assert "denied by admin/deny-not-frontend rule 'no-not-frontend'" in explanation


def test_a_cluster_policy_from_yaml_and_its_error_at_the_field(page: Any) -> None:
    text = (
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
        "metadata:\n  name: baseline-deny\nspec:\n  tier: Baseline\n  priority: 1001\n"
        "  subject:\n    namespaces: {}\n  ingress:\n  - action: Deny\n    from:\n"
        "    - namespaces: {}\n"
    )
    page.get_by_test_id("yaml").fill(text)
    error = page.get_by_test_id("yaml-error").first
    error.wait_for()
    assert error.inner_text().startswith("line 7: spec.priority: Invalid value: 1001")
    assert "Baseline tier" in page.get_by_test_id("cnp-picture").inner_text()
    page.get_by_test_id("yaml").fill(text.replace("1001", "1000"))
    page.get_by_test_id("yaml-valid").wait_for()
    assert page.get_by_test_id("cnp-priority").input_value() == "1000"

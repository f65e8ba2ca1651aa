"""The editor on a generated 1,500-pod cluster: every view answers, the grid stays small.

The issue's acceptance is "each view answers within a second"; as the house keeps timings out
of assertions, each step waits with a generous bound (BOUND_MS, Playwright's timeout) and prints
what it measured. bench/bench_editor.py holds the precise figure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.conftest import Editor

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
BOUND_MS = 60_000  # a bound for a loaded 2-core machine; each wait returns when answered
# A default deny for ingress in kube-system: every pod loses its way to the DNS pods.
DENY_DNS = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-dns, namespace: kube-system}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


@pytest.fixture(scope="module")
def big_cluster(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cluster")
    args = ["--namespaces", "200", "--pods", "5-10", "--policies", "1-3", "--seed", "7"]
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gen_cluster.py"), *args, "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (out / "meta.json").unlink()  # podwall reads every .json under -f DIR
    return out


@pytest.fixture
def big_page(chromium: Any, big_cluster: Path) -> Iterator[Any]:
    server = Editor([big_cluster])
    context = chromium.new_context(viewport={"width": 1500, "height": 1000})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        timed("load", lambda: page.goto(server.url), page, "body[data-ready=true]")
        yield page
    finally:
        context.close()
        server.stop()
    assert not errors, "\n".join(errors)


def timed(step: str, act: Callable[[], Any], page: Any, selector: str) -> float:
    """Do `act`, wait for `selector` within BOUND_MS, print and return the seconds taken."""
    started = time.perf_counter()
    act()
    page.wait_for_selector(selector, timeout=BOUND_MS, state="attached")
    seconds = time.perf_counter() - started
    print(f"editor at 1,500 pods: {step}: {seconds * 1000:.0f} ms")
    return seconds


def loaded(page: Any) -> int:
    return int(page.get_by_test_id("grid").get_attribute("data-loaded") or 0)


def answered(page: Any) -> str:
    """A selector that appears once the grid answers a request made after now."""
    return f"[data-testid=grid]:not([data-loaded='{loaded(page)}'])"


def row_labels(page: Any) -> list[str]:
    return [str(t) for t in page.locator("[data-testid=grid-row]").evaluate_all(
        "rows => rows.map(r => r.title)"
    )]  # fmt: skip


def test_every_view_answers_on_a_1500_pod_cluster(big_page: Any, shot: Any) -> None:
    page = big_page
    timed("matrix tab", lambda: page.get_by_test_id("tab-matrix").click(), page, "[data-loaded]")
    summary = page.get_by_test_id("grid-summary").inner_text()
    assert "pods" in summary
    assert "1518 pods" in summary
    cells = page.locator("[data-testid=grid-cell]").count()
    assert 0 < cells < 2000  # only the visible window, not 586 x 586

    timed("show", lambda: page.get_by_test_id("matrix-go").click(), page, answered(page))

    select = page.get_by_test_id("grid-namespace")
    timed("filter namespace", lambda: select.select_option("ns-0042"), page, answered(page))
    labels = row_labels(page)
    assert labels
    assert all(label.startswith("ns-0042/") for label in labels)
    select.select_option("")
    page.wait_for_selector(answered(page), timeout=BOUND_MS, state="attached")

    text = page.get_by_test_id("grid-text")
    timed("filter text", lambda: text.fill("cache"), page, answered(page))
    labels = row_labels(page)
    assert labels
    assert all("cache" in label for label in labels)
    text.fill("")
    page.wait_for_selector(answered(page), timeout=BOUND_MS, state="attached")

    body = page.get_by_test_id("grid-body")
    timed(
        "scroll",
        lambda: body.evaluate("b => { b.scrollTop = 8000; b.scrollLeft = 6000; }"),
        page,
        f"[data-testid=grid-row][data-index='{8000 // 26}']",
    )
    assert page.locator("[data-testid=grid-cell]").count() < 2000
    shot(page, "matrix-scale")

    timed(
        "drill-down",
        lambda: page.locator(
            f"[data-testid=grid-cell][data-r='{8000 // 26 + 2}'][data-c='{6000 // 96 + 2}']"
        ).click(),
        page,
        "[data-testid=grid-pair]",
    )
    timed(
        "explain",
        lambda: page.get_by_test_id("grid-explain").first.click(),
        page,
        "[data-testid=try-explanation]",
    )

    def open_draft() -> None:
        page.locator("#btn-import").click()
        page.get_by_test_id("import-text").fill(DENY_DNS)
        page.get_by_test_id("import-draft").click()
        page.get_by_test_id("tab-matrix").click()

    timed("draft diff", open_draft, page, "[data-testid=diff][data-loaded]")
    denied = page.get_by_test_id("diff-denied").inner_text()
    assert "kube-system/coredns-0" in denied
    assert "now ingress denied (isolated by kube-system/deny-dns" in denied
    changed = page.get_by_test_id("grid-changed")
    timed("only changes", lambda: changed.check(), page, answered(page))
    shot(page, "matrix-scale-diff")
    marked = page.locator("[data-testid=grid-cell].changed")
    assert marked.count() > 0
    assert all(label.startswith("kube-system/") for label in page.locator(
        "[data-testid=grid-col]").evaluate_all("cols => cols.map(c => c.title)"))  # fmt: skip

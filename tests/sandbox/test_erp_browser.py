"""The sandbox ERP in a real headless Chromium: login, add-row post-back without JavaScript, posting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.erp import serve_in_thread
from sandbox.masterdata import DEFAULT_SEED, generate_master_data

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def erp_page(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make setup`")
    from playwright.sync_api import sync_playwright

    with serve_in_thread(tmp_path / "erp.db") as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(java_script_enabled=False)  # the screens must work without it
            yield url, page
        finally:
            browser.close()


def test_robot_flow_in_a_real_browser(erp_page: tuple[str, Any]) -> None:
    url, page = erp_page
    po = next(po for po in generate_master_data(DEFAULT_SEED).purchase_orders if len(po.lines) == 1)
    line = po.lines[0]

    page.goto(f"{url}/invoices/new?po_number={po.po_number}")
    assert page.locator("#login-form").is_visible()
    page.fill("#username", "ap-robot")
    page.fill("#password", "robot-pass-1")
    page.click("#btn-login")
    assert page.input_value("#po_number") == po.po_number  # back on the page first asked for

    page.fill("#invoice_number", "BROWSER-1")
    page.fill("#invoice_date", "14.03.2026")
    page.fill("#line-1-description", line.description)
    page.click("#btn-add-row")
    assert page.locator("tr.line-row").count() == 4
    assert page.input_value("#invoice_number") == "BROWSER-1"

    amount = line.quantity * line.unit_price
    page.fill("#line-1-quantity", str(line.quantity))
    page.fill("#line-1-unit_price", str(line.unit_price))
    page.fill("#line-1-amount", str(amount))
    page.fill("#subtotal", str(amount))
    page.fill("#tax_amount", "0")
    page.fill("#total", str(amount + 1))
    page.click("#btn-post")
    assert page.get_attribute("#error-summary li.error", "data-code") == "TOTAL_MISMATCH"
    assert page.locator("#err-total .field-error").is_visible()

    page.fill("#total", str(amount))
    page.fill("#external_ref", "browser-ref-1")
    page.click("#btn-post")
    doc_number = page.text_content("#doc-number")
    assert doc_number is not None and doc_number.startswith("DOC-")

    page.goto(f"{url}/invoices/search")
    page.fill("#external_ref", "browser-ref-1")
    page.click("#btn-search")
    assert page.text_content("#result-count") == "1"
    assert page.text_content("#invoice-list tr.data-row td.col-doc_number") == doc_number

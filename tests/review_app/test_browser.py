"""The review app in a real headless Chromium: sign in, work an exception end to end, check the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ledgerbot.core.store import Store
from ledgerbot.core.store.models import DocumentRow, ExtractionRow
from tests.review_app.conftest import sign_in as _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_work_an_exception_end_to_end(
    server: str, browser: Any, seeded: dict[str, int], sqlite_store: Store, shots: Path
) -> None:
    document_id = seeded["price"]
    carol = _sign_in(browser, server, "carol")

    # The queue shows what the store holds.
    rows = carol.locator("#queue tbody tr")
    assert rows.count() == 2
    row = carol.locator(f'tr[data-href="/documents/{document_id}"]')
    assert "PRICE_VARIANCE" in row.inner_text()
    assert "1368.50 EUR" in row.inner_text()
    assert "Acme Tools GmbH" in row.inner_text()
    # HTML in a vendor name reaches the page as text.
    assert carol.get_by_text("Bolt & Nut <b>Ltd</b>").count() == 1
    carol.screenshot(path=str(shots / "queue.png"), full_page=True)

    # Keyboard: j selects the first row, Enter opens it.
    carol.keyboard.press("j")
    first_href = carol.locator("#queue tbody tr.selected").get_attribute("data-href")
    carol.keyboard.press("Enter")
    carol.wait_for_url(f"{server}{first_href}")
    # Back in the queue, j then c claims the selected row.
    carol.goto(f"{server}/queue")
    carol.keyboard.press("j")
    assert carol.locator("#queue tbody tr.selected").get_attribute("data-href") == f"/documents/{document_id}"
    carol.keyboard.press("c")
    carol.wait_for_selector(".notice")
    assert f"you claimed document {document_id}" in carol.locator(".notice").inner_text()
    carol.goto(f"{server}/documents/{document_id}")
    assert "claimed by carol" in carol.locator(".doc-head").inner_text()

    # The page image is rendered and the field boxes sit over it.
    image = carol.locator(".page img").first
    image.wait_for()
    carol.wait_for_function("document.querySelector('.page img').naturalWidth > 0")
    box = carol.locator('.box[data-field="total"]')
    assert box.evaluate("b => b.style.left").endswith("%")
    page_box = carol.locator(".page").first.bounding_box()
    total_box = box.bounding_box()
    assert page_box and total_box
    assert page_box["x"] + page_box["width"] * 0.7 < total_box["x"] < page_box["x"] + page_box["width"]
    assert carol.locator("#f-total").input_value() == "1368.50"
    assert "PRICE_VARIANCE" in carol.locator("#exceptions").inner_text()
    assert carol.locator("#approve").count() == 0  # a clerk is not offered approval
    carol.screenshot(path=str(shots / "document-before.png"), full_page=True)

    # Correct the line, then the header totals, confirming the shaky PO number.
    carol.fill("input[name='line-0.unit_price']", "100.00")
    carol.fill("input[name='line-0.amount']", "1000.00")
    carol.click("#save-lines")
    carol.wait_for_selector(".notice")
    carol.fill("#f-subtotal", "1000.00")
    carol.fill("#f-tax_amount", "190.00")
    carol.fill("#f-total", "1190.00")
    carol.check("#confirm-po_number")
    carol.click("#save-fields")
    carol.wait_for_selector(".notice")
    assert "re-validated: matched" in carol.locator(".notice").inner_text()
    assert carol.locator("#doc-state").inner_text() == "matched"
    assert carol.locator("#f-total").input_value() == "1190.00"

    # A second person, an approver, approves.
    alice = _sign_in(browser, server, "alice")
    queue_row = alice.locator(f'tr[data-href="/documents/{document_id}"]')
    assert "READY_FOR_APPROVAL" in queue_row.inner_text()
    # carol's part is done: her claim passed back and the document waits for any approver.
    assert "carol" not in queue_row.inner_text()
    alice.goto(f"{server}/documents/{document_id}")
    alice.screenshot(path=str(shots / "document-ready.png"), full_page=True)
    alice.click("#approve")
    alice.wait_for_selector(".notice")
    assert alice.locator("#doc-state").inner_text() == "approved"
    history = alice.locator("#history").inner_text()
    assert "user:alice" in history and "approve" in history
    assert "user:carol" in history and "1368.50" in history and "1190.00" in history
    assert "line 1 unit_price: 115.00 → 100.00" in history
    alice.screenshot(path=str(shots / "document-approved.png"), full_page=True)

    # The page agrees with the store.
    with sqlite_store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None and document.state == "approved"
        current = session.scalars(
            select(ExtractionRow)
            .where(ExtractionRow.document_id == document_id)
            .order_by(ExtractionRow.id.desc())
        ).first()
        assert current is not None and current.created_by == "user:carol"
        assert current.result["fields"]["total"] == "1190.00"
    assert carol.errors == [] and alice.errors == []

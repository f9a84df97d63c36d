"""The review app's controls and a clerk's day in a real headless Chromium: four eyes by two sessions,
keyboard-only resolution, inline errors that keep the clerk's entries, the e-invoice view, downloads."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import ExceptionRow
from tests.extractors.test_einvoice import ubl_document
from tests.review_app import factory
from tests.review_app.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _add(store: Store, files: FileStore, spec: factory.InvoiceSpec, original: Any = None) -> int:
    with store.session() as session:
        return factory.exception_document(session, files, spec, original).id


def _approve(page: Any, note: str) -> None:
    """Approve on the open document page, giving an override reason when the page asks for one."""
    if page.locator("#approve-reason").count():
        page.select_option("#approve-reason", "contract_terms")
        page.fill("#approve-note", note)
    page.click("#approve")


def test_four_eyes_needs_two_approvers_and_a_clerks_edit_is_not_one(
    server: str, browser: Any, sqlite_store: Store, files: FileStore
) -> None:
    spec = factory.InvoiceSpec(
        invoice_number="RE-BIG-1",
        unit_price=Decimal("1000.00"),
        exceptions=[("AMOUNT_LIMIT", "Total 11900.00 is above the limit 10000.00", {"total": "11900.00"})],
    )
    document_id = _add(sqlite_store, files, spec)
    url = f"{server}/documents/{document_id}"

    carol = sign_in(browser, server, "carol")
    carol.goto(url)
    carol.check("#confirm-po_number")
    carol.click("#save-fields")
    carol.wait_for_selector(".notice")

    alice = sign_in(browser, server, "alice")
    alice.goto(url)
    _approve(alice, "framework contract 2026")
    alice.wait_for_selector(".notice")
    assert "needs a second approver" in alice.locator(".notice").inner_text()
    assert alice.locator("#doc-state").inner_text() != "approved"
    # The same approver twice is still one pair of eyes.
    _approve(alice, "again")
    alice.wait_for_load_state()
    assert "E754" in alice.content()

    bob = sign_in(browser, server, "bob")
    bob.goto(url)
    assert "Approved so far by alice" in bob.locator(".panel").inner_text()
    _approve(bob, "checked the contract too")
    bob.wait_for_selector(".notice")
    assert bob.locator("#doc-state").inner_text() == "approved"
    history = bob.locator("#history").inner_text()
    assert "first_approval" in history and "user:bob" in history
    assert carol.errors == [] and bob.errors == []


def test_a_low_confidence_exception_is_resolved_by_keyboard_alone(
    server: str, browser: Any, sqlite_store: Store, files: FileStore, seeded: dict[str, int]
) -> None:
    spec = factory.InvoiceSpec(
        invoice_number="RE-LOW-1",
        unit_price=Decimal("100.00"),
        exceptions=[
            (
                "LOW_CONFIDENCE",
                "Field po_number was read with confidence 0.65 (minimum 0.80)",
                {"field": "po_number", "confidence": "0.650", "minimum": "0.800"},
            )
        ],
    )
    document_id = _add(sqlite_store, files, spec)
    carol = sign_in(browser, server, "carol")
    carol.goto(f"{server}/documents/{document_id}")
    carol.wait_for_selector("#fields-form")
    keystrokes = 0
    carol.keyboard.press("y")  # every shaky value is right as read: confirm, save, open the next one
    keystrokes += 1
    carol.wait_for_url(lambda url: f"/documents/{document_id}" not in url)
    assert keystrokes <= 6
    assert "1 change(s) saved, re-validated" in carol.locator(".notice").inner_text()
    with sqlite_store.session() as session:
        statuses = session.scalars(
            select(ExceptionRow.status).where(
                ExceptionRow.document_id == document_id, ExceptionRow.code == "LOW_CONFIDENCE"
            )
        ).all()
        assert statuses == ["resolved"]
    assert carol.errors == []


def test_a_refused_value_keeps_the_clerks_entries(
    server: str, browser: Any, seeded: dict[str, int], shots: Any
) -> None:
    carol = sign_in(browser, server, "carol")
    carol.goto(f"{server}/documents/{seeded['price']}")
    # Zoom and rotate from the keyboard, without leaving the page.
    page = carol.locator(".viewer .page").first
    width = page.bounding_box()["width"]
    carol.keyboard.press("+")
    assert page.bounding_box()["width"] > width * 1.2
    carol.keyboard.press("o")
    assert "rotate(90deg)" in page.evaluate("p => p.style.transform")
    carol.keyboard.press("o")
    carol.keyboard.press("o")
    carol.keyboard.press("o")
    carol.keyboard.press("-")
    carol.screenshot(path=str(shots / "document-1366.png"), full_page=True)
    carol.fill("#f-total", "12,x")
    carol.fill("#f-due_date", "31.12.2026")
    carol.fill("#f-vendor_iban", "DE89370400440532013001")
    carol.click("#save-fields")
    carol.wait_for_selector("#form-errors")
    assert carol.input_value("#f-total") == "12,x"
    assert carol.input_value("#f-due_date") == "31.12.2026"
    assert "mod 97" in carol.locator("#err-vendor_iban").inner_text()
    assert carol.locator("#err-total").count() == 1
    carol.fill("#f-total", "1.368,50")
    carol.fill("#f-vendor_iban", "DE89370400440532013000")
    carol.click("#save-fields")
    carol.wait_for_selector(".notice")
    assert "change(s) saved" in carol.locator(".notice").inner_text()
    assert carol.input_value("#f-due_date") == "2026-12-31"


def test_an_e_invoice_is_shown_from_its_xml_and_the_original_downloads(
    server: str, browser: Any, sqlite_store: Store, files: FileStore
) -> None:
    xml = ubl_document()
    document_id = _add(sqlite_store, files, factory.InvoiceSpec(invoice_number="RE-XML-1"), (xml, "ubl.xml"))
    carol = sign_in(browser, server, "carol")
    carol.goto(f"{server}/documents/{document_id}")
    view = carol.locator("#einvoice").inner_text()
    assert "Hex bolt M8x40" in view and "RE-2026-1001" in view
    assert "€1,190.00" in view and "€1,000.00" in view
    href = carol.locator("#download").get_attribute("href")
    response = carol.request.get(f"{server}{href}")
    assert response.status == 200 and response.body() == xml
    assert response.headers["content-disposition"].startswith("attachment")
    assert carol.errors == []

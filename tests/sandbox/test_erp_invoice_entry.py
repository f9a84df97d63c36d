"""The sandbox ERP's invoice-entry form, its server-side validation, posting and the posted-invoice search."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sandbox.erp.entry import HEADER_FIELDS, LINE_FIELDS
from sandbox.erp.formatting import format_amount
from sandbox.masterdata import DEFAULT_SEED, generate_master_data
from tests.sandbox.erp_support import (
    ErpClock,
    by_id,
    cell,
    data_rows,
    error_codes,
    field_error_codes,
    form_token,
    po_invoice,
    row_keys,
    tree,
)

MASTER = generate_master_data(DEFAULT_SEED)
# An open EUR order with a few lines, and an order of some other vendor.
PO = next(po for po in MASTER.purchase_orders if po.currency == "EUR" and 2 <= len(po.lines) <= 4)
OTHER_PO = next(po for po in MASTER.purchase_orders if po.vendor_id != PO.vendor_id and po.currency == "EUR")


def _posted_count(client: TestClient) -> int:
    return int(by_id(tree(client.get("/invoices/search")), "record-count"))


def _post(client: TestClient, data: dict[str, str]) -> Any:
    return client.post("/invoices/new", data=data, follow_redirects=False)


# -- the form itself ------------------------------------------------------------------------


def test_entry_form_has_every_documented_field(erp_client: TestClient) -> None:
    page = tree(erp_client.get("/invoices/new"))
    for name in HEADER_FIELDS:
        element = page.get_element_by_id(name)
        assert element.get("name") == name
        assert element.value == ("invoice" if name == "doc_type" else "")
    assert page.get_element_by_id("doc_type").value_options == ["invoice", "credit_note"]
    assert page.get_element_by_id("row_count").get("value") == "3"
    for index in (1, 2, 3):
        for name in LINE_FIELDS:
            assert page.get_element_by_id(f"line-{index}-{name}").get("name") == f"line-{index}-{name}"
    assert page.get_element_by_id("line-4-sku", None) is None
    assert len(page.get_element_by_id("form_token").get("value")) >= 20
    assert page.get_element_by_id("btn-post").get("value") == "post"
    assert page.get_element_by_id("btn-add-row").get("value") == "add_row"
    assert page.get_element_by_id("error-summary", None) is None


def test_entry_form_prefilled_from_order(erp_client: TestClient) -> None:
    page = tree(erp_client.get(f"/invoices/new?po_number={PO.po_number}"))
    assert page.get_element_by_id("po_number").get("value") == PO.po_number
    assert page.get_element_by_id("vendor_id").get("value") == PO.vendor_id
    assert page.get_element_by_id("currency").get("value") == PO.currency


def test_add_row_posts_back_with_one_more_row_and_keeps_input(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number, action="add_row", row_count="2")
    data["line-2-description"] = "typed before add row"
    response = _post(erp_client, data)
    assert response.status_code == 200
    page = tree(response)
    assert page.get_element_by_id("row_count").get("value") == "3"
    assert page.get_element_by_id("line-3-sku").get("value") == ""
    assert page.get_element_by_id("line-2-description").get("value") == "typed before add row"
    assert page.get_element_by_id("invoice_number").get("value") == data["invoice_number"]
    assert page.get_element_by_id("form_token").get("value") != data["form_token"]
    assert page.get_element_by_id("error-summary", None) is None  # adding a row does not validate
    assert _posted_count(erp_client) == 0


# -- posting --------------------------------------------------------------------------------


def test_valid_invoice_is_posted_with_document_number(erp_client: TestClient, erp_clock: ErpClock) -> None:
    data = po_invoice(erp_client, PO.po_number, external_ref="ledgerbot:doc-17:post-1")
    response = _post(erp_client, data)
    assert response.status_code == 303
    year = datetime.fromtimestamp(erp_clock.now, UTC).year
    assert response.headers["location"] == f"/invoices/DOC-{year}-000001?posted=1"
    page = tree(erp_client.get(response.headers["location"]))
    assert by_id(page, "doc-number") == f"DOC-{year}-000001"
    assert "posted" in by_id(page, "confirmation").lower()
    assert by_id(page, "field-vendor_id") == PO.vendor_id
    assert by_id(page, "field-invoice_number") == "RE-2026-1001"
    assert by_id(page, "field-invoice_date") == "14.03.2026"
    assert by_id(page, "field-due_date") == "13.04.2026"
    assert by_id(page, "field-po_number") == PO.po_number
    assert by_id(page, "field-external_ref") == "ledgerbot:doc-17:post-1"
    assert by_id(page, "field-posted_by") == "ap-robot"
    assert by_id(page, "field-total") == format_amount(Decimal(data["total"]))
    assert by_id(page, "field-posted_at") == datetime.fromtimestamp(erp_clock.now, UTC).strftime(
        "%d.%m.%Y %H:%M:%S"
    )
    rows = data_rows(page, "invoice-lines")
    assert [cell(r, "sku") for r in rows] == [ln.sku for ln in PO.lines]
    assert [cell(r, "amount") for r in rows] == [
        format_amount(ln.quantity * ln.unit_price) for ln in PO.lines
    ]
    # The detail screen without ?posted=1 has no confirmation box but the same document.
    plain = tree(erp_client.get(f"/invoices/DOC-{year}-000001"))
    assert plain.get_element_by_id("confirmation", None) is None
    assert by_id(plain, "field-doc_number") == f"DOC-{year}-000001"


def test_posted_invoice_persists_lines_user_ref_and_timestamp(
    erp_app: FastAPI, erp_client: TestClient
) -> None:
    response = _post(erp_client, po_invoice(erp_client, PO.po_number, external_ref="ref-1"))
    doc_number = response.headers["location"].split("/")[-1].split("?")[0]
    stored = erp_app.state.db.invoice(doc_number)
    assert stored["posted_by"] == "ap-robot" and stored["external_ref"] == "ref-1"
    assert stored["invoice_date"] == "2026-03-14" and stored["posted_at"].endswith("+00:00")
    assert [Decimal(ln["amount"]) for ln in stored["lines"]] == [
        ln.quantity * ln.unit_price for ln in PO.lines
    ]
    assert Decimal(stored["subtotal"]) + Decimal(stored["tax_amount"]) == Decimal(stored["total"])


def test_screen_style_amounts_and_blank_rows_are_accepted(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number)
    for name in ("subtotal", "tax_amount", "total"):
        data[name] = format_amount(Decimal(data[name]))  # 1.234,56 as the screens show numbers
    data["line-1-amount"] = format_amount(Decimal(data["line-1-amount"]))
    data["row_count"] = str(len(PO.lines) + 2)  # two trailing blank rows are ignored
    response = _post(erp_client, data)
    assert response.status_code == 303
    page = tree(erp_client.get(response.headers["location"]))
    assert len(data_rows(page, "invoice-lines")) == len(PO.lines)


def test_invoice_without_po_is_accepted(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number)
    data["po_number"] = ""
    response = _post(erp_client, data)
    assert response.status_code == 303
    assert by_id(tree(erp_client.get(response.headers["location"])), "field-po_number") == ""


def test_clerk_postings_record_the_clerk(erp_anon: TestClient) -> None:
    erp_anon.post("/login", data={"username": "clerk", "password": "clerk-pass-1", "next": "/"})
    response = _post(erp_anon, po_invoice(erp_anon, PO.po_number))
    assert by_id(tree(erp_anon.get(response.headers["location"])), "field-posted_by") == "clerk"


# -- validation -----------------------------------------------------------------------------


def _clear_lines(data: dict[str, str]) -> None:
    for key in [k for k in data if k.startswith("line-")]:
        data[key] = ""


def _bump(data: dict[str, str], *names: str) -> None:
    for name in names:
        data[name] = str(Decimal(data[name]) + 1)


CASES: list[tuple[str, Callable[[dict[str, str]], None], str, str]] = [
    ("unknown transaction", lambda d: d.update(doc_type="bill"), "doc_type", "DOC_TYPE_INVALID"),
    ("unknown vendor", lambda d: d.update(vendor_id="V9999"), "vendor_id", "VENDOR_UNKNOWN"),
    ("missing vendor", lambda d: d.update(vendor_id=""), "vendor_id", "VENDOR_MISSING"),
    ("missing invoice number", lambda d: d.update(invoice_number=""), "invoice_number",
     "INVOICE_NUMBER_MISSING"),
    ("ISO invoice date", lambda d: d.update(invoice_date="2026-03-14"), "invoice_date", "DATE_FORMAT"),
    ("impossible invoice date", lambda d: d.update(invoice_date="31.02.2026"), "invoice_date", "DATE_FORMAT"),
    ("missing invoice date", lambda d: d.update(invoice_date=""), "invoice_date", "DATE_MISSING"),
    ("bad due date", lambda d: d.update(due_date="13/04/2026"), "due_date", "DATE_FORMAT"),
    ("due before invoice", lambda d: d.update(due_date="01.03.2026"), "due_date", "DUE_BEFORE_INVOICE"),
    ("unknown PO", lambda d: d.update(po_number="PO-99999"), "po_number", "PO_NOT_FOUND"),
    ("PO of other vendor", lambda d: d.update(po_number=OTHER_PO.po_number), "po_number", "PO_OTHER_VENDOR"),
    ("bad currency", lambda d: d.update(currency="EURO"), "currency", "CURRENCY_INVALID"),
    ("currency not the PO's", lambda d: d.update(currency="USD"), "currency", "CURRENCY_MISMATCH"),
    ("non-numeric subtotal", lambda d: d.update(subtotal="12x"), "subtotal", "AMOUNT_INVALID"),
    ("three-decimal total", lambda d: d.update(total="10,005"), "total", "AMOUNT_INVALID"),
    ("missing tax", lambda d: d.update(tax_amount=""), "tax_amount", "AMOUNT_MISSING"),
    ("non-numeric quantity", lambda d: d.update({"line-1-quantity": "two"}), "line-1-quantity",
     "AMOUNT_INVALID"),
    ("non-numeric price", lambda d: d.update({"line-1-unit_price": "EUR 5"}), "line-1-unit_price",
     "AMOUNT_INVALID"),
    ("line amount != qty x price", lambda d: _bump(d, "line-1-amount"), "line-1-amount",
     "LINE_AMOUNT_MISMATCH"),
    ("line without text", lambda d: d.update({"line-1-sku": "", "line-1-description": ""}),
     "line-1-description", "LINE_DESCRIPTION_MISSING"),
    ("lines do not sum to subtotal", lambda d: _bump(d, "subtotal", "total"), "subtotal",
     "LINES_SUM_MISMATCH"),
    ("subtotal + tax != total", lambda d: _bump(d, "total"), "total", "TOTAL_MISMATCH"),
    ("no lines", _clear_lines, "lines", "LINES_MISSING"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_validation_error_is_shown_next_to_its_field(
    erp_client: TestClient, change: Callable[[dict[str, str]], None], field: str, code: str
) -> None:
    data = po_invoice(erp_client, PO.po_number)
    change(data)
    response = _post(erp_client, data)
    assert response.status_code == 422
    page = tree(response)
    assert error_codes(page) == {field: code}
    assert by_id(page, "error-count") == "1"
    assert field_error_codes(page, field) == [code]
    if field != "lines":
        assert page.get_element_by_id(field).get("class") == "err"
    # What was typed comes back unchanged, so the clerk (or robot) can correct it.
    for name in ("vendor_id", "invoice_number", "invoice_date", "subtotal", "line-1-quantity"):
        assert page.get_element_by_id(name).get("value") == data[name]
    assert _posted_count(erp_client) == 0


def test_several_errors_at_once(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number, vendor_id="V9999", invoice_number="", invoice_date="x")
    page = tree(_post(erp_client, data))
    assert error_codes(page) == {
        "vendor_id": "VENDOR_UNKNOWN",
        "invoice_number": "INVOICE_NUMBER_MISSING",
        "invoice_date": "DATE_FORMAT",
    }
    assert by_id(page, "error-count") == "3"


def test_corrected_form_posts_after_an_error(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number, invoice_date="2026-03-14")
    page = tree(_post(erp_client, data))
    data.update(invoice_date="14.03.2026", form_token=page.get_element_by_id("form_token").get("value"))
    assert _post(erp_client, data).status_code == 303


def test_credit_note_is_typed_with_negative_amounts(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number, doc_type="credit_note", invoice_number="CN-1")
    for key in [k for k in data if k.endswith("amount") or k in ("subtotal", "total")]:
        if data[key]:
            data[key] = str(-Decimal(data[key]))
    response = _post(erp_client, data)
    assert response.status_code == 303
    page = tree(erp_client.get(response.headers["location"]))
    assert by_id(page, "field-doc_type") == "credit_note"
    assert by_id(page, "field-total").startswith("-")
    search = tree(erp_client.get("/invoices/search", params={"invoice_number": "CN-1"}))
    assert cell(data_rows(search, "invoice-list")[0], "doc_type") == "credit_note"


def test_credit_note_with_positive_amounts_is_refused(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number, doc_type="credit_note")
    page = tree(_post(erp_client, data))
    codes = error_codes(page)
    assert codes["total"] == "SIGN_MISMATCH"
    assert codes["line-1-amount"] == "LINE_AMOUNT_MISMATCH"
    assert page.get_element_by_id("doc_type").value == "credit_note"  # the choice survives the round trip


def test_negative_invoice_must_be_a_credit_note(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number)
    # A discount line keeps the invoice consistent but drives it below zero.
    data.update({"row_count": "9", "line-9-description": "Bonus", "line-9-quantity": "1"})
    discount = Decimal(data["subtotal"]) + 100
    data.update({"line-9-unit_price": str(-discount), "line-9-amount": str(-discount)})
    data.update(subtotal="-100.00", tax_amount="-19.00", total="-119.00")
    assert error_codes(tree(_post(erp_client, data))) == {"total": "SIGN_MISMATCH"}


# -- duplicates and the form token ----------------------------------------------------------


def test_duplicate_invoice_number_for_same_vendor_is_refused(erp_client: TestClient) -> None:
    first = _post(erp_client, po_invoice(erp_client, PO.po_number, invoice_number="RE-2026-1001"))
    doc_number = first.headers["location"].split("/")[-1].split("?")[0]
    # Case and spacing do not make a different invoice number.
    again = _post(erp_client, po_invoice(erp_client, PO.po_number, invoice_number="re-2026- 1001"))
    assert again.status_code == 409
    page = tree(again)
    assert error_codes(page) == {"invoice_number": "DUPLICATE_INVOICE"}
    assert doc_number in by_id(page, "err-invoice_number")
    assert _posted_count(erp_client) == 1
    # The same number from another vendor is a different invoice.
    other = po_invoice(erp_client, OTHER_PO.po_number, invoice_number="RE-2026-1001")
    assert _post(erp_client, other).status_code == 303


def test_duplicate_external_ref_is_refused(erp_client: TestClient) -> None:
    assert _post(erp_client, po_invoice(erp_client, PO.po_number, external_ref="key-42")).status_code == 303
    data = po_invoice(erp_client, OTHER_PO.po_number, invoice_number="OTHER-1", external_ref="key-42")
    response = _post(erp_client, data)
    assert response.status_code == 409
    assert error_codes(tree(response)) == {"external_ref": "DUPLICATE_REF"}


def test_resubmitted_form_is_refused_not_posted_twice(erp_client: TestClient) -> None:
    data = po_invoice(erp_client, PO.po_number)
    assert _post(erp_client, data).status_code == 303
    data["invoice_number"] = "ANOTHER-NUMBER"  # even with other content, the token is spent
    response = _post(erp_client, data)
    assert response.status_code == 409
    page = tree(response)
    assert error_codes(page) == {"form": "FORM_TOKEN_INVALID"}
    assert field_error_codes(page, "form") == ["FORM_TOKEN_INVALID"]
    assert _posted_count(erp_client) == 1


@pytest.mark.parametrize("token", ["", "made-up-token"])
def test_missing_or_forged_token_is_refused(erp_client: TestClient, token: str) -> None:
    data = po_invoice(erp_client, PO.po_number, form_token=token)
    assert _post(erp_client, data).status_code == 409
    assert _posted_count(erp_client) == 0


def test_token_of_another_session_is_refused(erp_app: FastAPI, erp_client: TestClient) -> None:
    with TestClient(erp_app) as other:
        other.post("/login", data={"username": "clerk", "password": "clerk-pass-1", "next": "/"})
        foreign = form_token(other)
    data = po_invoice(erp_client, PO.po_number, form_token=foreign)
    assert error_codes(tree(_post(erp_client, data))) == {"form": "FORM_TOKEN_INVALID"}


# -- search ---------------------------------------------------------------------------------


def test_search_by_vendor_and_invoice_number_finds_the_posted_invoice(erp_client: TestClient) -> None:
    posted = _post(
        erp_client, po_invoice(erp_client, PO.po_number, invoice_number="INV-77", external_ref="r-77")
    )
    doc_number = posted.headers["location"].split("/")[-1].split("?")[0]
    _post(erp_client, po_invoice(erp_client, PO.po_number, invoice_number="INV-78"))

    page = tree(
        erp_client.get("/invoices/search", params={"vendor_id": PO.vendor_id, "invoice_number": "inv-77"})
    )
    assert by_id(page, "result-count") == "1"
    assert row_keys(page, "invoice-list") == [doc_number]
    row = data_rows(page, "invoice-list")[0]
    assert cell(row, "doc_number") == doc_number
    assert cell(row, "invoice_number") == "INV-77"
    assert cell(row, "external_ref") == "r-77"
    assert cell(row, "posted_by") == "ap-robot"

    by_ref = tree(erp_client.get("/invoices/search", params={"external_ref": "r-77"}))
    assert row_keys(by_ref, "invoice-list") == [doc_number]
    wrong_vendor = tree(
        erp_client.get(
            "/invoices/search", params={"vendor_id": OTHER_PO.vendor_id, "invoice_number": "INV-77"}
        )
    )
    assert by_id(wrong_vendor, "result-count") == "0"
    assert "No records" in by_id(wrong_vendor, "no-records")


def test_posted_invoice_list_is_paginated_newest_first(erp_client: TestClient) -> None:
    for number in range(22):
        assert (
            _post(erp_client, po_invoice(erp_client, PO.po_number, invoice_number=f"P-{number}")).status_code
            == 303
        )
    first = tree(erp_client.get("/invoices/search"))
    assert first.get_element_by_id("search-summary", None) is None
    assert by_id(first, "record-count") == "22" and by_id(first, "page-count") == "2"
    assert [cell(r, "invoice_number") for r in data_rows(first, "invoice-list")][:2] == ["P-21", "P-20"]
    second = tree(erp_client.get(first.get_element_by_id("page-next").get("href")))
    assert [cell(r, "invoice_number") for r in data_rows(second, "invoice-list")] == ["P-1", "P-0"]
    assert erp_client.get("/invoices").url.path == "/invoices/search"

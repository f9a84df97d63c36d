"""Helpers for the sandbox ERP tests: a settable clock, page parsing, and a valid invoice to post."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from lxml import html


class ErpClock:
    """A settable clock for the ERP: tests expire sessions by moving it, not by sleeping."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tree(response: Any) -> html.HtmlElement:
    return html.fromstring(response.text)


def by_id(page: html.HtmlElement, element_id: str) -> str:
    """Text of the element with this id; fails the test when the element is missing."""
    found = page.get_element_by_id(element_id, None)
    assert found is not None, f"no element #{element_id}"
    return found.text_content().strip()


def data_rows(page: html.HtmlElement, table_id: str) -> list[html.HtmlElement]:
    return page.xpath(f"//*[@id='{table_id}']//tr[@class='data-row']")


def cell(row: html.HtmlElement, column: str) -> str:
    """Text of a row's ``col-<column>`` cell."""
    found = row.xpath(f"td[contains(concat(' ', @class, ' '), ' col-{column} ')]")
    assert found, f"no column {column}"
    return found[0].text_content().strip()


def screen_number(text: str) -> Decimal:
    """``1.234,56`` as shown on a screen -> Decimal."""
    return Decimal(text.replace(".", "").replace(",", "."))


def row_keys(page: html.HtmlElement, table_id: str) -> list[str]:
    return [row.get("data-key") for row in data_rows(page, table_id)]


def error_codes(page: html.HtmlElement) -> dict[str, str]:
    """field -> code for every error in the summary box."""
    return {
        li.get("data-field"): li.get("data-code")
        for li in page.xpath("//*[@id='error-summary']//li[@class='error']")
    }


def field_error_codes(page: html.HtmlElement, field: str) -> list[str]:
    """Codes printed next to one field (``err-<field>``)."""
    return [
        span.get("data-code") for span in page.xpath(f"//*[@id='err-{field}']//span[@class='field-error']")
    ]


def form_token(client: TestClient) -> str:
    page = tree(client.get("/invoices/new"))
    return page.get_element_by_id("form_token").get("value")


def order_lines(client: TestClient, po_number: str) -> tuple[str, str, list[dict[str, str]]]:
    """(vendor id, currency, lines) of a PO as its detail screen shows them, typed as the entry form wants."""
    page = tree(client.get(f"/orders/{po_number}"))
    vendor = by_id(page, "field-vendor_id")
    currency = by_id(page, "field-currency")
    lines = []
    for row in data_rows(page, "po-lines"):
        text = {name: cell(row, name) for name in ("sku", "description")}
        qty = screen_number(cell(row, "quantity"))
        price = screen_number(cell(row, "unit_price"))
        lines.append({**text, "quantity": str(qty), "unit_price": str(price), "amount": str(qty * price)})
    return vendor, currency, lines


def po_invoice(client: TestClient, po_number: str, **overrides: Any) -> dict[str, str]:
    """A consistent invoice over every line of a PO, with a fresh form token."""
    vendor, currency, lines = order_lines(client, po_number)
    data = invoice_data(vendor, po_number, lines, currency=currency)
    data.update(overrides)
    data.setdefault("form_token", form_token(client))
    return data


def invoice_data(
    vendor_id: str,
    po_number: str | None,
    lines: list[dict[str, str]],
    *,
    invoice_number: str = "RE-2026-1001",
    tax_rate: Decimal = Decimal("0.19"),
    currency: str = "EUR",
    **overrides: str,
) -> dict[str, str]:
    """Form fields of a consistent invoice (sums add up) for the entry screen."""
    subtotal = sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))
    tax = (subtotal * tax_rate).quantize(Decimal("0.01"))
    data = {
        "vendor_id": vendor_id,
        "invoice_number": invoice_number,
        "invoice_date": "14.03.2026",
        "due_date": "13.04.2026",
        "po_number": po_number or "",
        "currency": currency,
        "subtotal": str(subtotal),
        "tax_amount": str(tax),
        "total": str(subtotal + tax),
        "external_ref": "",
        "row_count": str(max(len(lines), 1)),
        "action": "post",
    }
    for index, line in enumerate(lines, start=1):
        for name, value in line.items():
            data[f"line-{index}-{name}"] = value
    data.update(overrides)
    return data

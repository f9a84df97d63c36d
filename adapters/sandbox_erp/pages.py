"""Page objects for the sandbox ERP, one per screen; every selector of that system lives here.

Each page knows how to reach itself, how to tell it is showing, and how to read or fill its
fields, returning domain values (Decimal, date) rather than screen text.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import html as lxml_html
from playwright.sync_api import Page

from ledgerbot.core.errors import ApplicationError

_DMY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


class UnexpectedScreen(ApplicationError):
    code = "E740"


def erp_amount(text: str) -> Decimal:
    """``1.234,56`` (the ERP's display format) -> Decimal('1234.56')."""
    clean = text.strip().replace("\xa0", "").replace(".", "").replace(",", ".")
    try:
        return Decimal(clean) if clean else Decimal(0)
    except InvalidOperation as error:
        raise UnexpectedScreen(f"the ERP showed {text!r} where a number belongs") from error


def erp_date(text: str) -> date | None:
    match = _DMY.match(text.strip())
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    return date(year, month, day)


def typed(value: Decimal) -> str:
    """How the robot types numbers: plain digits with a dot, no grouping (the ERP accepts it)."""
    return format(value, "f")


def dmy(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def _tree(html: str) -> Any:
    return lxml_html.fromstring(html)


def _text_of(tree: Any, element_id: str) -> str:
    found = tree.xpath(f"//*[@id='{element_id}']")
    return found[0].text_content().strip() if found else ""


def grid_rows(html: str, table_id: str) -> list[dict[str, str]]:
    """Every data row of a grid as {column: text}, read from the cells' ``col-*`` classes."""
    rows = []
    for tr in _tree(html).xpath(f"//table[@id='{table_id}']//tr[contains(@class, 'data-row')]"):
        row = {}
        for td in tr.xpath("./td"):
            column = next((c[4:] for c in (td.get("class") or "").split() if c.startswith("col-")), None)
            if column:
                row[column] = td.text_content().strip()
        rows.append(row)
    return rows


def is_login_screen(html: str) -> bool:
    return bool(_tree(html).xpath("//form[@id='login-form']"))


class _Screen:
    path = "/"
    marker = "#frame"

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base_url}{self.path}{query}")

    def text(self, selector: str) -> str:
        return (self.page.locator(selector).first.text_content() or "").strip()

    def rows(self, table: str) -> list[dict[str, str]]:
        return grid_rows(self.page.content(), table.lstrip("#"))


class LoginPage(_Screen):
    path = "/login"

    def is_showing(self) -> bool:
        return self.page.locator("#login-form").count() > 0

    def log_in(self, username: str, password: str) -> None:
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("#btn-login")
        self.page.wait_for_load_state("domcontentloaded")

    def error(self) -> str | None:
        locator = self.page.locator("#login-error")
        return locator.text_content() if locator.count() else None


class _ListScreen(_Screen):
    table = ""

    @classmethod
    def parse_page(cls, html: str) -> tuple[list[dict[str, str]], bool]:
        """The rows of one list page and whether a next page exists."""
        has_next = bool(_tree(html).xpath("//*[@id='page-next']"))
        return grid_rows(html, cls.table.lstrip("#")), has_next


class VendorListPage(_ListScreen):
    path = "/vendors"
    table = "#vendor-list"


class VendorDetailPage(_Screen):
    @staticmethod
    def path_for(vendor_id: str) -> str:
        return f"/vendors/{vendor_id}"

    @staticmethod
    def parse(html: str) -> dict[str, Any]:
        tree = _tree(html)

        def field(name: str) -> str | None:
            return _text_of(tree, f"field-{name}") or None

        return {
            "vendor_id": field("vendor_id"),
            "name": field("name"),
            "tax_id": field("tax_id"),
            "iban": (field("iban") or "").replace(" ", "") or None,
            "bic": field("bic"),
            "currency": field("currency"),
            "address": {
                "street": field("street"),
                "postal_code": field("postal_code"),
                "city": field("city"),
                "country": field("country"),
            },
        }


class OrderListPage(_ListScreen):
    path = "/orders"
    table = "#order-list"


class OrderDetailPage(_Screen):
    @staticmethod
    def path_for(po_number: str) -> str:
        return f"/orders/{po_number}"

    @staticmethod
    def parse(html: str) -> dict[str, Any]:
        tree = _tree(html)
        lines = [
            {
                "line_no": int(row["line_no"]),
                "sku": row.get("sku") or None,
                "description": row.get("description", ""),
                "quantity": erp_amount(row["quantity"]),
                "unit_price": erp_amount(row["unit_price"]),
            }
            for row in grid_rows(html, "po-lines")
        ]
        return {
            "po_number": _text_of(tree, "field-po_number"),
            "vendor_id": _text_of(tree, "field-vendor_id"),
            "currency": _text_of(tree, "field-currency"),
            "status": _text_of(tree, "field-status"),
            "order_date": erp_date(_text_of(tree, "field-order_date")),
            "company": _text_of(tree, "field-company") or None,
            "lines": lines,
        }


class ReceiptListPage(_ListScreen):
    path = "/receipts"
    table = "#receipt-list"


class ReceiptDetailPage(_Screen):
    @staticmethod
    def path_for(receipt_number: str) -> str:
        return f"/receipts/{receipt_number}"

    @staticmethod
    def parse(html: str) -> dict[str, Any]:
        tree = _tree(html)
        return {
            "receipt_number": _text_of(tree, "field-receipt_number"),
            "po_number": _text_of(tree, "field-po_number"),
            "date": erp_date(_text_of(tree, "field-date")),
            "lines": [
                {"po_line_no": int(row["po_line_no"]), "quantity": erp_amount(row["quantity"])}
                for row in grid_rows(html, "receipt-lines")
            ],
        }


class InvoiceSearchPage(_ListScreen):
    path = "/invoices/search"
    table = "#invoice-list"

    def search(self, vendor_id: str, invoice_number: str) -> list[dict[str, str]]:
        """Search on the screen that is showing (the robot opens it first)."""
        self.page.fill("#vendor_id", vendor_id)
        self.page.fill("#invoice_number", invoice_number)
        self.page.click("#btn-search")
        self.page.wait_for_load_state("domcontentloaded")
        return [
            row
            for row in self.rows(self.table)
            if row.get("vendor_id") == vendor_id and row.get("invoice_number") == invoice_number
        ]


class InvoiceEntryPage(_Screen):
    path = "/invoices/new"

    def is_showing(self) -> bool:
        return self.page.locator("#invoice-form").count() > 0

    def row_count(self) -> int:
        return self.page.locator("#invoice-lines tr.line-row").count()

    def ensure_rows(self, wanted: int) -> None:
        # "Add row" posts the form back: fields typed so far survive the round trip.
        while self.row_count() < wanted:
            before = self.row_count()
            self.page.click("#btn-add-row")
            self.page.wait_for_load_state("domcontentloaded")
            if self.row_count() <= before:
                raise UnexpectedScreen("the ERP did not add an item row")

    def choose_transaction(self, doc_type: str) -> None:
        self.page.select_option("#doc_type", doc_type)

    def fill_header(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self.page.fill(f"#invoice-header #{name}", value)

    def fill_line(self, index: int, values: dict[str, str]) -> None:
        for name, value in values.items():
            self.page.fill(f"#line-{index}-{name}", value)

    def submit(self) -> None:
        self.page.click("#btn-post")
        self.page.wait_for_load_state("domcontentloaded")

    def errors(self) -> list[dict[str, str]]:
        script = """() => Array.from(document.querySelectorAll('#error-summary li.error')).map(li => ({
            code: li.dataset.code || '', field: li.dataset.field || '', message: li.textContent.trim()}))"""
        result: list[dict[str, str]] = self.page.evaluate(script)
        return result


class InvoiceDetailPage(_Screen):
    @staticmethod
    def path_for(doc_number: str) -> str:
        return f"/invoices/{doc_number}"

    @staticmethod
    def parse(html: str) -> dict[str, Any] | None:
        """A posted invoice in the shape of ``TargetInvoice``, or None on a not-found screen."""
        tree = _tree(html)
        if not tree.xpath('//*[@id="field-doc_number"]'):
            return None
        lines = [
            {
                "sku": row.get("sku") or None,
                "description": row.get("description", ""),
                "quantity": erp_amount(row["quantity"]),
                "unit_price": erp_amount(row["unit_price"]),
                "amount": erp_amount(row["amount"]),
            }
            for row in grid_rows(html, "invoice-lines")
        ]
        return {
            "doc_type": _text_of(tree, "field-doc_type").strip().lower().replace(" ", "_") or "invoice",
            "vendor_id": _text_of(tree, "field-vendor_id"),
            "invoice_number": _text_of(tree, "field-invoice_number"),
            "invoice_date": erp_date(_text_of(tree, "field-invoice_date")),
            "due_date": erp_date(_text_of(tree, "field-due_date")),
            "po_number": _text_of(tree, "field-po_number") or None,
            "currency": _text_of(tree, "field-currency"),
            "subtotal": erp_amount(_text_of(tree, "field-subtotal")),
            "tax_amount": erp_amount(_text_of(tree, "field-tax_amount")),
            "total": erp_amount(_text_of(tree, "field-total")),
            "external_ref": _text_of(tree, "field-external_ref"),
            "lines": lines,
        }

    def is_confirmation(self) -> bool:
        return self.page.locator("#confirmation").count() > 0 or self.page.locator("#doc-number").count() > 0

    def doc_number(self) -> str:
        return self.text("#doc-number") or self.text("#field-doc_number")

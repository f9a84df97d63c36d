"""The invoice-entry screen's form model: read the posted fields, validate them as the ERP does, and post.

Every refusal is a ``FieldError`` with a stable ``code`` and the form field it belongs to, so
the page can print it next to that field and a robot can read the code from ``data-code``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sandbox.erp.db import ErpDatabase, invoice_number_key
from sandbox.erp.formatting import FormatError, parse_date, parse_number

HEADER_FIELDS = (
    "doc_type",
    "vendor_id",
    "invoice_number",
    "invoice_date",
    "due_date",
    "po_number",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "external_ref",
)
# Credit notes are typed with negative amounts, as ``ledgerbot extract`` reports them.
DOC_TYPES = ("invoice", "credit_note")
LINE_FIELDS = ("sku", "description", "quantity", "unit_price", "amount")
DEFAULT_ROWS = 3
MAX_ROWS = 60
_CURRENCY = re.compile(r"^[A-Z]{3}$")
CENT = Decimal("0.01")


def line_field(index: int, name: str) -> str:
    """Form name of a line cell, 1-based: ``line-2-unit_price``."""
    return f"line-{index}-{name}"


@dataclass(frozen=True)
class FieldError:
    field: str  # form field name, or "form" for errors about the whole form
    code: str
    message: str


@dataclass
class InvoiceForm:
    """What the clerk typed, kept as text so a re-rendered form shows it unchanged."""

    header: dict[str, str] = field(
        default_factory=lambda: {**dict.fromkeys(HEADER_FIELDS, ""), "doc_type": "invoice"}
    )
    lines: list[dict[str, str]] = field(
        default_factory=lambda: [dict.fromkeys(LINE_FIELDS, "") for _ in range(DEFAULT_ROWS)]
    )

    @classmethod
    def from_form(cls, data: Mapping[str, Any]) -> InvoiceForm:
        header = {name: str(data.get(name, "") or "").strip() for name in HEADER_FIELDS}
        header["doc_type"] = header["doc_type"] or "invoice"
        try:
            rows = int(str(data.get("row_count", DEFAULT_ROWS)))
        except ValueError:
            rows = DEFAULT_ROWS
        rows = min(max(rows, 1), MAX_ROWS)
        lines = [
            {name: str(data.get(line_field(i, name), "") or "").strip() for name in LINE_FIELDS}
            for i in range(1, rows + 1)
        ]
        return cls(header=header, lines=lines)

    def add_row(self) -> None:
        if len(self.lines) < MAX_ROWS:
            self.lines.append(dict.fromkeys(LINE_FIELDS, ""))


@dataclass(frozen=True)
class ValidInvoice:
    doc_type: str
    vendor_id: str
    invoice_number: str
    invoice_date: date
    due_date: date | None
    po_number: str | None
    currency: str
    subtotal: Decimal
    tax_amount: Decimal
    total: Decimal
    external_ref: str | None
    lines: list[dict[str, Any]]


def _amount(errors: list[FieldError], name: str, text: str, *, places: int, label: str) -> Decimal | None:
    if not text:
        errors.append(FieldError(name, "AMOUNT_MISSING", f"{label} is required"))
        return None
    try:
        return parse_number(text, max_places=places)
    except FormatError:
        errors.append(
            FieldError(
                name, "AMOUNT_INVALID", f"{label} '{text}' is not a valid number (max. {places} decimals)"
            )
        )
        return None


def validate(form: InvoiceForm, db: ErpDatabase) -> tuple[ValidInvoice | None, list[FieldError]]:
    """All the ERP's checks except the duplicate ones, which run inside the posting transaction."""
    errors: list[FieldError] = []
    h = form.header

    doc_type = h["doc_type"]
    if doc_type not in DOC_TYPES:
        errors.append(
            FieldError("doc_type", "DOC_TYPE_INVALID", "Transaction must be invoice or credit_note")
        )
    sign = -1 if doc_type == "credit_note" else 1

    vendor = None
    if not h["vendor_id"]:
        errors.append(FieldError("vendor_id", "VENDOR_MISSING", "Vendor is required"))
    else:
        vendor = db.vendor(h["vendor_id"])
        if vendor is None:
            errors.append(
                FieldError("vendor_id", "VENDOR_UNKNOWN", f"Vendor {h['vendor_id']} does not exist")
            )

    if not h["invoice_number"]:
        errors.append(FieldError("invoice_number", "INVOICE_NUMBER_MISSING", "Invoice number is required"))
    elif len(h["invoice_number"]) > 40:
        errors.append(
            FieldError("invoice_number", "INVOICE_NUMBER_TOO_LONG", "Invoice number: max. 40 characters")
        )

    invoice_date = due_date = None
    if not h["invoice_date"]:
        errors.append(FieldError("invoice_date", "DATE_MISSING", "Invoice date is required"))
    else:
        try:
            invoice_date = parse_date(h["invoice_date"])
        except FormatError:
            errors.append(FieldError("invoice_date", "DATE_FORMAT", "Invoice date must be DD.MM.YYYY"))
    if h["due_date"]:
        try:
            due_date = parse_date(h["due_date"])
        except FormatError:
            errors.append(FieldError("due_date", "DATE_FORMAT", "Due date must be DD.MM.YYYY"))
    if invoice_date and due_date and due_date < invoice_date:
        errors.append(FieldError("due_date", "DUE_BEFORE_INVOICE", "Due date is before the invoice date"))

    currency = h["currency"].upper()
    if not _CURRENCY.match(currency):
        errors.append(FieldError("currency", "CURRENCY_INVALID", "Currency must be a 3-letter ISO code"))

    po_number = h["po_number"].upper() or None
    if po_number:
        order = db.order(po_number)
        if order is None:
            errors.append(FieldError("po_number", "PO_NOT_FOUND", f"Purchase order {po_number} not found"))
        elif vendor is not None and order["vendor_id"] != vendor["vendor_id"]:
            errors.append(
                FieldError(
                    "po_number", "PO_OTHER_VENDOR", f"Purchase order {po_number} belongs to another vendor"
                )
            )
        elif _CURRENCY.match(currency) and order["currency"] != currency:
            errors.append(
                FieldError(
                    "currency", "CURRENCY_MISMATCH", f"Purchase order {po_number} is in {order['currency']}"
                )
            )

    subtotal = _amount(errors, "subtotal", h["subtotal"], places=2, label="Subtotal")
    tax = _amount(errors, "tax_amount", h["tax_amount"], places=2, label="Tax")
    total = _amount(errors, "total", h["total"], places=2, label="Total")

    lines: list[dict[str, Any]] = []
    lines_ok = True
    for index, raw in enumerate(form.lines, start=1):
        if not any(raw.values()):
            continue  # blank rows are ignored, as the legacy grid does
        before = len(errors)
        qty = _amount(
            errors, line_field(index, "quantity"), raw["quantity"], places=3, label=f"Line {index} quantity"
        )
        price = _amount(
            errors,
            line_field(index, "unit_price"),
            raw["unit_price"],
            places=4,
            label=f"Line {index} unit price",
        )
        amount = _amount(
            errors, line_field(index, "amount"), raw["amount"], places=2, label=f"Line {index} amount"
        )
        if not raw["description"] and not raw["sku"]:
            errors.append(
                FieldError(
                    line_field(index, "description"),
                    "LINE_DESCRIPTION_MISSING",
                    f"Line {index}: SKU or description required",
                )
            )
        if qty is not None and price is not None and amount is not None:
            expected = (sign * qty * price).quantize(CENT)
            if abs(expected - amount) > CENT:
                errors.append(
                    FieldError(
                        line_field(index, "amount"),
                        "LINE_AMOUNT_MISMATCH",
                        f"Line {index}: quantity x unit price = {expected}, not {amount}",
                    )
                )
        if len(errors) > before:
            lines_ok = False
            continue
        lines.append(
            {
                "sku": raw["sku"] or None,
                "description": raw["description"],
                "quantity": qty,
                "unit_price": price,
                "amount": amount,
            }
        )
    if lines_ok and not lines:
        errors.append(FieldError("lines", "LINES_MISSING", "At least one invoice line is required"))
    if lines_ok and lines and subtotal is not None:
        line_sum = sum((ln["amount"] for ln in lines), Decimal(0))
        if line_sum != subtotal:
            errors.append(
                FieldError(
                    "subtotal", "LINES_SUM_MISMATCH", f"Lines add up to {line_sum}, subtotal is {subtotal}"
                )
            )
    if subtotal is not None and tax is not None and total is not None and subtotal + tax != total:
        errors.append(
            FieldError(
                "total", "TOTAL_MISMATCH", f"Subtotal {subtotal} + tax {tax} = {subtotal + tax}, not {total}"
            )
        )
    if total is not None and doc_type in DOC_TYPES and total * sign < 0:
        message = (
            "Credit note amounts are entered as negative numbers"
            if sign < 0
            else "Gross amount of an invoice cannot be negative; enter a credit note instead"
        )
        errors.append(FieldError("total", "SIGN_MISMATCH", message))
    if len(h["external_ref"]) > 120:
        errors.append(FieldError("external_ref", "REF_TOO_LONG", "External reference: max. 120 characters"))

    if errors or vendor is None or invoice_date is None or subtotal is None or tax is None or total is None:
        return None, errors
    return (
        ValidInvoice(
            doc_type=doc_type,
            vendor_id=vendor["vendor_id"],
            invoice_number=h["invoice_number"],
            invoice_date=invoice_date,
            due_date=due_date,
            po_number=po_number,
            currency=currency,
            subtotal=subtotal,
            tax_amount=tax,
            total=total,
            external_ref=h["external_ref"] or None,
            lines=lines,
        ),
        [],
    )


def post_invoice(
    db: ErpDatabase, invoice: ValidInvoice, *, user: str, now: float
) -> tuple[str | None, list[FieldError]]:
    """Number and store a validated invoice; refuses duplicates inside the same write lock."""
    posted_at = datetime.fromtimestamp(now, UTC)
    key = invoice_number_key(invoice.invoice_number)
    with db.transaction() as conn:
        existing = conn.execute(
            "SELECT doc_number FROM invoices WHERE vendor_id = ? AND invoice_number_key = ?",
            (invoice.vendor_id, key),
        ).fetchone()
        if existing:
            return None, [
                FieldError(
                    "invoice_number",
                    "DUPLICATE_INVOICE",
                    f"Invoice {invoice.invoice_number} of vendor {invoice.vendor_id} is already posted "
                    f"as {existing['doc_number']}",
                )
            ]
        if invoice.external_ref:
            existing = conn.execute(
                "SELECT doc_number FROM invoices WHERE external_ref = ?", (invoice.external_ref,)
            ).fetchone()
            if existing:
                return None, [
                    FieldError(
                        "external_ref",
                        "DUPLICATE_REF",
                        f"Reference {invoice.external_ref} is already posted as {existing['doc_number']}",
                    )
                ]
        seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM invoices").fetchone()[0]
        doc_number = f"DOC-{posted_at.year}-{seq:06d}"
        conn.execute(
            "INSERT INTO invoices (doc_number, seq, doc_type, vendor_id, invoice_number, invoice_number_key, "
            "invoice_date, due_date, po_number, currency, subtotal, tax_amount, total, external_ref, "
            "posted_by, posted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                doc_number,
                seq,
                invoice.doc_type,
                invoice.vendor_id,
                invoice.invoice_number,
                key,
                invoice.invoice_date.isoformat(),
                invoice.due_date.isoformat() if invoice.due_date else None,
                invoice.po_number,
                invoice.currency,
                str(invoice.subtotal),
                str(invoice.tax_amount),
                str(invoice.total),
                invoice.external_ref,
                user,
                posted_at.isoformat(timespec="seconds"),
            ),
        )
        conn.executemany(
            "INSERT INTO invoice_lines VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    doc_number,
                    n,
                    ln["sku"],
                    ln["description"],
                    str(ln["quantity"]),
                    str(ln["unit_price"]),
                    str(ln["amount"]),
                )
                for n, ln in enumerate(invoice.lines, start=1)
            ],
        )
    return doc_number, []

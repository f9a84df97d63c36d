"""Turns the rules' reason codes and evidence into words and numbers a clerk reads at a glance.

Codes stay visible in small print (clerks and auditors search for them); evidence keys become
labels, 0-based line indexes are counted from 1 like the messages count them, amounts are
formatted in the user's locale and a reference to another document becomes a link to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from review_app.validation import show_money, show_number

REASON_WORDS: dict[str, str] = {
    "DOC_TYPE_NOT_PAYABLE": "Not an invoice or credit note",
    "MISSING_FIELD": "A required field is missing",
    "LINE_AMOUNT_MISMATCH": "A line's amount is not quantity × price",
    "SUBTOTAL_MISMATCH": "Lines do not add up to the subtotal",
    "TOTAL_MISMATCH": "Subtotal and tax do not add up to the total",
    "TAX_RATE_IMPLAUSIBLE": "Tax rate looks wrong",
    "FUTURE_DATE": "Dated in the future",
    "DUE_BEFORE_INVOICE": "Due before it was issued",
    "CURRENCY_MISMATCH": "Currency differs from the order or vendor",
    "VENDOR_UNKNOWN": "Vendor not in the master data",
    "PO_VENDOR_MISMATCH": "Purchase order belongs to another vendor",
    "BANK_DETAILS_CHANGED": "Bank details differ from the vendor master",
    "DUPLICATE_SUSPECT": "Possible duplicate",
    "PO_NOT_FOUND": "Purchase order not found",
    "PO_CLOSED": "Purchase order is closed",
    "INVOICE_LINE_UNMATCHED": "Invoice line matches no order line",
    "PRICE_VARIANCE": "Price differs from the order",
    "QTY_ORDERED_EXCEEDED": "More invoiced than ordered",
    "QTY_RECEIVED_EXCEEDED": "More invoiced than received",
    "NO_RECEIPT": "Nothing received yet",
    "CREDIT_EXCEEDS_INVOICED": "Credit exceeds what was invoiced",
    "AMOUNT_LIMIT": "Above the amount limit",
    "LOW_CONFIDENCE": "Read with low confidence",
    "SPLIT_UNCERTAIN": "Where the file's documents begin is uncertain",
    "READY_FOR_APPROVAL": "Corrected, waiting for approval",
}
KEY_WORDS: dict[str, str] = {
    "invoice_line": "Invoice line",
    "invoice_lines": "Invoice lines",
    "po_line_no": "PO line",
    "po_number": "PO",
    "invoice_price": "Invoiced price",
    "po_price": "Ordered price",
    "difference": "Difference",
    "variance_pct": "Variance",
    "limit_pct": "Allowed",
    "limit_abs": "Allowed",
    "ordered": "Ordered",
    "received": "Received",
    "invoiced_before": "Invoiced before",
    "invoiced_now": "Invoiced now",
    "invoiced_total": "Invoiced in all",
    "total": "Total",
    "limit": "Limit",
    "vendor_id": "Vendor",
    "invoice_iban": "IBAN on the invoice",
    "master_iban": "IBAN on file",
    "rule": "Matched on",
    "invoice_number": "Invoice no.",
    "other_invoice_number": "Other invoice no.",
    "other_source": "Other document",
    "other_status": "Other's state",
    "field": "Field",
    "confidence": "Confidence",
    "minimum": "Minimum",
    "pages": "Pages in the file",
    "splitter": "Split by",
    "doubtful_pages": "Unsure at pages",
}
# Keys whose values are 0-based positions in the invoice's lines.
_LINE_INDEXES = frozenset({"invoice_line", "invoice_lines"})
_MONEY = frozenset({"invoice_price", "po_price", "difference", "total", "limit", "limit_abs", "amount"})
_QUANTITY = frozenset({"ordered", "received", "invoiced_before", "invoiced_now", "invoiced_total"})
_PERCENT = frozenset({"variance_pct", "limit_pct"})
_DOCUMENT = re.compile(r"doc:(\d{1,10})")


@dataclass(frozen=True)
class Item:
    label: str
    text: str
    key: str  # the raw evidence key, in small print
    link: str | None = None


def words(code: str) -> str:
    return REASON_WORDS.get(code, code.replace("_", " ").capitalize())


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _text(key: str, value: Any, currency: str | None, locale: str) -> str:
    if value is None:
        return "—"
    if key in _LINE_INDEXES:
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(int(v) + 1) if isinstance(v, int) else str(v) for v in values)
    number = _number(value) if not isinstance(value, bool) else None
    if number is not None and number.is_finite():
        if key in _MONEY:
            return show_money(number, currency, locale)
        if key in _PERCENT:
            return f"{show_number(number, locale)} %"
        if key in _QUANTITY:
            return show_number(number, locale)
        if key in ("confidence", "minimum"):
            return f"{round(number * 100)} %"
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return str(value).replace("_", " ") if key == "rule" else str(value)


def describe(evidence: dict[str, Any], currency: str | None, locale: str) -> list[Item]:
    """Evidence as labelled, formatted items in the order the rules wrote them."""
    out = []
    for key, value in evidence.items():
        link = None
        if isinstance(value, str) and (found := _DOCUMENT.fullmatch(value)):
            link = f"/documents/{found.group(1)}"
        label = KEY_WORDS.get(key, key.replace("_", " ").capitalize())
        out.append(Item(label=label, text=_text(key, value, currency, locale), key=key, link=link))
    return out


def other_document(evidence: dict[str, Any]) -> int | None:
    """The document a duplicate suspicion points at, when it names one (``doc:20``)."""
    value = evidence.get("other_source")
    found = _DOCUMENT.fullmatch(value) if isinstance(value, str) else None
    return int(found.group(1)) if found else None

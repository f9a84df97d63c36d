"""Builds consistent cases (the contract's JSON shape) that tests then bend one way or another."""

from __future__ import annotations

import copy
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rules.case import Case, parse_case

CENT = Decimal("0.01")
VENDOR = {
    "vendor_id": "V001",
    "name": "Acme Tools GmbH",
    "tax_id": "DE123456789",
    "iban": "DE89370400440532013000",
    "currency": "EUR",
    "address": {"country": "DE"},
}
OTHER_VENDOR = {
    "vendor_id": "V002",
    "name": "Lumière Fournitures SARL",
    "tax_id": "FR12345678901",
    "iban": "FR7630004000031234567890143",
    "currency": "EUR",
    "address": {"country": "FR"},
}
CATALOGUE = [
    ("HX-10020", "Hex bolt M8x40, box of 100", "100.00"),
    ("WS-10131", "Washer DIN 125 M12, box of 500", "12.50"),
    ("TN-10279", "Toner cartridge black TK-5240", "89.90"),
    ("PA-10242", "Copy paper A4 80g, carton of 5 reams", "24.95"),
    ("SF-10451", "Safety shoes S3 size 43", "64.00"),
]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def s(value: Decimal) -> str:
    return format(value, "f")


def invoice_doc(
    lines: list[tuple[str | None, str, Decimal, Decimal]],
    *,
    number: str = "RE-2026-1001",
    po_number: str | None = "PO-45012",
    rate: Decimal = Decimal("19"),
    doc_type: str = "invoice",
    invoice_date: str = "2026-03-14",
    vendor: dict[str, Any] = VENDOR,
) -> dict[str, Any]:
    """An arithmetically consistent document; ``lines`` are (sku, description, quantity, unit price)."""
    sign = Decimal(-1) if doc_type == "credit_note" else Decimal(1)
    out_lines: list[dict[str, Any]] = []
    for sku, description, qty, price in lines:
        amount = sign * money(qty * price)
        out_lines.append(
            {
                "description": description,
                "sku": sku,
                "quantity": s(qty),
                "unit_price": s(price),
                "amount": s(amount),
            }
        )
    subtotal = sum((Decimal(line["amount"]) for line in out_lines), Decimal("0.00"))
    tax = sign * money(abs(subtotal) * rate / 100)
    return {
        "doc_type": doc_type,
        "doc_type_confidence": 0.99,
        "fields": {
            "vendor_name": vendor["name"],
            "vendor_tax_id": vendor["tax_id"],
            "vendor_iban": vendor["iban"],
            "invoice_number": number,
            "invoice_date": invoice_date,
            "due_date": "2026-04-13",
            "po_number": po_number,
            "currency": "EUR",
            "subtotal": s(subtotal),
            "tax_amount": s(tax),
            "total": s(subtotal + tax),
        },
        "field_confidence": {"total": 0.99, "invoice_number": 0.98},
        "lines": out_lines,
    }


def clean_case(n_lines: int = 3, *, received_fraction: Decimal = Decimal(1)) -> dict[str, Any]:
    """An invoice billing exactly what was ordered and received: it must match."""
    picks = CATALOGUE[:n_lines]
    po_lines: list[dict[str, Any]] = [
        {
            "line_no": i + 1,
            "sku": sku,
            "description": desc,
            "quantity": str(10 * (i + 1)),
            "unit_price": price,
        }
        for i, (sku, desc, price) in enumerate(picks)
    ]
    receipt_lines: list[dict[str, Any]] = [
        {"po_line_no": line["line_no"], "quantity": s(Decimal(line["quantity"]) * received_fraction)}
        for line in po_lines
    ]
    invoice = invoice_doc(
        [
            (line["sku"], line["description"], Decimal(r["quantity"]), Decimal(line["unit_price"]))
            for line, r in zip(po_lines, receipt_lines, strict=True)
        ]
    )
    return {
        "invoice": invoice,
        "vendors": [copy.deepcopy(VENDOR), copy.deepcopy(OTHER_VENDOR)],
        "purchase_orders": [
            {
                "po_number": "PO-45012",
                "vendor_id": "V001",
                "currency": "EUR",
                "status": "open",
                "company": "1000",
                "lines": po_lines,
            }
        ],
        "receipts": [
            {"receipt_number": "GR-1", "po_number": "PO-45012", "date": "2026-03-10", "lines": receipt_lines}
        ],
        "history": [],
        "today": "2026-03-20",
    }


def restate(case: dict[str, Any]) -> dict[str, Any]:
    """Recompute line amounts and header sums after a test changed quantities or prices."""
    doc = case["invoice"]
    sign = Decimal(-1) if doc["doc_type"] == "credit_note" else Decimal(1)
    for line in doc["lines"]:
        line["amount"] = s(sign * money(Decimal(line["quantity"]) * Decimal(line["unit_price"])))
    subtotal = sum((Decimal(line["amount"]) for line in doc["lines"]), Decimal("0.00"))
    tax = sign * money(abs(subtotal) * Decimal(19) / 100)
    doc["fields"].update(subtotal=s(subtotal), tax_amount=s(tax), total=s(subtotal + tax))
    return case


def to_case(data: dict[str, Any]) -> Case:
    return parse_case(copy.deepcopy(data))

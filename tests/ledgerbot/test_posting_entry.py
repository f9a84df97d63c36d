"""What the posting service types into the target: the header, the lines and their order lines."""

from __future__ import annotations

from decimal import Decimal

from ledgerbot.core.domain import ExtractionResult
from ledgerbot.core.store.models import DocumentRow
from ledgerbot.posting import erp_invoice


def _result() -> ExtractionResult:
    return ExtractionResult.model_validate(
        {
            "source": "x.pdf",
            "doc_type": "invoice",
            "fields": {
                "invoice_number": "INV-7",
                "invoice_date": "2026-03-14",
                "currency": "EUR",
                "subtotal": "150.00",
                "tax_amount": "28.50",
                "total": "178.50",
            },
            "lines": [
                {"description": "Bolts", "quantity": "10", "unit_price": "10.00", "amount": "100.00"},
                {"description": "Nuts", "quantity": "5", "unit_price": "10.00", "amount": "50.00"},
            ],
        }
    )


def test_lines_carry_the_order_line_the_rules_engine_matched() -> None:
    document = DocumentRow(id=7, sha256="ab" * 32, vendor_id="V0001")
    entry = erp_invoice(document, _result(), {1: 3})
    assert [line.po_line_no for line in entry.lines] == [None, 3]
    assert entry.external_ref.startswith("LB-7-") and entry.total == Decimal("178.50")


def test_without_a_match_no_line_is_linked() -> None:
    document = DocumentRow(id=8, sha256="cd" * 32, vendor_id="V0001")
    assert [line.po_line_no for line in erp_invoice(document, _result()).lines] == [None, None]

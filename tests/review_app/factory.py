"""Builds review-ready documents: a real PDF through intake, an extraction with boxes, exceptions."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ledgerbot.core.domain import DocState
from ledgerbot.core.lifecycle import Actor, transition
from ledgerbot.core.store import FileStore
from ledgerbot.core.store.models import (
    DocumentRow,
    ExceptionRow,
    ExtractionRow,
    GoodsReceiptRow,
    POLineRow,
    PurchaseOrderRow,
    ReceiptLineRow,
    VendorRow,
)
from ledgerbot.intake import receive
from review_app.security import add_user

PASSWORD = "correct horse battery"
PAGE_W, PAGE_H = 595.0, 842.0
PIPELINE = Actor(name="pipeline", component="tests.factory")


@dataclass
class InvoiceSpec:
    vendor_id: str = "V001"
    vendor_name: str = "Acme Tools GmbH"
    invoice_number: str = "RE-2026-1001"
    po_number: str | None = "PO-45012"
    iban: str = "DE89370400440532013000"
    unit_price: Decimal = Decimal("115.00")
    quantity: Decimal = Decimal("10")
    field_confidence: dict[str, float] = field(
        default_factory=lambda: {"invoice_number": 0.98, "total": 0.99, "po_number": 0.65}
    )
    exceptions: list[tuple[str, str, dict[str, Any]]] = field(
        default_factory=lambda: [
            (
                "PRICE_VARIANCE",
                "Line 1: unit price 115.00 is 15.0% above PO price 100.00 (limit 2%)",
                {"invoice_line": 0, "po_line_no": 1, "invoice_price": "115.00", "po_price": "100.00"},
            )
        ]
    )

    @property
    def subtotal(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * Decimal("0.19")).quantize(Decimal("0.01"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


def invoice_pdf(spec: InvoiceSpec) -> tuple[bytes, dict[str, dict[str, Any]]]:
    """A one-page invoice PDF and the boxes (PDF points from the top-left) of its header values."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    boxes: dict[str, dict[str, Any]] = {}

    def put(x: float, y_top: float, text: str, name: str | None = None, size: float = 11) -> None:
        pdf.setFont("Helvetica", size)
        pdf.drawString(x, PAGE_H - y_top - size, text)
        if name:
            width = stringWidth(text, "Helvetica", size)
            boxes[name] = {"page": 1, "bbox": [x - 1, y_top - 1, x + width + 1, y_top + size + 2]}

    put(50, 50, spec.vendor_name, "vendor_name", size=16)
    put(50, 75, f"IBAN {spec.iban}")
    put(380, 120, "Invoice")
    put(460, 120, spec.invoice_number, "invoice_number")
    put(380, 140, "Date")
    put(460, 140, "2026-03-14", "invoice_date")
    if spec.po_number:
        put(380, 160, "Your order")
        put(460, 160, spec.po_number, "po_number")
    put(50, 230, "Hex bolt M8x40, box of 100")
    put(260, 230, "HX-10020")
    put(340, 230, str(spec.quantity))
    put(400, 230, f"{spec.unit_price}")
    put(480, 230, f"{spec.subtotal}")
    put(380, 300, "Subtotal")
    put(480, 300, f"{spec.subtotal}", "subtotal")
    put(380, 320, "VAT 19%")
    put(480, 320, f"{spec.tax}", "tax_amount")
    put(380, 345, "Total EUR")
    put(480, 345, f"{spec.total}", "total", size=12)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue(), boxes


def master_data(session: Session) -> None:
    """One vendor, one open PO with one line, fully received."""
    if session.get(VendorRow, "V001") is not None:
        return
    session.add(
        VendorRow(
            vendor_id="V001", name="Acme Tools GmbH", tax_id="DE123456789", iban="DE89370400440532013000"
        )
    )
    session.add(
        VendorRow(vendor_id="V002", name="Bolt & Nut <b>Ltd</b>", tax_id="GB999999973", currency="GBP")
    )
    order = PurchaseOrderRow(
        po_number="PO-45012", vendor_id="V001", currency="EUR", status="open", company="1000"
    )
    order.lines.append(
        POLineRow(
            line_no=1,
            sku="HX-10020",
            description="Hex bolt M8x40, box of 100",
            quantity=Decimal("10"),
            unit_price=Decimal("100.00"),
        )
    )
    session.add(order)
    other = PurchaseOrderRow(
        po_number="PO-45013", vendor_id="V001", currency="EUR", status="open", company="1000"
    )
    other.lines.append(
        POLineRow(
            line_no=1,
            sku="HX-10020",
            description="Hex bolt",
            quantity=Decimal("50"),
            unit_price=Decimal("115.00"),
        )
    )
    session.add(other)
    receipt = GoodsReceiptRow(receipt_number="GR-1", po_number="PO-45012", date=date(2026, 3, 10))
    receipt.lines.append(ReceiptLineRow(po_line_no=1, quantity=Decimal("10")))
    session.add(receipt)
    session.flush()


def exception_document(
    session: Session,
    files: FileStore,
    spec: InvoiceSpec | None = None,
    original: tuple[bytes, str] | None = None,
) -> DocumentRow:
    """An invoice that went through the pipeline and stopped in ``exception`` with ``spec.exceptions``.

    The original is a one-page PDF drawn from ``spec``, or ``original`` (content, file name).
    """
    spec = spec or InvoiceSpec()
    master_data(session)
    data, boxes = invoice_pdf(spec)
    filename = f"{spec.invoice_number}.pdf"
    if original is not None:
        (data, filename), boxes = original, {}
    document = receive(session, files, data, filename=filename, source="test")
    for state in (DocState.PARSED, DocState.CLASSIFIED, DocState.EXTRACTED, DocState.VALIDATED):
        transition(session, document, state, actor=PIPELINE, stage=state.value)
    document.doc_type = "invoice"
    document.doc_type_confidence = 0.99
    document.vendor_id = spec.vendor_id
    result = {
        "source": document.filename,
        "doc_type": "invoice",
        "doc_type_confidence": 0.99,
        "method": "generic",
        "fields": {
            "vendor_name": spec.vendor_name,
            "vendor_tax_id": "DE123456789" if spec.vendor_id == "V001" else None,
            "vendor_iban": spec.iban,
            "invoice_number": spec.invoice_number,
            "invoice_date": "2026-03-14",
            "due_date": None,
            "po_number": spec.po_number,
            "currency": "EUR",
            "subtotal": str(spec.subtotal),
            "tax_amount": str(spec.tax),
            "total": str(spec.total),
        },
        "field_confidence": dict(spec.field_confidence),
        "field_boxes": boxes,
        "lines": [
            {
                "description": "Hex bolt M8x40, box of 100",
                "sku": "HX-10020",
                "quantity": str(spec.quantity),
                "unit_price": str(spec.unit_price),
                "amount": str(spec.subtotal),
            }
        ],
        "errors": [],
        "lineage": {"extractor": "generic@test"},
    }
    session.add(
        ExtractionRow(document_id=document.id, method="generic", result=result, created_by="pipeline")
    )
    for code, message, evidence in spec.exceptions:
        session.add(ExceptionRow(document_id=document.id, code=code, message=message, evidence=evidence))
    transition(session, document, DocState.EXCEPTION, actor=PIPELINE, stage="validate", outcome="exception")
    session.flush()
    return document


def users(session: Session) -> None:
    for name, role in (("carol", "clerk"), ("alice", "approver"), ("bob", "approver"), ("root", "admin")):
        add_user(session, name, PASSWORD, role)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)
